"""POST /webhooks/blink/orders — Blink's Order Webhook."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from orderbridge.domain.ids import order_id_for

from tests.conftest import table_items
from tests.support import samples
from tests.support.apigw import invoke

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_doc_sample_is_accepted_and_persisted_with_decimal_money(hub):
    # Given Blink's documented order webhook sample
    body = samples.text("blink_order_webhook.json")
    # When Blink delivers it
    answer = hub.blink_order(body)
    # Then it is acknowledged with our order id
    order_id = order_id_for("blink", "1236589")
    assert (answer.status, answer.body) == (200, {"status": "accepted", "order_id": order_id})
    # And the order, its timeline event and the raw payload are stored
    items = {(i["pk"], i["sk"]): i for i in table_items("OrdersTable")}
    meta = items[(f"ORDER#{order_id}", "META")]
    assert meta["status"] == "pending" and meta["branch_id"] == "12345" and meta["merchant_id"] == "m-demo"
    assert meta["amounts"]["total"] == Decimal("66.67")
    assert meta["items"][0]["unit_price"] == Decimal("39.000")
    assert meta["customer"]["phone"] == "+923300000000"
    event = items[(f"ORDER#{order_id}", "EVENT#blink:order:1236589")]
    assert event["kind"] == "order_received" and event["raw"] == body


def test_token_in_query_string_is_accepted(hub):
    assert hub.blink_order(samples.text("blink_order_webhook.json"), header_token=False).status == 200


def test_previous_token_still_works_during_rotation(hub):
    assert hub.blink_order(samples.text("blink_order_webhook.json"), token="dev-blink-token-previous").status == 200


def test_sam_generated_event_with_base64_body_is_accepted(hub):
    # Given the event `sam local generate-event apigateway aws-proxy` produced (base64 body)
    event = json.loads((EVENTS / "blink_order_webhook.json").read_text())
    assert event["isBase64Encoded"] is True
    # When it is invoked
    answer = invoke("BlinkOrderWebhookFunction", event)
    # Then the order is recorded
    assert answer.status == 200 and answer.body["order_id"] == order_id_for("blink", "1236589")


def test_same_delivery_twice_gives_one_order_and_the_same_answer(hub):
    body = samples.text("blink_order_webhook.json")
    first, second = hub.blink_order(body), hub.blink_order(body)
    assert (first.status, first.body) == (second.status, second.body)
    assert len([i for i in table_items("OrdersTable") if i["sk"] == "META"]) == 1


def test_fifty_concurrent_deliveries_give_one_order_and_identical_answers(hub):
    body = samples.text("blink_order_webhook.json")
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: hub.blink_order(body), range(50)))
    assert {(a.status, json.dumps(a.body, sort_keys=True)) for a in answers} == {
        (200, json.dumps({"order_id": order_id_for("blink", "1236589"), "status": "accepted"}, sort_keys=True))
    }
    items = table_items("OrdersTable")
    assert len([i for i in items if i["sk"] == "META"]) == 1
    assert len([i for i in items if i["sk"].startswith("EVENT#")]) == 1


def test_unknown_branch_is_refused_with_the_field_and_nothing_written(hub):
    body = samples.load("blink_order_webhook.json") | {"branch_id": "99999"}
    answer = hub.blink_order(body)
    assert answer.status == 422
    assert answer.body["error"] == "unknown_branch"
    assert answer.body["errors"] == [{"field": "branch_id", "reason": "branch '99999' is not configured"}]
    assert table_items("OrdersTable") == []


def _announcement(blink_order_id: str, customer_name: str) -> dict:
    """Blink's Order Webhook for an order Orderbridge submitted (sandbox: announce_submitted_orders)."""
    body = json.loads(samples.text("blink_order_webhook.json"))
    return {
        **body,
        "blink_order_id": blink_order_id,
        "order_key": "2349-JLMD3",
        "customer_name": customer_name,
        "blink_branch_id": "50220",
        "type": "DELIVERY",
    }


def _partner_order(hub) -> str:
    return hub.partner_order(samples.text("blend_order_created.jsonc")).body["order_id"]


def test_blinks_announcement_before_submit_order_answered_lands_on_the_partner_order(hub, deps):
    # Given a partner order being submitted to Blink: its submission mark is written, Blink's answer
    # is not recorded yet
    partner_order = _partner_order(hub)
    deps.orders.expect_submission("50220", "DemoApp order_id", partner_order)
    # When Blink announces the new order on its Order Webhook (twice: Blink's retry, or a replay)
    first = hub.blink_order(_announcement("988278", "DemoApp order_id"))
    again = hub.blink_order(_announcement("988278", "DemoApp order_id"))
    # Then it is the partner order: one order, Blink's id linked to it, one timeline event
    assert (first.status, first.body) == (200, {"status": "accepted", "order_id": partner_order})
    assert (again.status, again.body) == (first.status, first.body)
    metas = [i for i in table_items("OrdersTable") if i["sk"] == "META"]
    assert [m["order_id"] for m in metas] == [partner_order]
    assert metas[0]["blink_order_id"] == "988278" and metas[0]["blink_unique_code"] == "2349-JLMD3"
    view = deps.orders.get(partner_order)
    assert [e.kind for e in view.timeline].count("blink_order_announced") == 1
    # And Blink's later status webhooks reach it through the alias
    assert hub.blink_status({"blink_order_id": "988278", "branch_id": "12345", "status": 1}).body["order_id"] == (
        partner_order
    )


def test_blinks_announcement_after_submit_order_answered_is_found_by_blinks_id(hub, deps):
    partner_order = _partner_order(hub)
    deps.orders.put_alias("blink", "988278", partner_order)  # submitOrder's answer recorded
    answer = hub.blink_order(_announcement("988278", "someone else"))
    assert answer.body == {"status": "accepted", "order_id": partner_order}
    assert [i["order_id"] for i in table_items("OrdersTable") if i["sk"] == "META"] == [partner_order]


def test_an_order_with_the_same_customer_at_another_branch_is_a_new_order(hub, deps):
    partner_order = _partner_order(hub)
    deps.orders.expect_submission("99999", "DemoApp order_id", partner_order)
    answer = hub.blink_order(_announcement("988278", "DemoApp order_id"))
    assert answer.body["order_id"] == order_id_for("blink", "988278") != partner_order
