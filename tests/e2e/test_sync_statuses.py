"""Blink status reconciliation on the local stack: the Blink sandbox drops the Order Status Webhook
of a dine-in order the kitchen has finished, and the order still ends delivered — through
``SyncBlinkStatusesFunction`` alone (the stack runs it only when fired, on statuses unmoved for 2 s:
``conftest.py``)."""

from __future__ import annotations

import time

from tests.e2e.flow import Flow

SYNC = "SyncBlinkStatusesFunction"


def dropped(flow: Flow, blink_order_id: str) -> bool:
    """The Blink sandbox dropped the order's status webhook (it is sent from a worker thread)."""
    hooks = flow.admin("blink", "GET", "/_admin/webhooks")
    return any(
        h["status"] == "dropped" and (h["body"] or {}).get("blink_order_id") == blink_order_id
        for h in hooks
        if h["label"] == "order-status"
    )


def test_a_status_whose_webhook_blink_dropped_is_recorded_by_the_reconciliation_and_the_order_ends(
    flow: Flow,
) -> None:
    # Given a dine-in order waiting for the kitchen to end it in Blink
    placed = flow.place(
        type="DINE-IN",
        customer_name="Ana Reconciled",
        customer_address_description="DINE-IN",
        customer_address_latitude=None,
        customer_address_longitude=None,
    )
    flow.wait_order(placed, lambda o: o["step"] == "blink_completed", "accepted, then waiting for the kitchen")
    # When the kitchen marks it delivered and Blink drops that webhook
    flow.admin("blink", "POST", "/_admin/faults", json={"drop_webhooks": True})
    try:
        flow.admin("blink", "POST", "/_admin/order-status", json={"blink_order_id": placed.blink_order_id, "status": 3})
        flow.wait_for(placed, lambda: dropped(flow, placed.blink_order_id), "the status webhook dropped")
    finally:
        flow.admin("blink", "DELETE", "/_admin/faults")
    assert flow.order(placed.order_id)["status"] != "delivered"  # nothing told us

    # Then the reconciliation reads it back with getOrder, and the workflow ends the order delivered
    order = flow.fire_until(
        SYNC,
        lambda: flow.order_if(placed, lambda o: o["status"] == "delivered"),
        "the missed status read back",
        placed=placed,
    )
    events = [e for e in order["timeline"] if e["kind"] == "blink_status"]
    assert [(e["detail"]["status"], e["detail"]["via"]) for e in events] == [(3, "reconciliation")]
    order = flow.wait_order(placed, lambda o: o["state"] == "delivered", "the workflow ended the order")
    assert flow.wait_execution_end(placed)["status"] == "SUCCEEDED", flow.report(placed)

    # And firing it again records nothing more
    flow.fire(SYNC)
    time.sleep(2.0 * flow.patience)
    again = flow.order(placed.order_id)
    assert again is not None and len([e for e in again["timeline"] if e["kind"] == "blink_status"]) == 1
