"""Rent reconciliation on the local stack: Bloq.It loses every webhook of a locker delivery's drop-off
and pickup, and the workflow still ends collected — through ``SyncRentsFunction`` alone."""

from __future__ import annotations

from tests.e2e.flow import Flow, rent_id_of

SYNC = "SyncRentsFunction"


def dropped(flow: Flow, rent_id: str) -> set[str]:
    """The rent's webhooks the Bloq.It sandbox dropped (event names)."""
    hooks = flow.admin("bloqit", "GET", "/_admin/webhooks", params={"flush": "1"})
    return {h["label"] for h in hooks if h["status"] == "dropped" and (h["body"] or {}).get("rent") == rent_id}


def test_a_drop_off_and_pickup_whose_webhooks_were_lost_end_collected_through_reconciliation(flow: Flow) -> None:
    # Given a locker delivery whose courier has the goods, and from now on every Bloq.It webhook lost
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    flow.advance_task(task_id, to=26)  # TASK_STARTED
    flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told ready and dispatched")
    flow.admin("bloqit", "POST", "/_admin/faults", json={"drop_webhooks": True})
    try:
        # When the courier drops the goods off, and the reconciliation runs
        flow.rent_admin(rent_id, "dropoff")
        order = flow.fire_until(
            SYNC,
            lambda: flow.order_if(placed, lambda o: o["tracks"]["rent_state"] == "in_progress"),
            "the drop-off found",
            placed=placed,
        )
        flow.wait_order(
            placed,
            lambda o: any(
                e["kind"] == "rent_action" and e["detail"].get("action") == "notify_customer" for e in o["timeline"]
            ),
            "the customer notified",
        )
        # ... and the customer collects, and the reconciliation runs again
        flow.rent_admin(rent_id, "pickup")
        order = flow.fire_until(
            SYNC,
            lambda: flow.order_if(placed, lambda o: o["state"] == "collected"),
            "the order collected",
            placed=placed,
        )
    finally:
        flow.admin("bloqit", "DELETE", "/_admin/faults")

    # Then the workflow ended collected, on rent events that only the reconciliation brought
    report = flow.report(placed)
    assert flow.wait_execution_end(placed)["status"] == "SUCCEEDED", report
    assert (order["state"], order["tracks"]["rent_state"], order["status"]) == ("collected", "finished", "delivered")
    assert {"rent.in_progress", "rent.finished"} <= dropped(flow, rent_id), report
    found = {
        e["detail"]["code_name"] for e in order["timeline"] if e["detail"].get("found_by") == "rent reconciliation"
    }
    assert {"rent.in_progress", "rent.collect_item", "rent.finished"} <= found, report
