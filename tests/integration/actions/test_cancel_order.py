"""A person cancels an order (``POST /ops/orders/{id}/cancel``), in each state it can be in.

The request is recorded on the order: an open wait is settled with ``OrderCancelled`` by the order
stream (fed the record moto's table really produced); an order with no execution running gets one
(``<id>-r<n>``) whose plan ends with ``OrderCancelled``. Then the definition's cancel path runs, step
by step, as the committed ``order_workflow.asl.json`` lists it, through the real action Lambdas
against the vendors' respx mocks: Blink is told rejected (4) with the reason exactly once, an empty
rent is cancelled and finished, one holding the goods only cancelled, and the order ends
``cancelled`` with the reason and who asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from orderbridge import entry, ops_api
from orderbridge.models.order import Lifecycle, OrderState
from orderbridge.store.workflow import Workflow

from tests.conftest import table_items
from tests.integration.actions.conftest import (
    BLINK_ORDER_ID,
    DOC_BLOQ_ID,
    DOC_RENT_ID,
    NOW,
    event,
    sent_json,
    timeline,
)
from tests.integration.workflow.test_order_stream import _record, _run_stream
from tests.support import samples
from tests.support.apigw import Answer, invoke, proxy_event

ASL = json.loads((Path(__file__).resolve().parents[3] / "statemachine" / "order_workflow.asl.json").read_text())
STATES = ASL["States"]
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:orders"
REASON = "The customer called: wrong address, order again"
PERSON = "ops-anna"


@dataclass
class StepFunctions:
    """Step Functions as the ops API and the stream use it: which executions run, what was sent."""

    running: set[str] = field(default_factory=set)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def describe_execution(self, *, executionArn: str) -> dict[str, str]:  # noqa: N803 (boto3's names)
        name = executionArn.rsplit(":", 1)[-1]
        return {"status": "RUNNING" if name in self.running else "FAILED"}

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, str]:  # noqa: N803, A002
        self.calls.append(("start", name, json.loads(input)["order_id"]))
        return {"executionArn": f"{stateMachineArn}:{name}"}

    def stop_execution(self, *, executionArn: str, error: str, cause: str) -> dict[str, str]:  # noqa: N803
        name = executionArn.rsplit(":", 1)[-1]
        self.running.discard(name)
        self.calls.append(("stop", name, error))
        return {}

    def send_task_failure(self, *, taskToken: str, error: str, cause: str) -> None:  # noqa: N803
        self.calls.append(("failure", taskToken, error))

    def send_task_success(self, *, taskToken: str, output: str) -> None:  # noqa: N803
        self.calls.append(("success", taskToken))


@pytest.fixture
def sfn(action_deps, monkeypatch) -> StepFunctions:
    """The ops API and the order stream run with the actions' dependencies and this Step Functions."""
    recorder = StepFunctions()
    monkeypatch.setattr(action_deps, "workflow", Workflow(recorder, MACHINE))
    monkeypatch.setattr(entry, "get_deps", lambda: action_deps)  # the order stream's handler
    monkeypatch.setattr(ops_api, "get_deps", lambda: action_deps)  # the ops API's routes
    return recorder


@pytest.fixture
def blink_order(hub, sfn) -> str:
    """The Blink doc's sample order (in Blink: it has Blink's id), its first execution running."""
    assert hub.blink_order(samples.text("blink_order_webhook.json")).status == 200
    sfn.running.add(BLINK_ORDER_ID)
    return BLINK_ORDER_ID


def cancel(order_id: str, body: Any, *, who: str = PERSON) -> Answer:
    path = f"/ops/orders/{order_id}/cancel"
    request = proxy_event(
        "POST",
        path,
        resource="/ops/orders/{order_id}/cancel",
        path_params={"order_id": order_id},
        body=body if isinstance(body, str) else json.dumps(body),
    )
    request["requestContext"]["authorizer"] = {"username": who, "kind": "cognito"}
    return invoke("OpsApiFunction", request)


def meta(order_id: str) -> dict[str, Any]:
    return next(i for i in table_items("OrdersTable") if i["pk"] == f"ORDER#{order_id}" and i["sk"] == "META")


