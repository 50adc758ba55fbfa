"""The front door and the background (issue 12 point 4): an API invocation never waits behind
workflow, stream or schedule invocations; background invocations run at most
``background_concurrency`` at once, in their own lane, on workers at a lower OS priority.
Counted, not timed."""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from orderbridge_local import template as tpl
from orderbridge_local.aws_emulator import DeployedFunction
from orderbridge_local.runtime import BACKGROUND_NICE, Lane, Runtime, WorkerGone
from orderbridge_local.stack import front_functions

ROOT = Path(__file__).resolve().parents[3]
LANE = 2

HANDLER = """
    import os, time

    def handler(event, context):
        began = time.time()
        time.sleep(event.get("sleep", 0))
        return {"pid": os.getpid(), "nice": os.nice(0), "began": began, "ended": time.time()}
"""


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(HANDLER))
    specs, deployed = {}, {}
    for name in ("Api", "Work"):
        specs[name] = tpl.FunctionSpec(logical_id=name, code_dir=folder, handler="app.handler", timeout=20)
        arn = f"arn:aws:lambda:eu-west-1:123456789012:function:stack-{name}-X1"
        deployed[name] = DeployedFunction(name, f"stack-{name}-X1", arn, {})
    runtime = Runtime(
        specs,
        deployed,
        endpoint_url="http://127.0.0.1:9",
        region="eu-west-1",
        max_workers=4,
        front={"Api"},
        background_concurrency=LANE,
        background_idle_concurrency=LANE,
    )
    try:
        runtime.warm(["Api", "Work"])
        yield runtime
    finally:
        runtime.stop()


def _wait_until(condition, seconds: float = 20.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def test_an_api_invocation_is_served_while_every_background_slot_is_busy(runtime):
    # Given the background lane full (2 running) and 2 more background invocations waiting for it
    with ThreadPoolExecutor(4) as pool:
        background = [
            pool.submit(runtime.invoke, "Work", {"sleep": 3}, source="lambda:invoke", background=True)
            for _ in range(LANE + 2)
        ]
        _wait_until(lambda: runtime.lane.held == LANE and runtime.lane.waiting == 2)

        # When an API request arrives
        answer = runtime.invoke("Api", {}, source="POST /webhooks/blink/orders")

        # Then it is answered while the background is still exactly where it was: no slot freed
        assert (runtime.lane.held, runtime.lane.waiting) == (LANE, 2)
        assert answer.ok and answer.lane == "front"
        for future in background:
            assert future.result().ok
    # and every background invocation went through the lane
    assert {f.result().lane for f in background} == {"background"}
    counted = runtime.timings()["functions"]
    assert counted["Api"]["front"]["invocations"] == 1
    assert counted["Work"]["background"]["invocations"] == LANE + 2


def test_background_invocations_never_run_more_at_once_than_the_lane_holds(runtime):
    # Given a background function whose pool could run 4 at once
    # When 6 of its invocations arrive together
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(
                lambda _: runtime.invoke("Work", {"sleep": 0.3}, source="dynamodb stream", background=True), range(6)
            )
        )

    # Then all are answered and at no moment did more than the lane's 2 run
    spans = [(json.loads(r.result)["began"], json.loads(r.result)["ended"]) for r in results]
    most = max(sum(1 for began, ended in spans if began <= moment < ended) for moment, _ in spans)
    assert all(r.ok for r in results)
    assert most == LANE
    assert runtime.lane.most_waiting >= 6 - LANE


def test_background_functions_run_at_a_lower_os_priority_than_the_front_door(runtime):
    # When each function answers once
    api = json.loads(runtime.invoke("Api", {}, source="GET /ops/orders").result)
    work = json.loads(runtime.invoke("Work", {}, source="lambda:invoke", background=True).result)

    # Then the background function's worker is niced, the front door's is not
    assert api["nice"] == os.nice(0)
    assert work["nice"] == min(19, os.nice(0) + BACKGROUND_NICE)
    assert runtime.pools["Work"].nice == BACKGROUND_NICE and runtime.pools["Api"].nice == 0


