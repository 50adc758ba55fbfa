"""Stuck orders (``syncs/stuck_orders.py``): an open order whose execution ended, one that has no
workflow, and one whose wait is past its deadline are found, shown as ``stuck`` in the ops API
with a reason, counted (``OrdersStuck``); the run is idempotent, stops in time and goes on; a
resume clears the mark. Step Functions is moto's (executions stay RUNNING until stopped)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from threading import Barrier, Thread
from typing import Any

import pytest
from orderbridge import aws as aws_clients
from orderbridge import ops
from orderbridge.models.order import Lifecycle, OrderState
from orderbridge.observability import metrics
from orderbridge.store.workflow import Workflow
from orderbridge.syncs import stuck_orders
from orderbridge.syncs.runner import TIME_MARGIN_SECONDS

from tests.integration.syncs.test_runner import Context
from tests.support import samples

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=600)  # the default StuckOrderGraceSeconds
DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 86400, "End": True}}})


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(seeded) -> Clock:
    clock = Clock()
    seeded.clock = clock
    return clock


@pytest.fixture
def sfn(seeded) -> Any:
    client = aws_clients.client("stepfunctions")
    arn = client.create_state_machine(
        name="orders", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/orders-workflow"
    )["stateMachineArn"]
    seeded.workflow = Workflow(client, arn)
    return client


def new_order(hub: Any, blink_order_id: str) -> str:
    payload = json.loads(samples.text("blink_order_webhook.json")) | {"blink_order_id": blink_order_id}
    answer = hub.blink_order(payload)
    assert answer.status == 200, answer.body
    return str(answer.body["order_id"])


def start(deps: Any, order_id: str) -> str:
    """The order's workflow starts (as the order stream does): the execution's ARN."""
    assert deps.workflow.start(order_id)
    return deps.workflow.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + order_id


def waiting(deps: Any, order_id: str, step: str, deadline: datetime) -> None:
    """The workflow parks the order on ``step`` until ``deadline`` (as ``register_wait`` does)."""
    deps.orders.set_state(
        order_id, Lifecycle(state=OrderState.IN_PROGRESS, step=step, deadline=deadline, at=deps.clock())
    )


def stuck_list(hub: Any) -> dict[str, dict[str, Any]]:
    answer = hub.ops_list(state="stuck")
    assert answer.status == 200, answer.body
    return {row["order_id"]: row for row in answer.body["orders"]}


@pytest.fixture
def three_kinds(hub, seeded, sfn, clock) -> dict[str, str]:
    """Given an order whose execution ended (aborted) while it waits for the drop-off, one whose
    workflow never started, one whose wait passed its deadline while its execution runs, and one
    that is fine (running, its wait far from its deadline)."""
    ended = new_order(hub, "9001")
    sfn.stop_execution(executionArn=start(seeded, ended))
    waiting(seeded, ended, "dropoff", START + timedelta(hours=4))
    no_workflow = new_order(hub, "9002")
    late = new_order(hub, "9003")
    start(seeded, late)
    waiting(seeded, late, "courier_picked_up", START + timedelta(minutes=5))
    fine = new_order(hub, "9004")
    start(seeded, fine)
    waiting(seeded, fine, "pickup", START + timedelta(days=3))
    clock.now = START + GRACE + timedelta(minutes=1)
    return {"ended": ended, "no_workflow": no_workflow, "late": late, "fine": fine}


def test_the_three_kinds_of_stuck_orders_are_shown_as_stuck_with_a_reason(hub, seeded, three_kinds):
    # Before the sync, only the wait past its deadline reads as stuck
    assert set(stuck_list(hub)) == {three_kinds["late"]}

    # When the sync runs
    report = stuck_orders.find_stuck_orders(seeded, Context(60))

    # Then the three are stuck, each with a reason a person can act on; the fine one is not
    assert (report.seen, report.changed, report.failed, report.finished) == (4, 3, 0, True)
    shown = stuck_list(hub)
    assert set(shown) == {three_kinds["ended"], three_kinds["no_workflow"], three_kinds["late"]}
    ended, none, late = (shown[three_kinds[k]] for k in ("ended", "no_workflow", "late"))
    assert (ended["failure"]["kind"], ended["step"]) == ("WorkflowEnded", "dropoff")
    assert "ended ABORTED" in ended["failure"]["message"] and "resume" in ended["failure"]["message"]
    assert (none["failure"]["kind"], none["step"]) == ("NoWorkflow", "workflow_start")
    assert "resume it to start one" in none["failure"]["message"]
    assert (late["failure"]["kind"], late["step"]) == ("WaitPastDeadline", "courier_picked_up")
    # And the order itself reads stuck, with the event on its timeline
    detail = hub.ops_order(three_kinds["ended"]).body
    assert detail["state"] == "stuck"
    assert [e["detail"]["reason"] for e in detail["timeline"] if e["kind"] == "stuck"] == ["WorkflowEnded"]
    assert hub.ops_order(three_kinds["fine"]).body["state"] == "in_progress"


def test_the_run_counts_the_stuck_orders_in_its_metric_line(seeded, three_kinds, capsys):
    metrics.clear_metrics()

    stuck_orders.find_stuck_orders(seeded, Context(60))
    metrics.flush_metrics()

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(lines) == 1
    line = lines[0]
    assert (line["Sync"], line["OrdersStuck"]) == ("stuck_orders", [3.0])
    names = {m["Name"] for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"OrdersStuck", "SyncItemsSeen"} <= names
    # The alarm in template.yaml (OrdersStuckAlarm) names exactly these dimensions
    assert [sorted(d) for d in line["_aws"]["CloudWatchMetrics"][0]["Dimensions"]] == [["Sync", "service"]]


def test_running_it_twice_or_two_at_once_marks_each_order_once(hub, seeded, three_kinds, monkeypatch):
    # Two runs at once: both judge every order before either marks it
    barrier = Barrier(2)
    mark = seeded.orders.mark_stuck

    def mark_together(seen, lifecycle):
        barrier.wait(timeout=10)
        return mark(seen, lifecycle)

    monkeypatch.setattr(seeded.orders, "mark_stuck", mark_together)
    reports: list = []
    runs = [
        Thread(target=lambda: reports.append(stuck_orders.find_stuck_orders(seeded, Context(60)))) for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    monkeypatch.setattr(seeded.orders, "mark_stuck", mark)
    # And a third run afterwards
    third = stuck_orders.find_stuck_orders(seeded, Context(60))

    assert sum(r.changed for r in reports) == 3 and third.changed == 0
    for order_id in (three_kinds["ended"], three_kinds["no_workflow"], three_kinds["late"]):
        view = seeded.orders.get(order_id)
        assert view is not None and len([e for e in view.timeline if e.kind == "stuck"]) == 1
    assert len(stuck_list(hub)) == 3


def test_the_run_stops_in_time_and_the_next_goes_on(seeded, three_kinds, monkeypatch):
    context = Context(TIME_MARGIN_SECONDS + 2)
    judge = stuck_orders.judge

    def slow(deps, order, now):
        context.seconds -= 1  # each order takes a second
        return judge(deps, order, now)

    monkeypatch.setattr(stuck_orders, "judge", slow)
    first = stuck_orders.find_stuck_orders(seeded, context)
    monkeypatch.setattr(stuck_orders, "judge", judge)

    assert (first.seen, first.finished) == (2, False)
    assert seeded.cursors.get(stuck_orders.SYNC, stuck_orders.SCOPE).value is not None
    second = stuck_orders.find_stuck_orders(seeded, Context(60))
    # the two orders left, and the one the first run marked (moved from received to in_progress,
    # it shows up again further on: judged, not marked twice)
    assert (second.seen, second.finished) == (3, True)
    assert (first.changed, second.changed) == (2, 1)
    assert seeded.cursors.get(stuck_orders.SYNC, stuck_orders.SCOPE).value is None


def test_a_resumed_stuck_order_is_no_longer_stuck(hub, seeded, three_kinds):
    stuck_orders.find_stuck_orders(seeded, Context(60))

    resumed = ops.resume_workflow(three_kinds["no_workflow"], seeded)

    assert resumed.execution == f"{three_kinds['no_workflow']}-r1"
    assert three_kinds["no_workflow"] not in stuck_list(hub)
    assert seeded.workflow.status(resumed.execution) == "RUNNING"
    # And the next run finds its new execution running: not stuck
    report = stuck_orders.find_stuck_orders(seeded, Context(60))
    assert three_kinds["no_workflow"] not in stuck_list(hub) and report.changed == 0


def test_a_new_order_within_the_grace_is_left_alone(hub, seeded, sfn, clock):
    order_id = new_order(hub, "9100")
    clock.now = START + GRACE - timedelta(seconds=1)

    report = stuck_orders.find_stuck_orders(seeded, Context(60))

    assert (report.seen, report.changed) == (1, 0)
    assert stuck_list(hub) == {}
    assert seeded.orders.get(order_id).lifecycle.state is OrderState.RECEIVED
