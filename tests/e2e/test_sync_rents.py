"""Rent reconciliation on the local stack: Bloq.It loses every webhook of a locker delivery's drop-off
and pickup, and the workflow still ends collected — through ``SyncRentsFunction`` alone."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.flow import Flow, Placed, rent_id_of

SYNC = "SyncRentsFunction"


def fire_sync(flow: Flow) -> None:
    """Fire the rent reconciliation now (the local stack's admin route, as ``fire`` does)."""
    answer = flow.http.post(f"{flow.stack['admin']}/schedules/{SYNC}/fire")
    assert answer.status_code == 200, answer.text


def reconciled(flow: Flow, placed: Placed, predicate: Any, what: str) -> dict[str, Any]:
    """Fire the sync (asynchronous, like EventBridge) every few seconds until the order satisfies
    ``predicate`` (a run may meet a workflow step still in flight)."""
    fired_at = [0.0]

    def check() -> dict[str, Any] | None:
        if time.monotonic() - fired_at[0] > 3.0 * flow.patience:
            fire_sync(flow)
            fired_at[0] = time.monotonic()
        found = flow.order(placed.order_id)
        return found if found is not None and predicate(found) else None

    return flow.wait_for(placed, check, what, timeout=30.0)


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
        order = reconciled(flow, placed, lambda o: o["tracks"]["rent_state"] == "in_progress", "the drop-off found")
        flow.wait_order(
            placed,
            lambda o: any(
                e["kind"] == "rent_action" and e["detail"].get("action") == "notify_customer" for e in o["timeline"]
            ),
            "the customer notified",
        )
        # ... and the customer collects, and the reconciliation runs again
        flow.rent_admin(rent_id, "pickup")
        order = reconciled(flow, placed, lambda o: o["state"] == "collected", "the order collected")
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
