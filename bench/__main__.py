"""``python -m bench [--smoke] [--only B1,B2,...] [--out PATH]`` (``make bench``): see ``bench/__init__.py``."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, machine

ALL = ("B1", "B2", "B3", "B4", "B5", "B6")
# (full, smoke) counts
COUNTS = {
    "b1_requests": (200, 10),
    "b2_runs": (7, 1),
    "b3_requests": (1000, 40),
    "b3_concurrency": (32, 8),
    # after the burst's background work is done: seconds for idle workers to be reaped before memory is read
    "b3_settle_s": (40, 0),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts (CI): every benchmark runs, quickly")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated: B1,B2,B3,B4,B5,B6 (default all)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    only = [b.strip().upper() for b in args.only.split(",") if b.strip()]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    counts = {k: v[1] if args.smoke else v[0] for k, v in COUNTS.items()}

    results: dict[str, Any] = {"mode": "smoke" if args.smoke else "full", "machine": machine(), "counts": counts}
    failures: list[str] = []
    began = time.perf_counter()

    def step(name: str, work: Callable[[], dict[str, Any]], render: Callable[[dict[str, Any]], str]) -> None:
        if name not in only:
            return
        print(f"\n[{name}] running …", flush=True)
        started = time.perf_counter()
        try:
            result = work()
        except Exception as exc:  # one benchmark failing still reports the others
            traceback.print_exc()
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            return
        result["seconds"] = round(time.perf_counter() - started, 1)
        results[name] = result
        print(render(result), flush=True)

    from bench import burst, cold, cost, memory, sizes, warm

    step("B5", sizes.run, sizes.render)
    step("B1", lambda: warm.run(requests=counts["b1_requests"]), warm.render)
    if {"B2", "B3", "B4", "B6"} & set(only):
        from bench import localstack

        with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp:
            print("\n[local stack] starting …", flush=True)
            try:
                stack_cm = localstack.running(Path(tmp), max_workers=4)
                stack = stack_cm.__enter__()
            except Exception as exc:
                traceback.print_exc()
                for name in ("B2", "B3", "B4", "B6"):
                    if name in only:
                        failures.append(f"{name}: the local stack did not start: {exc}")
                        results[name] = {"error": f"the local stack did not start: {type(exc).__name__}"}
            else:
                try:
                    info = stack.info
                    configs = localstack.function_configurations(info)
                    step("B2", lambda: cold.run(info, configs, runs=counts["b2_runs"], smoke=args.smoke), cold.render)
                    step("B4", lambda: cost.run(info, configs, stack.recording), cost.render)
                    step(
                        "B3",
                        lambda: burst.run(
                            info,
                            stack.process.pid,
                            requests=counts["b3_requests"],
                            concurrency=counts["b3_concurrency"],
                            settle_seconds=counts["b3_settle_s"],
                        ),
                        burst.render,
                    )
                    step("B6", lambda: memory.run(info, configs), memory.render)
                finally:
                    stack_cm.__exit__(None, None, None)

    results["seconds"] = round(time.perf_counter() - began, 1)
    results["failures"] = failures
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    m = results["machine"]
    print(
        f"\nmachine: {m['cores']} cores, {m['cpu']}, Python {m['python']}, {m['date_utc']} — "
        f"{results['mode']} run in {results['seconds']} s → {args.out}"
    )
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
