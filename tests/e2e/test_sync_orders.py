"""The order catch-up on the local stack: Blink drops an order's webhook; the catch-up
(``SyncOrdersFunction``, fired now) enters it once, the status kept before it is applied, its
workflow takes it to its end, and the webhook that comes late is a duplicate."""

from __future__ import annotations

from typing import Any

from tests.e2e.flow import Flow


def test_an_order_whose_webhook_blink_dropped_is_caught_up_once_and_ends_collected(flow: Flow) -> None:
    # Given Blink drops the Order Webhook of a counter pick-up order
    flow.admin("blink", "POST", "/_admin/faults", json={"drop_webhooks": True})
    try:
        placed = flow.place(
            type="PICK-UP", customer_name="Ana Catchup", customer_address_latitude=None, customer_address_longitude=None
        )

        # (Blink sends its webhooks from a queue: the fault holds until this one has gone out)
        def sent() -> list[dict[str, Any]]:
            webhooks = flow.admin("blink", "GET", "/_admin/webhooks?label=order")
            return [w for w in webhooks if w["body"].get("blink_order_id") == placed.blink_order_id]

        delivered = flow.wait_for(placed, sent, "the Order Webhook sent")
    finally:
        flow.admin("blink", "DELETE", "/_admin/faults")
    assert [w["status"] for w in delivered] == ["dropped"]
    dropped = delivered
    # And the kitchen accepts it in Blink: its status webhook comes for an order we do not know
    flow.kitchen(placed.blink_order_id, 1)
    assert flow.order(placed.order_id) is None

    # When the order catch-up runs
    flow.fire("SyncOrdersFunction")

    # Then the order is entered (at the branch its kept status named), once, and its workflow
    # waits for the kitchen
    order = flow.wait_order(
        placed, lambda o: o["status"] == "accepted" and o["step"] == "blink_completed", "caught up, accepted"
    )
    assert order["order"]["branch_id"] == "12345"
    received = [e for e in order["timeline"] if e["kind"] == "order_received"]
    assert len(received) == 1 and received[0]["detail"]["via"] == "order catch-up"
    assert [e["detail"]["status"] for e in order["timeline"] if e["kind"] == "blink_status"] == [1]

    # When the kitchen finishes it
    flow.kitchen(placed.blink_order_id, 6)
    flow.kitchen(placed.blink_order_id, 3)

    # Then it ends collected
    flow.wait_order(placed, lambda o: o["state"] == "collected", "the order collected", 40.0)
    flow.wait_execution_end(placed, timeout=40.0)

    # When the webhook Blink dropped arrives after all
    late = _resend(flow, dropped[-1]["body"])

    # Then it is a duplicate: the same order, one order_received, one execution
    assert (late.status_code, late.json()) == (200, {"status": "accepted", "order_id": placed.order_id})
    order = flow.order(placed.order_id)
    assert order is not None
    assert len([e for e in order["timeline"] if e["kind"] == "order_received"]) == 1
    assert flow.executions_of(placed.order_id) == [placed.order_id]


def _resend(flow: Flow, body: dict[str, Any]) -> Any:
    """POST the Order Webhook body to the stack as Blink would have (its URL and token)."""
    settings = flow.admin("blink", "GET", "/_admin/settings")
    headers = {settings["webhook_token_header"]: settings["webhook_token"]} if settings.get("webhook_token") else {}
    return flow.http.post(settings["order_webhook_url"], json=body, headers=headers)
