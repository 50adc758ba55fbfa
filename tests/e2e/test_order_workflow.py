"""The order workflow on the local stack — issue "The delivery-to-locker flow in Step Functions".

Each scenario drives one fresh Blink order only as the outside world would: the Blink sandbox
places it (its Order Webhook), the courier and the locker move in their sandboxes (Blink Logistics
task events, DispatchNINJA statuses read by the courier keeper, Bloq.It rent events), vendors
fail through the sandboxes' faults, and an operator uses the ops API. Each is then checked where
it shows:

* the ops API (``GET /ops/orders/{id}``): the order's status tracks and its timeline;
* what Blink received (the Blink sandbox's ``status_history``, ``syncOrderStatus`` entries):
  complete and in order, so compared as a whole list, and monotonic;
* the Bloq.It sandbox's rent and the states it went through;
* the execution in the emulator's Step Functions (named after the order; ``-r<n>`` once resumed).

The session stack runs with ``WorkflowDropoffTimeoutSeconds=40`` (``conftest.py``) so the missed
drop-off deadline can be waited for; the other scenarios drop off within seconds.

Counted, not timed (``pytest -s`` prints them): the state transitions of one execution
(``*StateEntered`` history events — a Standard workflow is billed per state entered) and the
order stream function's invocations about the order (its event filter passes only the changes that
can start a workflow, bring kept events or settle a wait). Locker happy path: 12 transitions (15
before the lanes), the stream function 5 times (26 before the filter, which the local stack did not
apply; 10 on a loaded machine: track moves that land while a settled wait is being closed);
home delivery with DispatchNINJA: 9 (12), 4 (14). Every path's transitions are also walked in
``tests/unit/test_order_workflow_definition.py``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from orderbridge.models.config import Branch, CourierProvider, DeliveryMode
from orderbridge.store.config import ConfigStore
from orderbridge_local.seed import DEMO_BLOQ_IDS, DEMO_MERCHANT, DEV_VENDOR_CREDENTIALS

from tests.e2e.flow import (
    CUSTOMER,
    HOME_BRANCH,
    NO_FALLBACK_BRANCH,
    assert_monotonic,
    count_transitions,
    is_subsequence,
    last_of_ours,
    lisbon_bloqs_unavailable,
    rent_id_of,
    rent_states,
    workflow_entries,
)
from tests.e2e.support import WORKFLOW_DROPOFF_TIMEOUT_SECONDS, invocations

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def lisbon_lockers_released(stack: dict[str, Any], http: httpx.Client, aws: Any, state_machine_arn: str) -> None:
    """The scenarios need the Lisbon Bloqs' M lockers (four of them). An order whose workflow
    failed keeps its locker reservation (for a resume): the session's other e2e tests leave such
    orders behind (test_local_stack's Blend orders reach branch 12345, reserve a locker, then fail
    at SubmitToBlink — the Blend contract has no customer). Their reservations are released
    first, as Bloq.It's back office would (cancel, finish), so these scenarios do not depend on
    what ran before them."""
    running = {
        e["name"][:36]
        for e in aws("stepfunctions").list_executions(
            stateMachineArn=state_machine_arn, statusFilter="RUNNING", maxResults=1000
        )["executions"]
    }
    bloqit = stack["sandboxes"]["bloqit"]
    rents = http.get(f"{bloqit}/_admin/state").json()["rents"]
    left = [
        r
        for r in rents
        if r["state"] in ("created", "reserved")
        and r.get("bloq") in DEMO_BLOQ_IDS
        and r.get("externalID") not in running
    ]
    headers = {"X-API-KEY": DEV_VENDOR_CREDENTIALS["bloqit"]["api_key"]}
    for rent in left:
        for action in ("cancel", "finish"):
            answer = http.put(f"{bloqit}/api/v1/public/rents/{rent['_id']}/{action}", headers=headers)
            assert answer.status_code == 200, answer.text
    if left:
        print(f"\nreleased {len(left)} locker reservation(s) of ended workflows: {[r['externalID'] for r in left]}")


def stream_invocations(flow, order_id: str, label: str) -> int:
    """The order stream function's invocations about the order (its log names the order), once
    no more come for two seconds (a vendor's last webhook may land after the execution ended)."""

    def count() -> int:
        return len([i for i in invocations(flow.stack, "OrderStreamFunction") if i["order_id"] == order_id])

    seen, quiet_since = count(), time.monotonic()
    while time.monotonic() - quiet_since < 2.0:
        time.sleep(0.5)
        now = count()
        if now != seen:
            seen, quiet_since = now, time.monotonic()
    print(f"\n{label}: the order stream function invoked {seen} times")
    return seen


# ------------------------------------------------------------------------------------ scenarios


def test_locker_happy_path(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    assert "Deliver to the Bloq.It locker" in flow.task(task_id)["request"]["instruction"]

    order = flow.deliver_to_locker(placed, task_id, rent_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    assert order["status"] == "delivered", report
    statuses = flow.blink_statuses(placed.blink_order_id)
    assert statuses == [1, 6, 2, 3], report
    assert_monotonic(statuses)
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and rent["externalID"] == placed.order_id
    assert is_subsequence(["reserved", "in_progress", "collect_item", "finished"], rent_states(rent)), rent_states(rent)
    assert order["timeline"][-1]["summary"].startswith("workflow collected"), report
    assert workflow_entries(order) == ["workflow collected"], report
    assert (order["state"], order["failure"]) == ("collected", None), report
    assert count_transitions(flow, placed.order_id, "locker happy path") == 12
    # The new order, its rent and its courier job linked (3), then the courier's and the rent's
    # track moves that land while a wait is open: the one that settles it, and those that come
    # before the stream has closed it — fewer on a quiet machine (5), more under load (10). At
    # most every track move (4 courier, 7 rent) besides the 3: 14. Without the filter: 26 here.
    assert stream_invocations(flow, placed.order_id, "locker happy path") <= 14


def test_home_delivery_with_dispatchninja(flow):
    placed = flow.place(branch_id=HOME_BRANCH, blink_branch_id="60001", **CUSTOMER)
    order = flow.wait_order(placed, lambda o: o["order"].get("dispatchninja_order_id"), "a DispatchNINJA order")
    dn_id = order["order"]["dispatchninja_order_id"]
    dn_order = flow.admin("dispatchninja", "GET", f"/_admin/orders/{dn_id}")
    assert dn_order["form"]["customer_address"] == CUSTOMER["customer_address_description"]

    # DispatchNINJA sends nothing: the courier keeper (every 4 s here) reads each change
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Picked Up"})
    flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told ready and dispatched")
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Completed"})
    flow.wait_execution_end(placed)
    order = flow.order(placed.order_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    statuses = flow.blink_statuses(placed.blink_order_id)
    assert statuses == [1, 6, 2, 3], report
    assert_monotonic(statuses)
    assert order["status"] == "delivered" and order["tracks"]["courier_status"] == "TASK_FINISHED", report
    assert order["tracks"]["rent_state"] is None and flow.bloqit_rents_of(placed.order_id) == []
    assert order["timeline"][-1]["summary"].startswith("workflow delivered"), report
    assert order["state"] == "delivered", report
    assert count_transitions(flow, placed.order_id, "home delivery (DispatchNINJA)") == 9
    assert stream_invocations(flow, placed.order_id, "home delivery (DispatchNINJA)") <= 6


def test_no_free_locker_falls_back_to_home_delivery_by_blink_logistics(flow):
    with lisbon_bloqs_unavailable(flow):
        placed = flow.place(**CUSTOMER)
        order = flow.wait_courier_task(placed)
    task_id = order["order"]["blink_logistics_task_id"]
    request = flow.task(task_id)["request"]
    assert (request["customerAddress"], request["lat"], request["lng"]) == (
        CUSTOMER["customer_address_description"],
        CUSTOMER["customer_address_latitude"],
        CUSTOMER["customer_address_longitude"],
    ), "the courier goes to the customer's door"

    flow.advance_task(task_id, to=27)  # picked up and delivered
    flow.wait_execution_end(placed)
    order = flow.order(placed.order_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    assert {"NoFreeLocker", "FallBackToHomeDelivery", "WaitForHomeDelivery"} <= set(
        flow.states_entered(placed.order_id)
    ), report
    statuses = flow.blink_statuses(placed.blink_order_id)
    assert statuses == [1, 6, 2, 3], report
    assert_monotonic(statuses)
    assert flow.bloqit_rents_of(placed.order_id) == [], "no locker was reserved"
    assert not [e for e in order["timeline"] if e["kind"] == "rent_reserved"], report
    assert last_of_ours(order) == "workflow delivered", report


def test_no_free_locker_and_no_fallback_rejects_the_order_in_blink(flow, stack, aws):
    table = stack["seeded"]["config_table"]
    ConfigStore(aws("dynamodb"), table).put(
        Branch(
            branch_id=NO_FALLBACK_BRANCH,
            merchant_id=DEMO_MERCHANT,
            name="Lockers only",
            blink_id="70001",
            delivery_mode=DeliveryMode.LOCKER,
            courier=CourierProvider.BLINK_LOGISTICS,
            allow_home_delivery_fallback=False,
            bloq_ids=list(DEMO_BLOQ_IDS),
        )
    )
    with lisbon_bloqs_unavailable(flow):
        placed = flow.place(branch_id=NO_FALLBACK_BRANCH, blink_branch_id="70001", **CUSTOMER)
        flow.wait_execution_end(placed)
    order = flow.order(placed.order_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    history = [entry for entry in flow.blink_history(placed.blink_order_id) if entry["source"] == "syncOrderStatus"]
    assert [entry["status"] for entry in history] == [4], report
    assert history[0]["comment"], "Blink requires a comment with a rejection"
    assert order["status"] == "rejected", report
    assert order["timeline"][-1]["summary"] == "workflow rejected: no free locker and no home delivery fallback", report
    assert not order["order"].get("blink_logistics_task_id") and flow.bloqit_rents_of(placed.order_id) == []


def test_courier_cancels_twice_the_workflow_gives_up_and_frees_the_locker(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    first, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)

    flow.advance_task(first, event=28, reason="rider unavailable")
    order = flow.wait_courier_task(placed, not_=first)
    second = order["order"]["blink_logistics_task_id"]
    assert order["order"]["courier_attempt"] == 2
    flow.advance_task(second, event=28, reason="no rider again")
    execution = flow.wait_execution_end(placed)
    order = flow.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "finished", "the rent finished")

    report = flow.report(placed)
    assert (execution["status"], execution.get("error")) == ("FAILED", "CourierCancelled"), report
    assert {flow.task(t)["status"]["event"] for t in (first, second)} == {"TASK_CANCELLED"}
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and is_subsequence(["cancelled", "finished"], rent_states(rent)), rent
    assert "in_progress" not in rent_states(rent)
    assert "workflow failed: the courier cancelled twice" in workflow_entries(order), report
    assert (order["state"], order["failure"]["kind"]) == ("failed", "CourierCancelled"), report
    assert flow.blink_statuses(placed.blink_order_id) == [1], report  # accepted, then left to a person


def test_courier_cancels_once_and_the_second_courier_delivers(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    first, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)

    flow.advance_task(first, event=28, reason="rider unavailable")
    order = flow.wait_courier_task(placed, not_=first)
    second = order["order"]["blink_logistics_task_id"]
    order = flow.deliver_to_locker(placed, second, rent_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    assert "SecondCourierAttempt" in flow.states_entered(placed.order_id)
    statuses = flow.blink_statuses(placed.blink_order_id)
    assert statuses == [1, 6, 2, 3], report
    assert_monotonic(statuses)
    assert order["status"] == "delivered" and order["order"]["courier_attempt"] == 2, report
    assert is_subsequence(["in_progress", "collect_item", "finished"], rent_states(flow.rent(rent_id)))
    assert last_of_ours(order) == "workflow collected", report


def test_missed_dropoff_deadline_cancels_the_rent_and_rejects_in_blink(flow, aws, state_machine_arn):
    described = aws("stepfunctions").describe_state_machine(stateMachineArn=state_machine_arn)
    definition = json.loads(described["definition"])
    deadline = definition["States"]["PlanOrder"]["ResultSelector"]["limits"]["dropoff.$"]
    expected = f"States.StringToJson('{WORKFLOW_DROPOFF_TIMEOUT_SECONDS}')"
    assert deadline == expected, "the session stack's drop-off deadline (conftest.py)"
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    flow.advance_task(task_id, to=26)  # the courier has the goods ... and never reaches the locker
    flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told ready and dispatched")

    execution = flow.wait_execution_end(placed, timeout=WORKFLOW_DROPOFF_TIMEOUT_SECONDS + 20)
    order = flow.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "finished", "the rent finished")

    report = flow.report(placed)
    assert (execution["status"], execution.get("error")) == ("FAILED", "DropOffMissed"), report
    timed_out = [e for e in flow.history(placed.order_id) if e["type"] == "TaskTimedOut"]
    assert len(timed_out) == 1 and timed_out[0]["taskTimedOutEventDetails"]["error"] == "States.Timeout", report
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and is_subsequence(["reserved", "cancelled", "finished"], rent_states(rent))
    assert "in_progress" not in rent_states(rent)
    history = [entry for entry in flow.blink_history(placed.blink_order_id) if entry["source"] == "syncOrderStatus"]
    assert [entry["status"] for entry in history] == [1, 6, 2, 4], report
    assert_monotonic([entry["status"] for entry in history])
    assert history[-1]["comment"]
    assert "workflow failed: the drop-off deadline passed" in workflow_entries(order), report
    assert (order["state"], order["failure"]["step"]) == ("failed", "WaitForDropOff"), report


def test_rent_expired_uncollected_goes_back_as_a_return(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    flow.drop_off(placed, task_id, rent_id)
    try:
        flow.rent_admin(rent_id, "expire")  # the customer never comes
        execution = flow.wait_execution_end(placed)
        order = flow.order(placed.order_id)

        report = flow.report(placed)
        assert (execution["status"], execution.get("error")) == ("FAILED", "Uncollected"), report
        assert {"ReturnUncollected", "RecordUncollected"} <= set(flow.states_entered(placed.order_id)), report
        assert "workflow uncollected: the customer did not collect" in workflow_entries(order), report
        statuses = flow.blink_statuses(placed.blink_order_id)
        assert statuses == [1, 6, 2], report  # never delivered (3)
        assert_monotonic(statuses)
        rent = flow.rent(rent_id)
        assert (rent["type"], rent["state"]) == ("return", "in_progress"), rent
        assert is_subsequence(["in_progress", "expired", "in_progress"], rent_states(rent))
    finally:  # the merchant takes the return out: the locker is free for the next tests
        if flow.rent(rent_id)["state"] == "in_progress":
            flow.rent_admin(rent_id, "pickup")


def test_order_rejected_in_blink_while_waiting_for_the_courier(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    rent_id = rent_id_of(order)

    flow.admin(
        "blink",
        "POST",
        "/_admin/order-status",
        json={"blink_order_id": placed.blink_order_id, "status": 4, "comment": "out of stock"},
    )
    execution = flow.wait_execution_end(placed)
    order = flow.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "finished", "the rent finished")

    report = flow.report(placed)
    assert execution["status"] == "SUCCEEDED", report
    assert order["status"] == "rejected", report
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and is_subsequence(["reserved", "cancelled", "finished"], rent_states(rent))
    assert flow.blink_statuses(placed.blink_order_id) == [1], report  # we sent nothing after Blink rejected
    assert [e["status"] for e in flow.blink_history(placed.blink_order_id)] == [1, 4]
    assert workflow_entries(order) == ["workflow rejected: rejected in Blink"], report
    assert last_of_ours(order) == "workflow rejected: rejected in Blink", report


def test_order_rejected_after_the_drop_off_keeps_the_goods_locked_in(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    flow.drop_off(placed, task_id, rent_id)
    try:
        flow.admin(
            "blink",
            "POST",
            "/_admin/order-status",
            json={"blink_order_id": placed.blink_order_id, "status": 4, "comment": "customer cancelled"},
        )
        execution = flow.wait_execution_end(placed)
        order = flow.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "cancelled", "the rent cancelled")

        report = flow.report(placed)
        assert execution["status"] == "SUCCEEDED", report
        entered = flow.states_entered(placed.order_id)
        assert {"ReleaseRentOfRejected", "CancelRentOfRejected"} <= set(entered), report
        rent = flow.rent(rent_id)
        # the goods are in the locker: cancelled, not finished (Bloq.It keeps the locker until collected)
        assert rent["state"] == "cancelled" and "finished" not in rent_states(rent), report
        assert workflow_entries(order) == ["workflow rejected: rejected in Blink"], report
    finally:  # the merchant takes the goods back (collect, then finish): the locker is free again
        headers = {"X-API-KEY": DEV_VENDOR_CREDENTIALS["bloqit"]["api_key"]}
        for action in ("collect", "finish"):
            flow.http.put(f"{flow.sandbox('bloqit')}/api/v1/public/rents/{rent_id}/{action}", headers=headers)


def test_a_vendor_down_fails_the_workflow_and_the_ops_api_resumes_it(flow, http, stack):
    started = time.monotonic()
    try:
        flow.admin("bloqit", "POST", "/_admin/faults", json={"error_rate": 1.0, "status_code": 503})
        placed = flow.place()
        # the client's own retries, then ReserveLocker's Retry (MaxAttempts 4, backoff 2 s x2, full jitter)
        execution = flow.wait_execution_end(placed, timeout=80)
    finally:
        flow.admin("bloqit", "DELETE", "/_admin/faults")
    order = flow.order(placed.order_id)

    report = flow.report(placed)
    assert (execution["status"], execution.get("error")) == ("FAILED", "OrderWorkflowFailed"), report
    history = flow.history(placed.order_id)
    failures = [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]
    assert failures == ["RetryableVendorError"] * 5, report  # the first try and 4 retries
    # the failure path first frees the locker if nothing was dropped off (here: none was reserved)
    assert flow.states_entered(placed.order_id)[-4:] == [
        "ReserveLockerFailed",
        "ReleaseLockerOnFailure",
        "RecordFailure",
        "Failed",
    ], report
    failed = [e for e in order["timeline"] if e["kind"] == "workflow"]
    assert len(failed) == 1 and failed[0]["summary"].startswith("workflow failed: "), report
    # the failure in plain sight: step, kind, vendor, HTTP status, one line; no stack trace
    assert order["state"] == "failed", report
    assert {k: order["failure"][k] for k in ("step", "kind", "vendor", "http_status")} == {
        "step": "ReserveLocker",
        "kind": "RetryableVendorError",
        "vendor": "bloqit",
        "http_status": 503,
    }, report
    assert "Traceback" not in json.dumps(order) and "\n" not in order["failure"]["message"]
    assert flow.blink_statuses(placed.blink_order_id) == [] and flow.bloqit_rents_of(placed.order_id) == []

    answer = http.post(
        f"{stack['api']}/ops/orders/{placed.order_id}/resume", headers={"X-Api-Key": stack["ops_api_key"]}
    )
    assert answer.status_code == 202, answer.text
    resumed = f"{placed.order_id}-r1"
    assert answer.json()["execution"] == resumed
    order = flow.wait_courier_task(placed)
    order = flow.deliver_to_locker(placed, order["order"]["blink_logistics_task_id"], rent_id_of(order), resumed)

    report = flow.report(placed)
    assert flow.execution_status(resumed) == "SUCCEEDED", report
    assert flow.execution_status(placed.order_id) == "FAILED"
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], report
    assert order["status"] == "delivered", report
    assert last_of_ours(order) == "workflow collected", report
    assert workflow_entries(order) == [failed[0]["summary"], "workflow collected"]
    assert (order["state"], order["failure"]) == ("collected", None), report
    print(f"\nvendor down, failed and resumed to delivered in {time.monotonic() - started:.0f} s")


def test_late_and_duplicate_callbacks_change_nothing(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    before = flow.deliver_to_locker(placed, task_id, rent_id)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", flow.report(placed)
    known = {e["event_key"] for e in before["timeline"]}

    # Blink Logistics sends its last task webhook again, as it was
    sent = [
        h
        for h in flow.admin("blink_logistics", "GET", "/_admin/webhooks", params={"flush": 1})
        if h["body"]["data"]["taskId"] == task_id
    ]
    again = flow.http.post(sent[-1]["url"], content=sent[-1]["raw_body"], headers=sent[-1]["headers"])
    assert again.status_code == 200, again.text
    # Bloq.It sends its rent.finished webhook again (same event, same signature)
    sent = [
        h
        for h in flow.admin("bloqit", "GET", "/_admin/webhooks", params={"flush": 1})
        if h["body"].get("rent") == rent_id and h["body"].get("codeName") == "rent.finished"
    ]
    again = flow.http.post(sent[-1]["url"], content=sent[-1]["raw_body"], headers=sent[-1]["headers"])
    assert again.status_code == 200, again.text
    # ... and a new, late rent.collect_item event for the finished rent
    event = flow.admin("bloqit", "POST", "/_admin/events/rent.collect_item", json={"rentID": rent_id})["event"]
    late = flow.wait_for(
        placed,
        lambda: [
            h
            for h in flow.admin("bloqit", "GET", "/_admin/webhooks", params={"flush": 1})
            if h["body"].get("_id") == event["_id"]
        ],
        "the late event sent",
    )
    assert [h["status"] for h in late] == [200], late
    after = flow.wait_order(placed, lambda o: len(o["timeline"]) > len(before["timeline"]), "the late event kept")
    time.sleep(2.0)  # room for anything the stream would (wrongly) do with it
    after = flow.order(placed.order_id)

    report = flow.report(placed)
    assert after["tracks"] == before["tracks"] and after["status"] == "delivered", report
    assert after["timeline"][: len(before["timeline"])] == before["timeline"], report
    added = [e for e in after["timeline"] if e["event_key"] not in known]
    assert [(e["kind"], e["applied"], e["detail"].get("code_name")) for e in added] == [
        ("rent_event", False, "rent.collect_item")
    ], report  # kept once, as late, not applied
    keys = [e["event_key"] for e in after["timeline"]]
    assert len(keys) == len(set(keys)), report
    assert workflow_entries(after) == ["workflow collected"], report
    assert flow.executions_of(placed.order_id) == [placed.order_id]
    assert flow.execution_status(placed.order_id) == "SUCCEEDED"
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], report
    assert flow.rent(rent_id)["state"] == "finished"