def wait_for(act, order_id: str, kind: str, token: str) -> None:
    answer = act(
        "RegisterWaitFunction",
        {"order_id": order_id, "execution": order_id, "wait": kind, "token": token, "timeout_seconds": 600},
    )
    assert answer["settled_now"] is False


def run_cancel_path(act, order_id: str, execution: str, start: str = "RejectCancelledInBlink") -> list[str]:
    """Run the definition's states from ``start`` to the end, each Task through its action Lambda
    with the Parameters the definition gives it; returns the states entered."""
    data: dict[str, Any] = {"order_id": order_id}
    entered, name = [], start
    while name:
        entered.append(name)
        state = STATES[name]
        if state["Type"] == "Task":
            payload = {
                key.removesuffix(".$"): {"$.order_id": order_id, "$$.Execution.Name": execution}[value]
                if key.endswith(".$")
                else value
                for key, value in state["Parameters"]["Payload"].items()
            }
            function = state["Parameters"]["FunctionName"].removeprefix("${").removesuffix("Arn}")
            result = act(function, payload)
            if state.get("ResultPath"):
                data[state["ResultPath"].removeprefix("$.")] = {"result": result}
            name = state.get("Next")
        elif state["Type"] == "Choice":
            name = next((rule["Next"] for rule in state["Choices"] if _holds(rule, data)), state["Default"])
        else:
            raise AssertionError(f"the cancel path enters a {state['Type']} state: {name}")
    return entered


def _holds(rule: dict[str, Any], data: dict[str, Any]) -> bool:
    """The Choice rules the cancel path uses: And, Not, BooleanEquals, IsPresent, IsNull."""
    if "And" in rule:
        return all(_holds(r, data) for r in rule["And"])
    if "Not" in rule:
        return not _holds(rule["Not"], data)
    value: Any = data
    present = True
    for part in rule["Variable"].removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            present, value = False, None
            break
        value = value[part]
    if "IsPresent" in rule:
        return present is rule["IsPresent"]
    if "IsNull" in rule:
        return (value is None) is rule["IsNull"]
    return present and value == rule["BooleanEquals"]


def status_4_sent(vendors) -> list[dict[str, Any]]:
    return [sent_json(vendors.sync_status, i) for i in range(vendors.sync_status.call_count)]


def ended_cancelled(deps, order_id: str) -> dict[str, Any]:
    view = deps.orders.get(order_id)
    assert view is not None and view.lifecycle.state is OrderState.CANCELLED
    return next(e.model_dump() for e in view.timeline if e.summary.startswith("workflow cancelled"))


@pytest.fixture
def reserved_locker(act, blink_order) -> str:
    """A locker reserved at Bloq.It for the Blink order (the rent is empty)."""
    out = act("ReserveLockerFunction", event("reserve_locker", order_id=blink_order, execution=blink_order))
    assert out["rent_id"] == DOC_RENT_ID and out["state"] == "reserved"
    return blink_order


# -- an execution waits: the request settles its wait ---------------------------------------------


