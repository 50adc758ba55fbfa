"""B6 — peak memory per function: the high-water mark of resident memory (``VmHWM`` in
``/proc/<pid>/status``) of each of the local runtime's worker processes (``GET /_local/workers``),
read after the other benchmarks ran on the stack, vs the function's MemorySize. A worker is the
project's interpreter with the function's handler imported and its invocations served, as a Lambda
execution environment is; it also carries the local runtime's small worker loop. The bare baseline
is the bare function's worker (``BenchBareFunction``)."""

from __future__ import annotations

from typing import Any

from bench.common import ratio, rss_kb, table


def run(info: dict[str, Any], configs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from bench.localstack import BARE_FUNCTION, admin

    answer = admin(info, "GET", "/workers")
    workers = answer["workers"]
    # The runtime stops idle workers (a background function's last one too) and keeps what they
    # reached: the peak of the stopped ones counts with the live ones'.
    kept_peaks = answer.get("peak_mb") or {}
    started = answer.get("started") or {}
    functions = {}
    for name, pids in sorted(workers.items()):
        peaks = [p / 1024 for p in (rss_kb(pid, "VmHWM") for pid in pids) if p]
        if kept_peaks.get(name):
            peaks.append(float(kept_peaks[name]))
        if not peaks:
            continue  # never started (nothing invoked it)
        peak_mb = max(peaks)
        memory_mb = int(configs.get(name, {}).get("MemorySize", 128))
        functions[name] = {
            "workers": max(len(pids), int(started.get(name, 0))),
            "peak_mb": round(peak_mb, 1),
            "memory_size_mb": memory_mb,
            "share_of_memory_size": ratio(peak_mb, memory_mb),
        }
    bare = functions.pop(BARE_FUNCTION, None)
    return {
        "what": "peak RSS (VmHWM) of the local runtime's workers per function, MB, vs MemorySize",
        "functions": functions,
        "bare": bare,
    }


def render(result: dict[str, Any]) -> str:
    bare = result["bare"] or {}
    rows = [
        [
            name,
            row["peak_mb"],
            row["memory_size_mb"],
            row["share_of_memory_size"],
            row["workers"],
            ratio(row["peak_mb"], bare.get("peak_mb", 0.0)),
        ]
        for name, row in sorted(result["functions"].items(), key=lambda kv: -kv[1]["peak_mb"])
    ]
    return table(
        f"B6 peak memory per function (MB; bare function {bare.get('peak_mb', '-')} MB)",
        ["function", "peak", "MemorySize", "share", "workers", "×bare"],
        rows,
    )
