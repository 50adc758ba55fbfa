"""``python -m orderbridge_local.burst``: a burst of Blink order webhooks at a local stack, measured
from outside (issue 12 point 4, issue 13 point 7).

    python -m orderbridge_local.burst --requests 1000 --concurrency 32 --runs 3

What one run does: first a wave of ``concurrency`` new orders at once, not counted, that scales the
webhook function's workers out (:func:`first_wave`: the burst starts once they are up and the
wave's background is done); then ``requests`` Blink Order Webhook calls for ``requests // 2``
distinct orders (each sent twice, the copies shuffled among the rest) at ``concurrency`` at once, with httpx,
through the stack's API front as Blink sends them; then, through the ops API, that every distinct
order is there exactly once (one order, one arrival in its timeline, one row in the day's list).
Figures: the answers' statuses, p50/p99 wall, the stack's memory (RSS of the stack process and of
its whole process tree: the function workers) before and after.

The baseline: a bare function (``bare/app.py``: import boto3, one client, answer) on the same
stack — the stack runs a copy of the template with that one function and its route
(``POST /_burst/bare``) added, so the same front, runtime and emulator serve both.

API for the benchmark (``make bench`` B3): :func:`burst` starts a stack, runs, stops and returns
a dict of figures; :func:`run_burst` runs once against a stack already started with
:func:`start_stack` (or any stack whose ``stack.json`` you have, without the bare route).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
BARE_CODE = Path(__file__).resolve().with_name("bare")
BARE_FUNCTION = "BurstBareFunction"
BARE_PATH = "/_burst/bare"
START_TIMEOUT_SECONDS = 180.0
REQUEST_TIMEOUT_SECONDS = 30.0
SCALE_OUT_PATIENCE_SECONDS = 120.0
SAMPLE_ORDER = REPO_ROOT / "tests" / "samples" / "blink_order_webhook.json"


# ------------------------------------------------------------------------------------ the stack


def burst_template(folder: Path, template: Path | None = None) -> Path:
    """A copy of the template (code paths made absolute) with the bare baseline function and its
    route added; the repository's template itself is not touched."""
    from samtranslator.yaml_helper import yaml_parse

    source = template or REPO_ROOT / "template.yaml"
    document = yaml_parse(source.read_text())
    for resource in document["Resources"].values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            value = props.get(key)
            if isinstance(value, str) and not value.startswith("s3://") and not Path(value).is_absolute():
                props[key] = str(source.resolve().parent / value)
    api = next((name for name, res in document["Resources"].items() if res.get("Type") == "AWS::Serverless::Api"), None)
    event: dict[str, Any] = {"Path": BARE_PATH, "Method": "post"}
    if api is not None:
        event["RestApiId"] = {"Ref": api}
    document["Resources"][BARE_FUNCTION] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Description": "the burst's bare baseline (local only)",
            "CodeUri": str(BARE_CODE),
            "Handler": "app.lambda_handler",
            "Policies": [],
            "Events": {"Bare": {"Type": "Api", "Properties": event}},
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "template.json"
    path.write_text(json.dumps(document, indent=1))
    return path


@dataclass
class StackProcess:
    """``python -m orderbridge_local run`` in a process group of its own."""

    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> dict[str, float]:
        """The stack process's resident memory, and its whole tree's (the function workers)."""
        return {"stack": rss_mb([self.pid]), "tree": rss_mb(process_tree(self.pid))}

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5.0)


def start_stack(
    folder: Path,
    *,
    max_workers: int = 4,
    overrides: dict[str, str] | None = None,
    template: Path | None = None,
) -> StackProcess:
    """A local stack on free ports with the bare route; returns once ``stack.json`` is written."""
    state_dir = folder / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    state = state_dir / "stack.json"
    log_path = folder / "stack.log"
    pairs = [f"{k}={v}" for k, v in (overrides or {}).items()]
    command = [
        sys.executable,
        "-m",
        "orderbridge_local",
        "run",
        "--port",
        "0",
        "--template",
        str(burst_template(folder, template)),
        "--state-dir",
        str(state_dir),
        "--max-workers",
        str(max_workers),
    ]
    if pairs:
        command += ["--parameter-overrides", *pairs]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    running = StackProcess(process, {}, log_path)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        if state.is_file():
            running.info = json.loads(state.read_text())
            return running
        time.sleep(0.2)
    running.stop()
    raise RuntimeError(f"the local stack did not start in {START_TIMEOUT_SECONDS:.0f} s")


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