def test_an_order_waiting_for_its_drop_off_is_cancelled_rejected_in_blink_and_its_empty_locker_freed(
    act, vendors, sfn, reserved_locker, action_deps
):
    # Given a locker delivery waiting for the courier's drop-off (its rent reserved, empty)
    order_id = reserved_locker
    wait_for(act, order_id, "dropoff", "tok-dropoff")
    before = meta(order_id)
    # When a person cancels it with a reason
    answer = cancel(order_id, {"reason": REASON})
    # Then the running execution takes it (nothing started, nothing sent to a vendor yet)
    assert answer.status == 202
    assert answer.body == {"order_id": order_id, "execution": order_id, "started": False}
    assert vendors.sync_status.call_count == 0 and vendors.cancel.call_count == 0
    # And the order stream settles the open wait with OrderCancelled
    assert _run_stream(_record("MODIFY", meta(order_id), before)) == {"batchItemFailures": []}
    assert sfn.calls == [("failure", "tok-dropoff", "OrderCancelled")]
    assert STATES["WaitForDropOff"]["Catch"][0] == {
        "ErrorEquals": ["OrderCancelled"],
        "ResultPath": "$.error",
        "Next": "RejectCancelledInBlink",
    }
    # When the cancel path runs
    entered = run_cancel_path(act, order_id, order_id)
    # Then Blink got exactly one status 4 with the reason as its comment
    assert status_4_sent(vendors) == [{"blink_order_id": "1236589", "status": 4, "comment": REASON}]
    # And the empty rent was cancelled and finished, once each
    assert (vendors.cancel.call_count, vendors.finish.call_count) == (1, 1)
    assert vendors.cancel.calls.last.request.url.path.endswith(f"/rents/{DOC_RENT_ID}/cancel")
    assert action_deps.rents.get(DOC_RENT_ID).state == "finished"
    assert entered == ["RejectCancelledInBlink", "ReleaseRentOfCancelled", "CancelledRentStillHoldsTheGoods"] + [
        "RecordCancelled"
    ]
    # And the order is cancelled, its timeline naming the reason and who asked
    ended = ended_cancelled(action_deps, order_id)
    assert REASON in ended["summary"] and PERSON in ended["summary"]
    asked = [e for e in timeline(action_deps, order_id) if e["kind"] == "cancel_requested"]
    assert [(e["detail"]["reason"], e["detail"]["by"]) for e in asked] == [(REASON, PERSON)]
    # And running the path again (a retried or resumed run) sends nothing more
    run_cancel_path(act, order_id, f"{order_id}-r9")
    assert (vendors.sync_status.call_count, vendors.cancel.call_count, vendors.finish.call_count) == (1, 1, 1)
    # And the ended order cannot be cancelled again
    assert cancel(order_id, {"reason": REASON}).status == 409


def test_an_order_waiting_for_the_kitchen_is_cancelled_and_rejected_in_blink(
    act, vendors, sfn, blink_order, action_deps
):
    # Given a counter pickup waiting for the kitchen to end it in Blink
    wait_for(act, blink_order, "blink_completed", "tok-kitchen")
    before = meta(blink_order)
    # When a person cancels it, and the order stream judges the change
    assert cancel(blink_order, {"reason": REASON}).status == 202
    _run_stream(_record("MODIFY", meta(blink_order), before))
    # Then its wait ended with OrderCancelled, and the cancel path tells Blink once, frees no locker
    assert sfn.calls == [("failure", "tok-kitchen", "OrderCancelled")]
    run_cancel_path(act, blink_order, blink_order)
    assert status_4_sent(vendors) == [{"blink_order_id": "1236589", "status": 4, "comment": REASON}]
    assert vendors.cancel.call_count == 0 and vendors.finish.call_count == 0
    assert REASON in ended_cancelled(action_deps, blink_order)["summary"]


def test_a_wait_registered_after_the_request_ends_at_once(act, sfn, blink_order):
    # Given a cancel asked while the execution was between two steps (no wait open)
    assert cancel(blink_order, {"reason": REASON}).status == 202
    # When the workflow parks on its next wait
    answer = act(
        "RegisterWaitFunction",
        {
            "order_id": blink_order,
            "execution": blink_order,
            "wait": "courier_picked_up",
            "token": "t",
            "timeout_seconds": 60,
        },
    )
    # Then that wait is settled at once with OrderCancelled
    assert answer["settled_now"] is True and sfn.calls == [("failure", "t", "OrderCancelled")]


# -- no execution runs: one is started and its plan takes the cancel path ---------------------------


def _no_execution_runs(sfn, deps, order_id: str, state: OrderState) -> None:
    sfn.running.discard(order_id)
    deps.orders.set_state(order_id, Lifecycle(state=state, at=NOW))


def _started_and_planned_to_cancel(act, sfn, order_id: str) -> str:
    execution = f"{order_id}-r1"
    assert sfn.calls == [("start", execution, order_id)]
    with pytest.raises(Exception) as planned:
        act("PlanOrderFunction", {"order_id": order_id, "execution": execution})
    assert type(planned.value).__name__ == "OrderCancelled"
    assert {"ErrorEquals": ["OrderCancelled"], "ResultPath": "$.error", "Next": "RejectCancelledInBlink"} in STATES[
        "PlanOrder"
    ]["Catch"]
    return execution


