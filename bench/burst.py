"""B3 — the local stack under a burst: N Blink order webhooks (N/2 distinct orders, each twice, in
a shuffled order) at concurrency C, answered by the real webhook function; then exactly one order
per distinct order checked through the ops API (``GET /ops/orders?branch=``, every page), and the
resident memory of the stack's process tree after the run. The bare baseline is the same burst to
``BenchBareFunction`` (parse the body, one PutItem) on the same stack, sent first (the real burst
leaves workflows running behind it).

Each burst is preceded by its function's first wave: C requests at once (new orders, not counted
in the burst's figures nor in its exactly-once check) that grow the function's workers from the one
the stack keeps warm to the burst's size. The burst starts once those workers are up and the wave's
own background work (its orders' workflow steps) is done: a burst arriving at an idle stack whose
front function has scaled out. The wave's latencies, how long its workers took to come up and its
background took are reported apart (``first_wave``): the wave measures the cold starts of scaling
out — as a burst on a cold Lambda function waits for new execution environments — which B2
measures on its own; the burst's figures are the stack's capacity with its workers up. Measured
2026-11-28 (1,000 at 32): with no wave, the 11 requests over 1 s were all in the burst's first 32
(p99 1.04 s, the rest under 0.8 s); started right after the wave, p99 0.96–1.29 s, its slowest
seconds its first, while the wave's cold starts and workflow steps ran; started 8 s later, 0.45 s."""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.common import process_tree, ratio, rss_kb, summary, table
from bench.localstack import BARE_FUNCTION, BARE_PATH

TIMEOUT_SECONDS = 30.0
LIST_PATIENCE_SECONDS = 600.0
BRANCH = "12345"  # seeded: Blink branch 50220


