"""Bad input gets a clear 4xx with field-level reasons, never a 500, and writes nothing."""

from __future__ import annotations

import json

import pytest

from tests.conftest import table_items
from tests.support import samples
from tests.support.hub import Hub, bloq_headers

ENDPOINTS = {
    "blink_order": ("blink_order_webhook.json", Hub.blink_order),
    "blink_status": ("blink_order_status_webhook.json", Hub.blink_status),
    "task_status": ("blink_task_status_webhook.json", Hub.task_status),
    "partner_order": ("blend_order_created.jsonc", Hub.partner_order),
    "bloq": ("bloq_webhook_callback.json", Hub.bloq),
}


def _post(hub: Hub, endpoint: str, body: str):
    _, send = ENDPOINTS[endpoint]
    return send(hub, body)


def _assert_nothing_written():
    assert table_items("OrdersTable") == []
    assert table_items("RentsTable") == []


def _reasons(answer) -> list[dict]:
    return answer.body["errors"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("body", ["{not json", "", "[1, 2", "\ufeff{]"])
def test_malformed_json_is_400_with_a_reason(hub, endpoint, body):
    answer = _post(hub, endpoint, body)
    assert answer.status == 400, answer.body
    assert _reasons(answer) and all(r["reason"] for r in _reasons(answer))
    _assert_nothing_written()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_json_that_is_not_an_object_is_422(hub, endpoint):
    answer = _post(hub, endpoint, "[1, 2, 3]")
    assert answer.status == 422
    _assert_nothing_written()


@pytest.mark.parametrize(
    ("endpoint", "drop", "field"),
    [
        ("blink_order", "blink_order_id", "blink_order_id"),
        ("blink_order", "products", "products"),
        ("blink_status", "status", "status"),
        ("task_status", "data", "data"),
        ("partner_order", "branch_id", "branch_id"),
        ("bloq", "_id", "_id"),
        ("bloq", "codeName", "codeName"),
    ],
)
def test_missing_required_field_is_422_naming_it(hub, endpoint, drop, field):
    from orderbridge.web.request import parse_json

    sample, _ = ENDPOINTS[endpoint]
    data = parse_json(samples.text(sample))
    del data[drop]
    answer = _post(hub, endpoint, json.dumps(data, default=str))
    assert answer.status == 422
    assert field in [r["field"] for r in _reasons(answer)]
    _assert_nothing_written()


@pytest.mark.parametrize(
    ("endpoint", "change", "field"),
    [
        ("blink_order", {"total_price": "sixty"}, "total_price"),
        (
            "blink_order",
            {"products": [{"product_id": "x", "quantity": "two", "unit_price": "1"}]},
            "products[0].quantity",
        ),
        ("blink_order", {"payment": {"nested": True}}, "payment"),
        ("blink_status", {"status": "accepted"}, "status"),
        ("task_status", {"eventId": 99}, "eventId"),
        ("partner_order", {"event": "order_updated"}, "event"),
        ("bloq", {"metadata": "not an object"}, "metadata"),
    ],
)
def test_wrong_types_are_422_with_field_paths(hub, endpoint, change, field):
    from orderbridge.web.request import parse_json

    sample, _ = ENDPOINTS[endpoint]
    data = parse_json(samples.text(sample)) | change
    answer = _post(hub, endpoint, json.dumps(data, default=str))
    assert answer.status == 422, answer.body
    assert field in [r["field"] for r in _reasons(answer)]
    _assert_nothing_written()


def test_partner_item_with_wrong_types_is_reported_in_the_blend_shape(hub):
    from orderbridge.web.request import parse_json

    data = parse_json(samples.text("blend_order_created.jsonc"))
    data["payload"]["items"][1]["quantity"] = -1
    answer = hub.partner_order(json.dumps(data, default=str))
    assert answer.status == 422
    assert answer.body["order_id"] == "" and answer.body["status"] == "failed"
    assert [e["field"] for e in answer.body["errors"]] == ["payload.items[1].quantity"]
    _assert_nothing_written()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_oversize_body_is_413(hub, endpoint):
    body = json.dumps({"padding": "x" * (256 * 1024)})
    answer = _post(hub, endpoint, body)
    assert answer.status == 413
    _assert_nothing_written()


@pytest.mark.parametrize("endpoint", ["blink_order", "blink_status", "task_status", "partner_order"])
def test_bad_token_is_401_before_the_body_is_read(hub, endpoint):
    sample, send = ENDPOINTS[endpoint]
    answer = send(hub, samples.text(sample), token="wrong")
    assert answer.status == 401
    assert send(hub, "{not even json", token=None).status == 401
    _assert_nothing_written()


def test_bad_bloq_signature_is_401(hub):
    body = samples.text("bloq_webhook_callback.json")
    answer = hub.bloq(body, headers=bloq_headers(body, secret="not-the-secret"))
    assert answer.status == 401
    _assert_nothing_written()


def test_unknown_partner_is_404_in_the_blend_shape(hub):
    answer = hub.partner_order(samples.text("blend_order_created.jsonc"), partner="nobody")
    assert answer.status == 404
    assert answer.body == {
        "order_id": "",
        "status": "failed",
        "errors": [{"field": "partner", "reason": "partner 'nobody' is not configured"}],
    }
    _assert_nothing_written()


def test_unknown_partner_branch_is_422_in_the_blend_shape(hub):
    from orderbridge.web.request import parse_json

    data = parse_json(samples.text("blend_order_created.jsonc")) | {"branch_id": "777"}
    answer = hub.partner_order(json.dumps(data, default=str))
    assert answer.status == 422 and answer.body["status"] == "failed"
    assert answer.body["errors"][0]["field"] == "branch_id"
    _assert_nothing_written()


def test_invalid_base64_body_is_400(hub):
    from tests.support.apigw import invoke, proxy_event

    event = proxy_event("POST", "/webhooks/blink/orders", body="{}", headers={"X-Webhook-Token": "dev-blink-token"})
    event.update(body="%%% not base64 %%%", isBase64Encoded=True)
    assert invoke("BlinkOrderWebhookFunction", event).status == 400
    _assert_nothing_written()