def test_a_failed_order_holding_the_goods_gets_a_cancelling_execution_and_its_rent_is_only_cancelled(
    act, hub, vendors, sfn, reserved_locker, action_deps
):
    # Given a locker delivery whose goods are in the locker, and whose workflow failed
    order_id = reserved_locker
    body = {"_id": "evt-in", "codeName": "rent.in_progress", "rent": DOC_RENT_ID, "bloq": DOC_BLOQ_ID}
    assert hub.bloq(body).status in (200, 202)
    _no_execution_runs(sfn, action_deps, order_id, OrderState.FAILED)
    # When a person cancels it
    answer = cancel(order_id, {"reason": REASON})
    # Then an execution is started for it, in progress "cancelling", whose plan takes the cancel path
    assert answer.status == 202
    assert answer.body == {"order_id": order_id, "execution": f"{order_id}-r1", "started": True}
    assert action_deps.orders.get(order_id).lifecycle.step == "cancelling"
    execution = _started_and_planned_to_cancel(act, sfn, order_id)
    entered = run_cancel_path(act, order_id, execution)
    # And Blink got one status 4; the rent holding the goods was cancelled, not finished
    assert [b["status"] for b in status_4_sent(vendors)] == [4]
    assert (vendors.cancel.call_count, vendors.finish.call_count) == (1, 0)
    assert "CancelRentOfCancelled" in entered
    assert ended_cancelled(action_deps, order_id)


def test_a_pre_order_waiting_for_its_start_time_is_stopped_and_cancelled_by_a_new_execution(
    act, vendors, sfn, blink_order, action_deps
):
    # Given a pre-order whose execution waits for its start time (a Wait state: no token to settle)
    action_deps.orders.set_state(blink_order, Lifecycle(state=OrderState.IN_PROGRESS, step="due_time", at=NOW))
    # When a person cancels it
    answer = cancel(blink_order, {"reason": REASON})
    # Then that execution is stopped (it would book a locker and a courier at its start time) and a
    # new one takes the cancel path: Blink is told once, nothing was booked
    assert answer.status == 202 and answer.body["started"] is True
    assert sfn.calls[0] == ("stop", blink_order, "OrderCancelled")
    sfn.calls.pop(0)
    run_cancel_path(act, blink_order, _started_and_planned_to_cancel(act, sfn, blink_order))
    assert [b["status"] for b in status_4_sent(vendors)] == [4]
    assert vendors.create_delivery.call_count == 0 and vendors.create_task.call_count == 0
    assert ended_cancelled(action_deps, blink_order)


def test_an_order_needing_attention_is_cancelled_by_a_new_execution(act, vendors, sfn, blink_order, action_deps):
    # Given an order that needs a person (its execution ended)
    _no_execution_runs(sfn, action_deps, blink_order, OrderState.NEEDS_ATTENTION)
    assert "cancel" in invoke_get(blink_order)["actions"]
    # When a person cancels it
    answer = cancel(blink_order, {"reason": REASON})
    # Then an execution runs the cancel path: one status 4, no locker to free
    assert answer.status == 202 and answer.body["started"] is True
    run_cancel_path(act, blink_order, _started_and_planned_to_cancel(act, sfn, blink_order))
    assert status_4_sent(vendors) == [{"blink_order_id": "1236589", "status": 4, "comment": REASON}]
    assert vendors.cancel.call_count == 0
    assert ended_cancelled(action_deps, blink_order)
    assert "cancel" not in invoke_get(blink_order)["actions"]