# ------------------------------------------------------------------------------------ the burst


def blink_orders(count: int, prefix: str) -> dict[str, bytes]:
    """``count`` distinct Blink Order Webhook bodies (the vendor doc's sample, its ids made unique)."""
    sample = json.loads(SAMPLE_ORDER.read_text())
    out = {}
    for index in range(count):
        blink_id = f"{prefix}{index:05d}"
        out[blink_id] = json.dumps(
            {**sample, "blink_order_id": blink_id, "external_order_id": f"B-{blink_id}", "order_key": f"K-{blink_id}"}
        ).encode()
    return out


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (timeout, connection error)
    seconds: float
    error: str = ""


def fire(url: str, bodies: list[bytes], concurrency: int, *, timeout: float = REQUEST_TIMEOUT_SECONDS) -> list[Answer]:
    """POST every body to ``url``, ``concurrency`` at a time."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=timeout, trust_env=False, limits=limits) as client:

        def one(body: bytes) -> Answer:
            began = time.perf_counter()
            try:
                response = client.post(url, content=body, headers={"Content-Type": "application/json"})
                return Answer(response.status_code, time.perf_counter() - began)
            except httpx.HTTPError as exc:
                return Answer(0, time.perf_counter() - began, type(exc).__name__)

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="burst") as pool:
            return list(pool.map(one, bodies))


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))
    return ordered[index]


def figures(answers: list[Answer], wall: float) -> dict[str, Any]:
    seconds = [a.seconds for a in answers]
    return {
        "requests": len(answers),
        "statuses": {str(k): v for k, v in sorted(Counter(a.status for a in answers).items())},
        "all_2xx": all(200 <= a.status < 300 for a in answers),
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds, default=0.0) * 1000, 1),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 1) if seconds else 0.0,
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(answers) / wall, 1) if wall else 0.0,
    }


def check_orders(info: dict[str, Any], blink_ids: list[str], *, concurrency: int = 8) -> dict[str, Any]:
    """Through the ops API: each distinct order stored once, with one arrival in its timeline, and
    one row for it in the day's order list."""
    from orderbridge.domain.ids import order_id_for

    headers = {"X-Api-Key": info["ops_api_key"]}
    wanted = {order_id_for("blink", b): b for b in blink_ids}
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False, headers=headers) as client:

        def arrivals(order_id: str) -> int:
            for attempt in range(4):  # a slow answer under load is not a missing order; a 404 is
                try:
                    response = client.get(f"{info['api']}/ops/orders/{order_id}")
                except httpx.HTTPError:
                    continue
                if response.status_code < 500:
                    break
                time.sleep(0.5 * (attempt + 1))
            else:
                return 0
            if response.status_code != 200:
                return 0
            blink_id = wanted[order_id]
            return sum(
                1 for e in response.json().get("timeline") or [] if e.get("event_key") == f"blink:order:{blink_id}"
            )

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            counts = dict(zip(wanted, pool.map(arrivals, wanted), strict=True))
        listed: Counter[str] = Counter()
        cursor: str | None = None
        for _ in range(1000):
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = client.get(f"{info['api']}/ops/orders", params=params)
            if page.status_code != 200:
                break
            body = page.json()
            listed.update(o["order_id"] for o in body.get("orders") or [] if o.get("order_id") in wanted)
            cursor = body.get("next_cursor")
            if not cursor:
                break
    return {
        "orders_expected": len(wanted),
        "orders_found": sum(1 for c in counts.values() if c >= 1),
        "orders_missing": sum(1 for c in counts.values() if c == 0),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1) + sum(n - 1 for n in listed.values() if n > 1),
        "listed": len(listed),
    }