def test_the_lane_hands_a_freed_slot_to_the_longest_waiting_in_arrival_order():
    # Given a lane of one, held
    lane = Lane(1)
    lane.acquire()
    order: list[int] = []

    def waiter(n: int) -> None:
        lane.acquire()
        order.append(n)
        lane.release()

    # When three wait, one after another, and the slot is freed
    threads = []
    for n in range(3):
        threads.append(threading.Thread(target=waiter, args=(n,)))
        threads[-1].start()
        _wait_until(lambda n=n: lane.waiting == n + 1)
    lane.release()
    for thread in threads:
        thread.join(5)

    # Then they ran in arrival order and the lane is free again
    assert order == [0, 1, 2]
    assert (lane.held, lane.waiting) == (0, 0)


def test_a_closed_lane_releases_its_waiters_with_an_error():
    lane = Lane(1)
    lane.acquire()
    failures: list[Exception] = []

    def waiter() -> None:
        try:
            lane.acquire()
        except WorkerGone as exc:
            failures.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    _wait_until(lambda: lane.waiting == 1)
    lane.close()
    thread.join(5)
    assert len(failures) == 1


def test_the_stack_serves_the_routes_functions_and_their_authorizer_as_the_front_door():
    # Given the template
    local = tpl.load(ROOT / "template.yaml", overrides={"Stage": "local", "BlinkBaseUrl": "http://127.0.0.1:1"})

    # Then the webhooks, the ops API and its authorizer are the front door; workflow actions and
    # the stream function are not
    front = front_functions(local)
    assert {"BlinkOrderWebhookFunction", "OpsApiFunction", "OpsAuthorizerFunction"} <= front
    assert not {"PlanOrderFunction", "OrderStreamFunction", "SyncOrdersFunction"} & front
    assert front < set(local.functions)


def test_functions_take_turns_in_the_lane_so_a_stream_batch_never_waits_behind_every_workflow_task():
    # Given a lane of one, held, and three workflow tasks waiting before one stream batch
    lane = Lane(1)
    lane.acquire("Plan")
    served: list[str] = []
    threads = []

    def waiter(function: str) -> None:
        lane.acquire(function)
        served.append(function)
        lane.release()

    for n, function in enumerate(["Plan", "Plan", "Plan", "Stream"]):
        threads.append(threading.Thread(target=waiter, args=(function,)))
        threads[-1].start()
        _wait_until(lambda n=n: lane.waiting == n + 1)

    # When the slot is freed
    lane.release()
    for thread in threads:
        thread.join(5)

    # Then the stream batch is served second, not last
    assert served == ["Plan", "Stream", "Plan", "Plan"]


def test_a_front_function_may_grow_to_max_workers_a_background_one_to_the_lane(runtime):
    # Then the front door's pool is reserved at --max-workers; a background function's pool never
    # holds more workers than the lane lets run at once
    assert runtime.pools["Api"].max_workers == 4
    assert runtime.pools["Work"].max_workers == LANE


def test_idle_workers_are_reclaimed_but_the_front_door_keeps_one_warm(tmp_path):
    # Given a runtime whose workers are reclaimed after 0.5 s idle, both functions used once
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(HANDLER))
    specs = {n: tpl.FunctionSpec(logical_id=n, code_dir=folder, handler="app.handler") for n in ("Api", "Work")}
    deployed = {
        n: DeployedFunction(n, f"stack-{n}", f"arn:aws:lambda:eu-west-1:123456789012:function:stack-{n}", {})
        for n in specs
    }
    runtime = Runtime(
        specs, deployed, endpoint_url="http://127.0.0.1:9", region="eu-west-1", front={"Api"}, idle_seconds=0.5
    )
    try:
        assert runtime.invoke("Api", {}, source="GET /ops/orders").ok
        assert runtime.invoke("Work", {}, source="lambda:invoke", background=True).ok

        # When both stay idle
        _wait_until(lambda: runtime.pools["Work"].size == 0)

        # Then the background function's worker is gone, the front door's one stays
        assert runtime.pools["Api"].size == 1
        # and what the stopped worker reached is still known (B6 reads it)
        assert runtime.pools["Work"].started == 1 and runtime.pools["Work"].peak_mb() > 0
    finally:
        runtime.stop()


