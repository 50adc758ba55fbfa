"""A person cancels an order through the ops API on the local stack (``POST /ops/orders/{id}/cancel``):
the order's open wait ends, the workflow's cancel path tells Blink rejected (4) with the reason and
frees the locker at Bloq.It, and the order ends ``cancelled``."""

from __future__ import annotations

from tests.e2e.flow import is_subsequence, rent_id_of, rent_states, workflow_entries

REASON = "The customer called to cancel: ordered twice"


def test_a_locker_order_waiting_for_its_drop_off_is_cancelled_through_the_ops_api(flow):
    # Given a locker delivery whose courier has the goods: the workflow waits for the drop-off
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    flow.advance_task(task_id, to=26)  # TASK_STARTED
    flow.wait_order(placed, lambda o: o["step"] == "dropoff", "the workflow waiting for the drop-off")
    assert "cancel" in flow.order(placed.order_id)["actions"]

    # When a person cancels it through the ops API, with a reason
    answer = flow.ops("POST", f"/orders/{placed.order_id}/cancel", json={"reason": REASON})

    # Then the running execution takes the cancel path and ends
    assert answer.status_code == 202, answer.text
    assert answer.json()["execution"] == placed.order_id and answer.json()["started"] is False
    assert "Blink Logistics" in answer.json()["courier"]  # its API has no cancel: said, by hand
    execution = flow.wait_execution_end(placed)
    order = flow.wait_order(placed, lambda o: o["state"] == "cancelled", "the order cancelled")
    report = flow.report(placed)
    assert execution["status"] == "SUCCEEDED", report
    entered = flow.states_entered(placed.order_id)
    assert is_subsequence(["WaitForDropOff", "RejectCancelledInBlink", "RecordCancelled"], entered), report
    # And Blink received one rejection (4), after what it had, with the reason as its comment
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 4], report
    rejections = [e for e in flow.blink_history(placed.blink_order_id) if e["status"] == 4]
    assert [e.get("comment") for e in rejections] == [REASON], report
    # And the empty rent was cancelled and finished at Bloq.It
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and is_subsequence(["reserved", "cancelled", "finished"], rent_states(rent))
    # And the order says why and who, and offers no action any more
    (ended,) = workflow_entries(order)
    assert ended.startswith(f"workflow cancelled: {REASON} (cancelled by "), report
    assert order["actions"] == [] and order["status"] == "rejected", report
    assert flow.ops("POST", f"/orders/{placed.order_id}/cancel", json={"reason": REASON}).status_code == 409