def run_burst(
    info: dict[str, Any],
    *,
    requests: int = 1000,
    concurrency: int = 32,
    prefix: str | None = None,
    check: bool = True,
    seed: int = 12,
) -> dict[str, Any]:
    """One burst of Blink order webhooks (``requests // 2`` orders, each twice) at a running stack."""
    distinct = max(1, requests // 2)
    orders = blink_orders(distinct, prefix or f"9{int(time.time()) % 10**6:06d}")
    bodies = [body for body in orders.values() for _ in range(2)][:requests]
    random.Random(seed).shuffle(bodies)
    since, began = time.time(), time.perf_counter()
    answers = fire(info["webhooks"]["blink_orders"], bodies, concurrency)
    out = {"target": "blink_orders", "concurrency": concurrency, **figures(answers, time.perf_counter() - began)}
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    out["where_time_went"] = where_time_went(info, since, "BlinkOrderWebhookFunction")
    if check:
        out.update(check_orders(info, list(orders)))
    return out


def where_time_went(info: dict[str, Any], since: float, function: str) -> dict[str, Any] | None:
    """From the stack's ``GET /_local/timings``: for ``function``'s API invocations since ``since``,
    the time waiting for a worker vs the handler's run (ms, p50/p99), the emulator's own time per
    AWS request of that function, the background lane and the DynamoDB lock. None if not told."""
    try:
        response = httpx.get(
            f"{info['admin']}/timings", params={"since": str(since)}, timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    body = response.json()
    front = (body["functions"].get(function) or {}).get("front") or {}
    emulator = body.get("emulator") or {}
    calls = {k.split(" ", 1)[1]: v for k, v in (emulator.get("requests") or {}).items() if k.startswith(function + " ")}
    background = {k: v for k, v in (emulator.get("requests") or {}).items() if not k.startswith(function + " ")}
    return {
        "invocations": front.get("invocations", 0),
        "queued_ms": front.get("queued_ms"),
        "handler_ms": front.get("handler_ms"),
        "total_ms": front.get("total_ms"),
        "emulator_per_request": calls,
        "emulator_other_requests": sum(v["requests"] for v in background.values()),
        "emulator_other_seconds": round(sum(v["total_s"] for v in background.values()), 1),
        "background_lane": body.get("background_lane"),
        "dynamodb_lock": emulator.get("dynamodb_lock"),
    }


def retained(info: dict[str, Any]) -> dict[str, Any] | None:
    """What the stack's emulator holds (``GET /_local/memory``), or None if it does not say."""
    try:
        response = httpx.get(f"{info['admin']}/memory", timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def drained(info: dict[str, Any], *, timeout: float = 900.0) -> float | None:
    """Seconds until the background work a burst caused (workflow tasks, stream batches) is done:
    no background invocation running or waiting, twice in a row; None if the stack does not say
    or it is not done within ``timeout``. Memory is read after this (and the idle workers' reaping)."""
    began = time.monotonic()
    calm = 0
    while time.monotonic() - began < timeout:
        background = (retained(info) or {}).get("background")
        if not background:
            return None
        calm = calm + 1 if (background["running"], background["waiting"]) == (0, 0) else 0
        if calm >= 2:
            return round(time.monotonic() - began, 1)
        time.sleep(1.0)
    return None


def first_wave(info: dict[str, Any], url: str, function: str, bodies: list[bytes], concurrency: int) -> dict[str, Any]:
    """The wave before a burst: ``bodies`` (``concurrency`` of them, new orders) at once, which grow
    the function's workers from the one the stack keeps warm to the burst's size; it returns once
    those workers are up (``scaled_out_s``) and the background work it started is done
    (``drained_s``), so the burst that follows arrives at an idle, scaled-out stack. Its figures are
    the cost of scaling out (cold starts), which the burst's figures leave out."""
    began = time.perf_counter()
    answers = fire(url, bodies, concurrency)
    out = figures(answers, time.perf_counter() - began)
    out["scaled_out_s"] = scaled_out(info, function)
    out["drained_s"] = drained(info)
    return out


def scaled_out(info: dict[str, Any], function: str, *, timeout: float = SCALE_OUT_PATIENCE_SECONDS) -> float:
    """Seconds until no cold start of ``function`` is in progress (``GET /_local/workers``)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        answer = httpx.get(f"{info['admin']}/workers", timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False)
        answer.raise_for_status()
        if function not in answer.json().get("starting", {}):
            break
        time.sleep(0.2)
    return round(time.monotonic() - began, 1)


def run_bare(info: dict[str, Any], *, requests: int = 1000, concurrency: int = 32) -> dict[str, Any]:
    """The same burst at the bare baseline function (a stack from :func:`start_stack`)."""
    since, began = time.time(), time.perf_counter()
    answers = fire(f"{info['api']}{BARE_PATH}", [b"{}"] * requests, concurrency)
    return {
        "target": "bare",
        "concurrency": concurrency,
        **figures(answers, time.perf_counter() - began),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "where_time_went": where_time_went(info, since, BARE_FUNCTION),
    }


def sustain(
    stack: StackProcess,
    *,
    seconds: float = 600.0,
    rate: float = 4.0,
    concurrency: int = 8,
    sample_seconds: float = 30.0,
) -> dict[str, Any]:
    """Orders in flight for ``seconds``: ``rate`` Blink order webhooks a second (each order sent
    twice), the stack's memory sampled every ``sample_seconds`` — it must level off, not grow."""
    url = stack.info["webhooks"]["blink_orders"]
    orders = iter(blink_orders(int(seconds * rate) + 1, f"8{os.getpid() % 1000:03d}").values())
    answers: list[Answer] = []
    samples: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=concurrency)
    began = time.monotonic()
    with (
        httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False, limits=limits) as client,
        ThreadPoolExecutor(max_workers=concurrency) as pool,
    ):

        def one(body: bytes) -> None:
            start = time.perf_counter()
            try:
                status = client.post(url, content=body, headers={"Content-Type": "application/json"}).status_code
            except httpx.HTTPError:
                status = 0
            answers.append(Answer(status, time.perf_counter() - start))

        sent, next_sample, pending = 0, 0.0, None
        while (elapsed := time.monotonic() - began) < seconds:
            if elapsed >= next_sample:
                held = retained(stack.info) or {}
                samples.append({"t": round(elapsed), **stack.rss_mb(), "emulator": held.get("emulator")})
                next_sample += sample_seconds
            due = int(elapsed * rate) - sent
            for _ in range(max(0, due)):
                pending = pending if pending is not None and sent % 2 else next(orders)
                pool.submit(one, pending)
                sent += 1
            time.sleep(0.05)
    samples.append(
        {
            "t": round(time.monotonic() - began),
            **stack.rss_mb(),
            "emulator": (retained(stack.info) or {}).get("emulator"),
        }
    )
    return {"seconds": seconds, "rate": rate, **figures(answers, time.monotonic() - began), "samples": samples}


def burst(
    requests: int = 1000,
    concurrency: int = 32,
    *,
    runs: int = 1,
    bare: bool = True,
    settle_seconds: float = 40.0,
    max_workers: int = 4,
    folder: Path | None = None,
    keep_stack: bool = False,
) -> dict[str, Any]:
    """Start a stack, run the bare baseline (when ``bare``) and ``runs`` bursts, stop the stack.

    Returns ``{"runs": [...], "bare": {...}, "rss_mb": {"start", "after_run_1", ...}, ...}``;
    each run has ``statuses``, ``p50_ms``, ``p99_ms``, ``orders_found``, ``duplicates``,
    ``rss_before`` and ``rss_after`` (MB: the stack process and its process tree)."""
    where = folder or Path(tempfile.mkdtemp(prefix="orderbridge-burst-"))
    began = time.monotonic()
    stack = start_stack(where, max_workers=max_workers)
    try:
        result: dict[str, Any] = {
            "requests": requests,
            "concurrency": concurrency,
            "start_s": round(time.monotonic() - began, 1),
            "stack_pid": stack.pid,
            "rss_mb": {"start": stack.rss_mb()},
            "runs": [],
        }
        if bare:
            wave = first_wave(
                stack.info, stack.info["api"] + BARE_PATH, BARE_FUNCTION, [b"{}"] * concurrency, concurrency
            )
            result["bare"] = run_bare(stack.info, requests=requests, concurrency=concurrency)
            result["bare"]["first_wave"] = wave
        for number in range(1, runs + 1):
            before = stack.rss_mb()
            wave_orders = list(blink_orders(concurrency, f"8{number}{os.getpid() % 1000:03d}").values())
            wave = first_wave(
                stack.info,
                stack.info["webhooks"]["blink_orders"],
                "BlinkOrderWebhookFunction",
                wave_orders,
                concurrency,
            )
            run = run_burst(
                stack.info, requests=requests, concurrency=concurrency, prefix=f"9{number}{os.getpid() % 1000:03d}"
            )
            run["first_wave"] = wave
            run["drained_s"] = drained(stack.info)
            time.sleep(settle_seconds)
            run["rss_before"], run["rss_after"] = before, stack.rss_mb()
            run["retained"] = retained(stack.info)
            result["rss_mb"][f"after_run_{number}"] = run["rss_after"]
            result["runs"].append(run)
        result["log"] = str(stack.log_path)
        return result
    finally:
        if not keep_stack:
            stack.stop()


# ------------------------------------------------------------------------------------ the CLI


def table(result: dict[str, Any]) -> str:
    row = "{:<14} {:>9} {:>9} {:>9} {:>8} {:>7} {:>5} {:>8} {:>10} {:>10}  {}".format
    heads = ("burst", "p50 ms", "p99 ms", "max ms", "req/s", "found", "dups", "drain s", "stack MB", "tree MB")
    lines = [row(*heads, "statuses")]
    runs = ([result["bare"]] if "bare" in result else []) + result["runs"]
    for index, run in enumerate(runs):
        name = _run_name(result, index, run)
        after = run.get("rss_after") or {}
        lines.append(
            row(
                name,
                run["p50_ms"],
                run["p99_ms"],
                run["max_ms"],
                run["throughput_rps"],
                run.get("orders_found", "-"),
                run.get("duplicates", "-"),
                run.get("drained_s", "-"),
                after.get("stack", "-"),
                after.get("tree", "-"),
                json.dumps(run["statuses"]),
            )
        )
    start = result["rss_mb"]["start"]
    lines.append(f"memory at start: stack {start['stack']} MB, tree {start['tree']} MB")
    lines.append(
        "drain s: until the workflow tasks and stream batches the run started had all run (memory is read"
        " after that and the idle workers' reaping)"
    )
    lines.append("first wave before each burst (its workers scaling out from one warm; not in the burst's figures):")
    for index, run in enumerate(runs):
        name = _run_name(result, index, run)
        wave = run.get("first_wave")
        if wave:
            lines.append(
                f"  {name:<12} p50/p99 {wave['p50_ms']}/{wave['p99_ms']} ms, workers up {wave['scaled_out_s']} s "
                f"after, its background done {wave['drained_s']} s later"
            )
    lines.append("where a request's time went (ms, p50/p99; the emulator's own time per AWS request):")
    for index, run in enumerate(runs):
        name = _run_name(result, index, run)
        lines.append(f"  {name:<12} {_where(run)}")
    return "\n".join(lines)


def _run_name(result: dict[str, Any], index: int, run: dict[str, Any]) -> str:
    """A row's name: the bare baseline (listed first when it ran), or the run's number from 1."""
    return "bare" if run["target"] == "bare" else f"blink run {index if 'bare' in result else index + 1}"


def _where(run: dict[str, Any]) -> str:
    where = run.get("where_time_went") or {}
    if not where.get("queued_ms"):
        return "(the stack did not say)"

    def spread(part: dict[str, Any] | None) -> str:
        return f"{part['p50']}/{part['p99']}" if part else "-"

    calls = ", ".join(
        f"{service} {v['requests']}× {v['p50_ms']}/{v['p99_ms']}"
        for service, v in where["emulator_per_request"].items()
    )
    lock = where.get("dynamodb_lock") or {}
    load = run.get("load_average") or ["-"]
    return (
        f"waiting for a worker {spread(where['queued_ms'])}, handler {spread(where['handler_ms'])}; "
        f"emulator: {calls or '-'}; other callers {where['emulator_other_requests']} requests "
        f"{where['emulator_other_seconds']} s; DynamoDB lock waited {lock.get('waited', '-')}× "
        f"(max {lock.get('wait_ms_max', '-')} ms); load {load[0]}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orderbridge_local.burst", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1, help="bursts one after another on one stack (memory growth)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare baseline")
    parser.add_argument("--max-workers", type=int, default=4)
    parser.add_argument(
        "--settle", type=float, default=40.0, help="seconds after each run before memory is read (idle workers stop)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--sustain",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="instead: orders in flight this long, memory sampled",
    )
    parser.add_argument("--rate", type=float, default=4.0, help="with --sustain: webhooks a second")
    args = parser.parse_args(argv)
    if args.sustain:
        stack = start_stack(Path(tempfile.mkdtemp(prefix="orderbridge-sustain-")), max_workers=args.max_workers)
        try:
            outcome = sustain(stack, seconds=args.sustain, rate=args.rate)
        finally:
            stack.stop()
        for sample in outcome["samples"]:
            print(json.dumps(sample))
        print(json.dumps({k: v for k, v in outcome.items() if k != "samples"}))
        if args.json:
            args.json.write_text(json.dumps(outcome, indent=1) + "\n")
        return 0 if outcome["all_2xx"] else 1
    result = burst(
        args.requests,
        args.concurrency,
        runs=args.runs,
        bare=not args.no_bare,
        max_workers=args.max_workers,
        settle_seconds=args.settle,
    )
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    ok = all(r["all_2xx"] and r["orders_missing"] == 0 and r["duplicates"] == 0 for r in result["runs"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