def test_the_lane_widens_while_the_front_door_is_quiet_and_narrows_when_it_is_busy():
    # Given a lane of one (three while the front door is quiet), held, and four waiting
    lane = Lane(1, idle_size=3)
    lane.acquire()
    go = threading.Event()
    held_when_started: dict[int, int] = {}

    def waiter(n: int) -> None:
        lane.acquire(f"F{n}")
        held_when_started[n] = lane.held
        go.wait(10)
        lane.release()

    threads = [threading.Thread(target=waiter, args=(n,)) for n in range(4)]
    for n, thread in enumerate(threads):
        thread.start()
        _wait_until(lambda n=n: lane.waiting == n + 1)

    # When the front door goes quiet
    lane.front_quiet(True)
    # Then two more run at once (three held), two still wait
    _wait_until(lambda: len(held_when_started) == 2)
    assert (lane.held, lane.waiting) == (3, 2)

    # When the front door is busy again and the running ones finish
    lane.front_quiet(False)
    lane.release()
    go.set()
    for thread in threads:
        thread.join(10)

    # Then the last two started one at a time: the lane held only them
    assert sorted(held_when_started) == [0, 1, 2, 3]
    assert [held_when_started[2], held_when_started[3]] == [1, 1]
    assert (lane.held, lane.waiting) == (0, 0)


def test_no_background_invocation_starts_while_the_front_door_is_pressed(runtime):
    # Given two API invocations in flight at once (a burst: the front door is pressed), and a
    # listener of the front door's state (the stack's: full garbage collections wait meanwhile)
    states: list[str] = []
    runtime.front_listeners.append(states.append)
    with ThreadPoolExecutor(3) as pool:
        front = [
            pool.submit(runtime.invoke, "Api", {"sleep": 2}, source="POST /webhooks/blink/orders") for _ in range(2)
        ]
        _wait_until(lambda: runtime.lane.capacity == 0)

        # When a workflow task arrives meanwhile
        task = pool.submit(runtime.invoke, "Work", {}, source="states:lambda", background=True)
        _wait_until(lambda: runtime.lane.waiting == 1)

        # Then it waits until the pressure drops (one of the two answered), and runs then (nothing lost)
        answers = [f.result(10) for f in front]
        ran = task.result(10)
    assert ran.ok and all(a.ok for a in answers)
    assert json.loads(ran.result)["began"] >= min(json.loads(a.result)["ended"] for a in answers)
    assert runtime.lane.most_waiting >= 1
    # and the listener was told: pressed, then no longer
    assert "pressed" in states and states[-1] != "pressed"


def test_one_api_invocation_at_a_time_does_not_hold_the_background_back(runtime):
    # Given one API invocation in flight (a person's page polling)
    with ThreadPoolExecutor(2) as pool:
        front = pool.submit(runtime.invoke, "Api", {"sleep": 2}, source="GET /ops/orders")
        _wait_until(lambda: runtime.lane.held == 0 and runtime._front_in_flight == 1)

        # When a workflow task arrives
        ran = runtime.invoke("Work", {}, source="states:lambda", background=True)

        # Then it runs while the API invocation is still in flight
        assert ran.ok
        assert not front.done()
        assert front.result(10).ok


def test_a_front_door_pressed_for_too_long_lets_the_background_run_at_its_busy_size(monkeypatch):
    # Given a front door pressed since longer than the longest background pause
    import orderbridge_local.runtime as rt

    lane = Lane(2, idle_size=4)
    lane.front_state("pressed")
    assert lane.capacity == 0
    clock = [1000.0]
    monkeypatch.setattr(rt.time, "monotonic", lambda: clock[0])
    runtime = object.__new__(Runtime)
    runtime._recent_lock = threading.Lock()
    runtime._front_in_flight = 2
    runtime._front_last = 0.0
    runtime._pressed_since = None
    # When the pressure lasts past MAX_BACKGROUND_PAUSE_SECONDS
    assert runtime._front_state() == "pressed"
    clock[0] += rt.MAX_BACKGROUND_PAUSE_SECONDS + 0.1
    # Then the lane is back to its busy size
    assert runtime._front_state() == "busy"
    runtime._front_in_flight = 0
    clock[0] += rt.FRONT_QUIET_SECONDS
    assert runtime._front_state() == "quiet"