def _burst(url: str, bodies: list[str], concurrency: int, accepted: set[str] | None = None) -> dict[str, Any]:
    """Send ``bodies`` at ``concurrency``; ``accepted`` collects the bodies answered 2xx."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False, limits=limits) as client:

        def send(body: str) -> None:
            began = time.perf_counter()
            try:
                answer = client.post(url, content=body, headers={"Content-Type": "application/json"})
                status = str(answer.status_code)
                if accepted is not None and answer.is_success:
                    accepted.add(body)
            except httpx.TimeoutException:
                status = "timeout"
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            latencies.append((time.perf_counter() - began) * 1000)
            statuses[status] += 1

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(send, bodies))
        elapsed = time.perf_counter() - began
    return {
        "latency_ms": summary(latencies),
        "statuses": dict(sorted(statuses.items())),
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(bodies) / elapsed, 1) if elapsed else None,
    }


def _listed(info: dict[str, Any], wanted: set[str]) -> Counter[str]:
    """How many times the ops API lists each wanted order (every page of the branch's listing).
    Right after a burst the stack is still starting the orders' workflows and the listing may time
    out (504) or be refused (503): each page is retried until :data:`LIST_PATIENCE_SECONDS`."""
    seen: Counter[str] = Counter()
    cursor: str | None = None
    deadline = time.monotonic() + LIST_PATIENCE_SECONDS
    with httpx.Client(timeout=60.0, trust_env=False) as client:
        while True:
            params = {"branch": BRANCH, "limit": "100", **({"cursor": cursor} if cursor else {})}
            while True:
                answer = client.get(
                    f"{info['api']}/ops/orders", params=params, headers={"X-Api-Key": info["ops_api_key"]}
                )
                if answer.status_code not in (502, 503, 504) or time.monotonic() > deadline:
                    break
                time.sleep(5.0)
            answer.raise_for_status()
            page = answer.json()
            seen.update(o["order_id"] for o in page["orders"] if o["order_id"] in wanted)
            cursor = page.get("next_cursor")
            if not cursor:
                return seen


def memory(pid: int) -> dict[str, Any]:
    pids = process_tree(pid)
    rss = {p: rss_kb(p) or 0 for p in pids}
    return {
        "stack_process_mb": round(rss.get(pid, 0) / 1024, 1),
        "tree_mb": round(sum(rss.values()) / 1024, 1),
        "processes": len(pids),
    }


def run(
    info: dict[str, Any], stack_pid: int, *, requests: int, concurrency: int, settle_seconds: float = 0.0
) -> dict[str, Any]:
    """The burst; memory is read once the background work it caused is done (``drained_s``) and
    ``settle_seconds`` later (idle workers reaped)."""
    from orderbridge.domain.ids import order_id_for
    from orderbridge_local.burst import drained, first_wave, where_time_went

    from tests.support import samples

    distinct = max(1, requests // 2)
    run_id = uuid.uuid4().int % 100_000
    blink_ids = [f"5{run_id:05d}{i:05d}" for i in range(distinct)]
    template = samples.load("blink_order_webhook.json")
    bodies = [json.dumps(template | {"blink_order_id": b}) for b in blink_ids] * 2
    random.Random(run_id).shuffle(bodies)
    wave = [json.dumps(template | {"blink_order_id": f"6{run_id:05d}{i:05d}"}).encode() for i in range(concurrency)]
    _listed(info, set())  # the ops API's functions warm before the burst (a cold start under it can time out)
    memory_before = memory(stack_pid)
    bare_url, real_url = f"{info['api']}{BARE_PATH}", info["webhooks"]["blink_orders"]
    waves = {"bare": first_wave(info, bare_url, BARE_FUNCTION, wave, concurrency)}
    bare_since = time.time()
    bare = _burst(bare_url, bodies, concurrency)
    bare["where_time_went"] = where_time_went(info, bare_since, BARE_FUNCTION)
    answered: set[str] = set()
    waves["webhook"] = first_wave(info, real_url, "BlinkOrderWebhookFunction", wave, concurrency)
    real_since = time.time()
    real = _burst(real_url, bodies, concurrency, answered)
    real["where_time_went"] = where_time_went(info, real_since, "BlinkOrderWebhookFunction")
    real["load_average"] = [round(x, 2) for x in os.getloadavg()]
    wanted = {order_id_for("blink", b) for b in blink_ids}
    listing_began = time.perf_counter()
    accepted = {order_id_for("blink", json.loads(body)["blink_order_id"]) for body in answered}
    try:
        listed = _listed(info, wanted)
        listing_error = None
    except httpx.HTTPError as exc:  # the burst's figures still count; the check says why it could not run
        listed, listing_error = Counter(), f"{type(exc).__name__}: {exc}"
    once = sum(1 for order_id in wanted if listed[order_id] == 1)
    drained_s = drained(info)
    time.sleep(settle_seconds)
    result = {
        "what": "local-stack burst: Blink order webhooks (each order twice), ms; memory of the stack after",
        "requests": len(bodies),
        "distinct_orders": distinct,
        "concurrency": concurrency,
        "webhook": real,
        "bare": bare,
        "ratio_p50": ratio(real["latency_ms"]["p50"], bare["latency_ms"]["p50"]),
        "ratio_p99": ratio(real["latency_ms"]["p99"], bare["latency_ms"]["p99"]),
        "first_wave": waves,
        "exactly_once": {
            "orders_listed_once": once,
            "orders_missing": sum(1 for order_id in wanted if listed[order_id] == 0),
            "orders_listed_more_than_once": sum(1 for order_id in wanted if listed[order_id] > 1),
            "orders_accepted": len(accepted),  # answered 2xx at least once: must be there, once
            "accepted_orders_listed_once": sum(1 for order_id in accepted if listed[order_id] == 1),
            "ok": once == distinct,
            "error": listing_error,
            "listing_seconds": round(time.perf_counter() - listing_began, 1),
        },
        "memory_before": memory_before,
        "drained_s": drained_s,
        "memory_after": memory(stack_pid),
    }
    return result


def render(result: dict[str, Any]) -> str:
    rows = []
    for name in ("webhook", "bare"):
        part = result[name]
        rows.append(
            [
                name,
                part["latency_ms"]["p50"],
                part["latency_ms"]["p99"],
                part["throughput_rps"],
                " ".join(f"{k}:{v}" for k, v in part["statuses"].items()),
            ]
        )
    once = result["exactly_once"]
    return (
        table(
            f"B3 burst ({result['requests']} Blink order webhooks, {result['distinct_orders']} orders, "
            f"concurrency {result['concurrency']}; ms)",
            ["target", "p50", "p99", "req/s", "answers"],
            rows,
        )
        + f"\n  exactly once (ops API): {once['orders_listed_once']}/{result['distinct_orders']} listed once, "
        f"{once['orders_missing']} missing, {once['orders_listed_more_than_once']} more than once"
        + _where(result)
        + _wave_line(result)
        + f"\n  the workflow tasks and stream batches it started all ran {result.get('drained_s')} s after the listing"
        + f"\n  stack memory (RSS, process tree): {result['memory_before']['tree_mb']} MB before, "
        f"{result['memory_after']['tree_mb']} MB after ({result['memory_after']['processes']} processes; "
        f"the stack process itself {result['memory_after']['stack_process_mb']} MB)"
    )


def _where(result: dict[str, Any]) -> str:
    """Where a webhook's time went: waiting for a worker vs its handler (ms, p50/p99)."""
    lines = ""
    for name in ("webhook", "bare"):
        where = result[name].get("where_time_went") or {}
        queued, handler = where.get("queued_ms"), where.get("handler_ms")
        if queued:
            lines += (
                f"\n  {name}: waiting for a worker {queued['p50']}/{queued['p99']} ms, "
                f"handler {handler['p50'] if handler else '-'}/{handler['p99'] if handler else '-'} ms (p50/p99)"
            )
    return lines


def _wave_line(result: dict[str, Any]) -> str:
    """The wave before each burst (its workers' cold starts), not counted in the burst."""
    wave = result.get("first_wave") or {}
    parts = [
        f"{name} {wave[name]['p50_ms']}/{wave[name]['p99_ms']} ms "
        f"(workers up {wave[name].get('scaled_out_s')} s after, "
        f"its background done {wave[name].get('drained_s')} s later)"
        for name in ("webhook", "bare")
        if name in wave
    ]
    if not parts:
        return ""
    return (
        f"\n  first wave ({result['concurrency']} requests at once, the workers scaling out from one warm; "
        f"not in the figures above), p50/p99: " + ", ".join(parts)
    )
