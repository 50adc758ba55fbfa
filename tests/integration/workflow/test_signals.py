"""Parking the workflow on task tokens and resuming it from the order's tracks (moto DynamoDB; the
Step Functions side is a recorder of the calls the real client would make)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from orderbridge.domain.ids import order_id_for
from orderbridge.domain.statuses import TrackUpdate
from orderbridge.domain.waits import WaitKind
from orderbridge.models.order import TimelineEvent
from orderbridge.store.waits import WaitStore
from orderbridge.store.workflow import Workflow, WorkflowUnavailable
from orderbridge.workflow.signals import Signaller, start_workflow

from tests.conftest import table_items
from tests.support import samples

ORDER_ID = order_id_for("blink", "1236589")
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


@dataclass
class StepFunctionsRecorder:
    calls: list[tuple] = field(default_factory=list)
    spent: set[str] = field(default_factory=set)

    def send_task_success(self, *, taskToken, output):
        self._check(taskToken)
        self.calls.append(("success", taskToken))

    def send_task_failure(self, *, taskToken, error, cause):
        self._check(taskToken)
        self.calls.append(("failure", taskToken, error))

    def start_execution(self, *, stateMachineArn, name, input):
        if ("start", name) in self.calls:
            raise ClientError({"Error": {"Code": "ExecutionAlreadyExists", "Message": ""}}, "StartExecution")
        self.calls.append(("start", name))

    def _check(self, token):
        if token in self.spent:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "spent"}}, "SendTaskSuccess")
        self.spent.add(token)


@pytest.fixture
def signaller(hub, seeded):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    waits = WaitStore(seeded.dynamodb, seeded.settings.orders_table)
    return Signaller(waits, Workflow(StepFunctionsRecorder(), "arn:sm"), lambda: NOW)


def _move(deps, track: str, value: str, rank: int, key: str):
    event = TimelineEvent(event_key=key, source="test", kind="test", received_at=NOW, summary=key)
    deps.orders.record_event(ORDER_ID, event, TrackUpdate(track, value, rank))


def test_a_wait_is_parked_then_resumed_when_the_track_settles_it(signaller, seeded):
    assert signaller.register(ORDER_ID, WaitKind.DROPOFF, "tok-1", timeout_seconds=60) is None
    assert [i["sk"] for i in table_items("OrdersTable") if i["sk"].startswith("WAIT#")] == ["WAIT#dropoff"]
    _move(seeded, "rent_state", "in_progress", 40, "e1")
    assert set(signaller.settle(ORDER_ID)) == {"dropoff"}
    assert signaller.workflow.client.calls == [("success", "tok-1")]
    assert not [i for i in table_items("OrdersTable") if i["sk"].startswith("WAIT#")]


def waiting_for() -> set[str] | None:
    (order,) = [i for i in table_items("OrdersTable") if i["sk"] == "META"]
    return order.get("waiting_for")


def test_the_order_item_names_its_open_waits_while_they_are_open(signaller, seeded):
    # Given an order with no wait: its item names none (the stream's filter passes none of its changes)
    assert waiting_for() is None
    # When the workflow parks on the drop-off
    signaller.register(ORDER_ID, WaitKind.DROPOFF, "tok-1", timeout_seconds=60)
    # Then the order item names it, in the wait's own write
    assert waiting_for() == {"dropoff"}
    # And once the rent settles it, the order item names no wait any more
    _move(seeded, "rent_state", "in_progress", 40, "e1")
    signaller.settle(ORDER_ID)
    assert waiting_for() is None and signaller.workflow.client.calls == [("success", "tok-1")]


def test_a_wait_replaced_by_a_retry_keeps_one_mark_and_one_close_clears_it(signaller, seeded):
    signaller.register(ORDER_ID, WaitKind.PICKUP, "tok-1", timeout_seconds=60)
    signaller.register(ORDER_ID, WaitKind.PICKUP, "tok-2", timeout_seconds=60)
    assert waiting_for() == {"pickup"}
    _move(seeded, "rent_state", "collect_item", 60, "e1")
    assert set(signaller.settle(ORDER_ID)) == {"pickup"}
    assert waiting_for() is None and signaller.workflow.client.calls == [("success", "tok-2")]


def test_an_event_that_came_before_the_wait_settles_it_at_once(signaller, seeded):
    _move(seeded, "rent_state", "in_progress", 40, "e1")
    result = signaller.register(ORDER_ID, WaitKind.DROPOFF, "tok-1", timeout_seconds=60)
    assert result is not None and result.ok
    assert signaller.workflow.client.calls == [("success", "tok-1")]


def test_failure_verdicts_are_sent_with_their_error_name(signaller, seeded):
    signaller.register(ORDER_ID, WaitKind.PICKUP, "tok-2", timeout_seconds=60)
    _move(seeded, "rent_state", "expired", 50, "e1")
    signaller.settle(ORDER_ID)
    assert signaller.workflow.client.calls == [("failure", "tok-2", "RentExpired")]


def test_settling_twice_sends_once(signaller, seeded):
    signaller.register(ORDER_ID, WaitKind.DROPOFF, "tok-1", timeout_seconds=60)
    _move(seeded, "rent_state", "in_progress", 40, "e1")
    signaller.settle(ORDER_ID)
    signaller.settle(ORDER_ID)
    assert signaller.workflow.client.calls == [("success", "tok-1")]


def test_a_spent_token_is_harmless(signaller, seeded):
    signaller.workflow.client.spent.add("tok-old")
    signaller.register(ORDER_ID, WaitKind.DROPOFF, "tok-old", timeout_seconds=60)
    _move(seeded, "rent_state", "in_progress", 40, "e1")
    assert set(signaller.settle(ORDER_ID)) == {"dropoff"}  # judged, closed; Step Functions said "too late"
    assert signaller.workflow.client.calls == []


def test_unsettled_waits_stay_open(signaller, seeded):
    signaller.register(ORDER_ID, WaitKind.PICKUP, "tok-3", timeout_seconds=60)
    _move(seeded, "rent_state", "in_progress", 40, "e1")
    assert signaller.settle(ORDER_ID) == {}
    assert [i["token"] for i in table_items("OrdersTable") if i["sk"] == "WAIT#pickup"] == ["tok-3"]


def test_workflow_starts_once_per_order():
    recorder = StepFunctionsRecorder()
    assert start_workflow(Workflow(recorder, "arn:sm"), "o-1") is True
    assert start_workflow(Workflow(recorder, "arn:sm"), "o-1") is False
    assert recorder.calls == [("start", "o-1")]


def test_courier_waits_are_on_the_keepers_index_and_locker_waits_are_not(signaller):
    signaller.register(ORDER_ID, WaitKind.COURIER_PICKED_UP, "tok-c", timeout_seconds=60)
    signaller.register(ORDER_ID, WaitKind.DROPOFF, "tok-d", timeout_seconds=60)
    assert [w.token for w in signaller.waits.kept("courier")] == ["tok-c"]


def test_keeper_sends_heartbeats_and_closes_waits_whose_execution_is_gone(signaller, seeded):
    from orderbridge.deps import Deps
    from orderbridge.workflow.keeper import keep_courier_waits

    class Recorder(StepFunctionsRecorder):
        def send_task_heartbeat(self, *, taskToken):
            self._check(taskToken)
            self.spent.discard(taskToken)  # a heartbeat does not use the token up
            self.calls.append(("heartbeat", taskToken))

    recorder = Recorder()
    signaller.workflow = Workflow(recorder, "arn:sm")
    signaller.register(ORDER_ID, WaitKind.COURIER_PICKED_UP, "tok-live", timeout_seconds=60)
    other = order_id_for("blink", "other")
    signaller.waits.put(other, "courier_finished", "tok-gone", now=NOW, expires_at=None, keeper="courier")
    recorder.spent.add("tok-gone")
    deps = Deps(seeded.settings, clock=lambda: NOW)
    deps.stepfunctions = recorder

    run = keep_courier_waits(deps)

    assert (run.waits, run.heartbeats, run.closed) == (2, 1, 1)
    assert ("heartbeat", "tok-live") in recorder.calls
    assert [w.token for w in signaller.waits.kept("courier")] == ["tok-live"]


def test_a_verdict_step_functions_did_not_take_leaves_the_wait_open_for_a_retry(signaller, seeded):
    class Down(StepFunctionsRecorder):
        def send_task_success(self, *, taskToken, output):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendTaskSuccess")

    signaller.workflow = Workflow(Down(), "arn:sm")
    signaller.register(ORDER_ID, WaitKind.DROPOFF, "tok-1", timeout_seconds=60)
    _move(seeded, "rent_state", "in_progress", 40, "e1")
    with pytest.raises(WorkflowUnavailable) as raised:
        signaller.settle(ORDER_ID)
    assert isinstance(raised.value.__cause__, ClientError)
    assert [w.token for w in signaller.waits.open_waits(ORDER_ID)] == ["tok-1"]
    signaller.workflow = Workflow(StepFunctionsRecorder(), "arn:sm")  # back up: the stream's retry settles it
    assert set(signaller.settle(ORDER_ID)) == {"dropoff"}
