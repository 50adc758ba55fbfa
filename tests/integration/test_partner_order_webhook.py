"""POST /webhooks/partners/{partner}/orders — the Blend order_created contract."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from orderbridge.domain.ids import order_id_for
from orderbridge.web.request import parse_json

from tests.conftest import table_items
from tests.support import samples

ORDER_ID = order_id_for("partner:demo-partner", "order_id")


def test_doc_sample_with_its_comments_is_accepted_in_the_blend_shape(hub):
    answer = hub.partner_order(samples.text("blend_order_created.jsonc"))
    assert (answer.status, answer.body) == (200, {"order_id": ORDER_ID, "status": "success"})


def test_order_is_routed_by_branch_and_items_are_mapped(hub):
    hub.partner_order(samples.text("blend_order_created.jsonc"))
    order = hub.ops_order(ORDER_ID).body["order"]
    assert (order["merchant_id"], order["branch_id"], order["partner_id"]) == ("m-demo", "12345", "demo-partner")
    burger, fries = order["items"]
    assert (burger["product_id"], burger["blink_id"], burger["quantity"]) == ("prod-burger", "257327", 2)
    assert Decimal(burger["unit_price"]) == Decimal("25") and Decimal(burger["total_price"]) == Decimal("50")
    assert burger["options"][0]["product_id"] == "prod-cheese"
    assert Decimal(burger["options"][0]["total_price"]) == Decimal("20")
    assert fries["product_id"] == "prod-fries"
    assert order["unmapped"] == []
    assert Decimal(order["amounts"]["total"]) == Decimal("50")


def test_unmapped_items_are_reported_on_the_order_not_dropped(hub):
    data = parse_json(samples.text("blend_order_created.jsonc"))
    data["payload"]["items"].append({"id": "999", "quantity": 1, "price": 5, "options": [{"id": "77", "price": 1}]})
    answer = hub.partner_order(json.dumps(data, default=str))
    assert answer.status == 200
    detail = hub.ops_order(ORDER_ID).body
    items = detail["order"]["items"]
    assert len(items) == 3 and items[2]["source_item_id"] == "999" and items[2]["product_id"] is None
    assert detail["order"]["unmapped"] == [
        {"kind": "item", "source_id": "999", "item_index": 2},
        {"kind": "option", "source_id": "77", "item_index": 2},
    ]
    assert "2 item(s) without a product mapping" in detail["timeline"][0]["summary"]


def test_fifty_concurrent_deliveries_give_one_order_and_the_same_answer(hub):
    body = samples.text("blend_order_created.jsonc")
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: hub.partner_order(body), range(50)))
    assert {(a.status, a.body["order_id"], a.body["status"]) for a in answers} == {(200, ORDER_ID, "success")}
    assert len([i for i in table_items("OrdersTable") if i["sk"] == "META"]) == 1


def test_same_order_id_from_two_partners_is_two_orders(hub, seeded):
    from orderbridge.models.config import Partner, PartnerBranch

    seeded.config.put(
        Partner(partner_id="other", name="Other App"),
        PartnerBranch(partner_id="other", partner_branch_id="14589", merchant_id="m-demo", branch_id="12345"),
    )
    secrets = seeded.secrets.get()
    secrets.partners["other"] = secrets.partners["demo-partner"]
    seeded.secrets.get = lambda: secrets
    a = hub.partner_order(samples.text("blend_order_created.jsonc"))
    b = hub.partner_order(samples.text("blend_order_created.jsonc"), partner="other")
    assert a.body["order_id"] != b.body["order_id"]


def test_disabled_partner_is_refused(hub, seeded):
    from orderbridge.models.config import Partner

    seeded.config.put(Partner(partner_id="demo-partner", name="Demo", enabled=False))
    answer = hub.partner_order(samples.text("blend_order_created.jsonc"))
    assert answer.status == 404 and answer.body["status"] == "failed"


def test_dynamodb_outage_is_a_retryable_5xx_in_the_blend_shape(hub, seeded, monkeypatch):
    from botocore.exceptions import ClientError

    def down(**_):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")

    monkeypatch.setattr(seeded.orders.client, "transact_write_items", down)
    answer = hub.partner_order(samples.text("blend_order_created.jsonc"))
    assert answer.status == 503
    assert answer.body["order_id"] == "" and answer.body["status"] == "failed"