def test_an_order_blink_already_rejected_is_cancelled_without_telling_blink_again(
    act, hub, vendors, sfn, blink_order, action_deps
):
    # Given an order Blink rejected, whose workflow failed before it recorded that
    assert hub.blink_status({"blink_order_id": "1236589", "status": 4, "comment": "closed"}).status in (200, 202)
    _no_execution_runs(sfn, action_deps, blink_order, OrderState.FAILED)
    # When a person cancels it and the cancel path runs
    assert cancel(blink_order, {"reason": REASON}).status == 202
    run_cancel_path(act, blink_order, _started_and_planned_to_cancel(act, sfn, blink_order))
    # Then Blink is not told again, and the order ends cancelled
    assert vendors.sync_status.call_count == 0
    assert ended_cancelled(action_deps, blink_order)


def test_a_partner_order_never_submitted_to_blink_is_cancelled_without_a_blink_call(
    act, vendors, sfn, partner_order, action_deps
):
    # Given a partner order that needs attention before it reached Blink (no Blink id)
    _no_execution_runs(sfn, action_deps, partner_order, OrderState.NEEDS_ATTENTION)
    # When a person cancels it and the cancel path runs
    assert cancel(partner_order, {"reason": REASON}).status == 202
    run_cancel_path(act, partner_order, _started_and_planned_to_cancel(act, sfn, partner_order))
    # Then nothing is sent to Blink (the timeline says why) and the order is cancelled
    assert vendors.sync_status.call_count == 0
    said = [e["summary"] for e in timeline(action_deps, partner_order) if e["kind"] == "blink_status_sync"]
    assert said == ["status 4 Rejected not sent to Blink: the order is not in Blink"]
    assert ended_cancelled(action_deps, partner_order)


def test_the_answer_names_a_courier_job_the_courier_api_cannot_cancel(act, vendors, sfn, reserved_locker):
    # Given a locker delivery whose Blink Logistics task was created
    act("CreateBlinkLogisticsTaskFunction", event("create_blink_logistics_task", order_id=reserved_locker))
    # When a person cancels it
    answer = cancel(reserved_locker, {"reason": REASON})
    # Then the answer says the courier job is to be cancelled by hand (Blink Logistics has no cancel)
    assert answer.status == 202
    assert "offers no cancel" in answer.body["courier"] and "Blink Logistics" in answer.body["courier"]


# -- refused -----------------------------------------------------------------------------------------


def invoke_get(order_id: str) -> dict[str, Any]:
    request = proxy_event(
        "GET", f"/ops/orders/{order_id}", resource="/ops/orders/{order_id}", path_params={"order_id": order_id}
    )
    answer = invoke("OpsApiFunction", request)
    assert answer.status == 200
    return answer.body


@pytest.mark.parametrize("state", [OrderState.DELIVERED, OrderState.COLLECTED, OrderState.REJECTED])
def test_an_order_that_has_ended_is_409_and_nothing_is_recorded(state, sfn, blink_order, vendors, action_deps):
    # Given an order that has ended
    action_deps.orders.set_state(blink_order, Lifecycle(state=state, at=NOW))
    assert "cancel" not in invoke_get(blink_order)["actions"]
    # When a person tries to cancel it
    answer = cancel(blink_order, {"reason": REASON})
    # Then 409 names its state; no request is recorded, no execution started, nothing sent
    assert answer.status == 409 and answer.body["errors"][0]["field"] == "state"
    assert "cancel_request" not in meta(blink_order) and sfn.calls == []
    assert vendors.calls() == []


def test_an_unknown_order_is_404(sfn):
    assert cancel("no-such-order", {"reason": REASON}).status == 404


@pytest.mark.parametrize(
    ("body", "status", "field_"),
    [
        ({}, 422, "reason"),
        ({"reason": ""}, 422, "reason"),
        ({"reason": "   "}, 422, "reason"),
        ({"reason": "x" * 501}, 422, "reason"),
        ({"reason": REASON, "extra": 1}, 422, "extra"),
        ("not json", 400, None),
    ],
)
def test_a_bad_body_is_refused_with_the_field_at_fault(body, status, field_, sfn, blink_order):
    answer = cancel(blink_order, body)
    assert answer.status == status
    if field_:
        assert field_ in {e["field"] for e in answer.body["errors"]}
    assert "cancel_request" not in meta(blink_order) and sfn.calls == []
