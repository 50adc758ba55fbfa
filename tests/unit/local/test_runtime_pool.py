"""The runtime's worker pool under a burst: a request never waits for another worker's cold start
while a warm one comes free, and waiting requests are served in arrival order."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from orderbridge_local.aws_emulator import DeployedFunction
from orderbridge_local.runtime import Runtime
from orderbridge_local.template import FunctionSpec

COLD_START_SECONDS = 4.0

SLOW_TO_START = f"""
    import os, time
    if os.path.exists(os.environ["WARM_MARK"]):  # every worker after the first starts slowly
        time.sleep({COLD_START_SECONDS})
    open(os.environ["WARM_MARK"], "w").close()

    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        return {{"pid": os.getpid(), "n": event.get("n")}}
"""


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(SLOW_TO_START))
    spec = FunctionSpec(logical_id="Slow", code_dir=folder, handler="app.handler", timeout=10)
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:stack-Slow-X1"
    deployed = DeployedFunction("Slow", "stack-Slow-X1", arn, {"WARM_MARK": str(tmp_path / "warm")})
    runtime = Runtime(
        {"Slow": spec}, {"Slow": deployed}, endpoint_url="http://127.0.0.1:9", region="eu-west-1", max_workers=3
    )
    try:
        yield runtime
    finally:
        runtime.stop()


def test_a_burst_is_served_by_the_warm_worker_while_new_ones_start(runtime):
    # Given one warm worker, and new workers that take 4 s to start
    runtime.warm(["Slow"])

    # When 12 quick requests arrive 4 at a time
    began = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: runtime.invoke("Slow", {"n": n}, source="test"), range(12)))
    took = time.monotonic() - began

    # Then every one is answered, all by the warm worker, long before a new worker could be ready
    assert [json.loads(r.result)["n"] for r in results] == list(range(12))
    assert len({json.loads(r.result)["pid"] for r in results}) == 1
    assert took < COLD_START_SECONDS
    # and the pool grew meanwhile, for the next burst: two cold starts on their way, then two workers
    assert (runtime.pools["Slow"].size, runtime.pools["Slow"].starting) == (1, 2)
    deadline = time.monotonic() + 3 * COLD_START_SECONDS
    while runtime.pools["Slow"].size < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (runtime.pools["Slow"].size, runtime.pools["Slow"].starting) == (3, 0)


def test_waiting_requests_are_served_in_arrival_order(runtime):
    # Given one warm worker busy for a moment
    runtime.warm(["Slow"])
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(runtime.invoke, "Slow", {"sleep": 0.5, "n": 0}, source="test")
        time.sleep(0.1)

        # When five more arrive one after another while it is busy
        waiting = []
        for n in range(1, 6):
            waiting.append(pool.submit(runtime.invoke, "Slow", {"n": n}, source="test"))
            time.sleep(0.05)
        results = [first.result(), *(f.result() for f in waiting)]

    # Then they ran in the order they came (each started after the one before it)
    assert all(r.ok for r in results)
    finished = [r.started_at + r.duration_ms / 1000 for r in results]
    assert finished == sorted(finished)


def test_workers_a_burst_started_are_stopped_once_idle_and_one_stays_warm(tmp_path: Path):
    # Given a function whose pool grew to 3 workers in a burst
    folder = tmp_path / "quick"
    folder.mkdir()
    (folder / "app.py").write_text("import time\ndef handler(event, context):\n    time.sleep(0.3)\n    return 1\n")
    spec = FunctionSpec(logical_id="Quick", code_dir=folder, handler="app.handler", timeout=5)
    deployed = DeployedFunction("Quick", "stack-Quick-X1", "arn:aws:lambda:eu-west-1:1:function:stack-Quick-X1", {})
    runtime = Runtime(
        {"Quick": spec},
        {"Quick": deployed},
        endpoint_url="http://127.0.0.1:9",
        region="eu-west-1",
        max_workers=3,
        idle_seconds=0.5,
    )
    try:
        with ThreadPoolExecutor(3) as pool:
            assert all(r.ok for r in pool.map(lambda _: runtime.invoke("Quick", {}, source="test"), range(9)))
        grown = runtime.pools["Quick"].size

        # When the burst is over and its workers idle past their time
        deadline = time.monotonic() + 10
        while runtime.pools["Quick"].size > 1 and time.monotonic() < deadline:
            time.sleep(0.1)

        # Then one worker is left, warm: the next invocation is not a cold start
        assert grown > 1
        assert runtime.pools["Quick"].size == 1
        assert runtime.invoke("Quick", {}, source="test").cold_init_ms is None
    finally:
        runtime.stop()
