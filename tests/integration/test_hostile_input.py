"""Hostile input, sent from outside through the real handlers: a 4xx with field reasons for
whatever a client can put in a request, never a 5xx, in linear time, and nothing written."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from orderbridge.domain.ids import order_id_for

from tests.conftest import table_items
from tests.support import samples
from tests.support.apigw import Answer, invoke, proxy_event
from tests.support.hub import BLINK_TOKEN, LOGISTICS_TOKEN, PARTNER_TOKEN, Hub, bloq_headers

TABLES = ("OrdersTable", "RentsTable", "ConfigTable", "IdempotencyTable")
BLINK_ORDER_ID = order_id_for("blink", "1236589")


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    return {table: sorted(table_items(table), key=lambda i: (str(i.get("pk")), str(i.get("sk")))) for table in TABLES}


def _ops(method: str, path: str, resource: str, params: dict[str, str], body: str) -> Answer:
    event = proxy_event(method, path, resource=resource, path_params=params, body=body)
    return invoke("OpsApiFunction", event)


def _patch_order(hub: Hub, body: str) -> Answer:
    return _ops("PATCH", f"/ops/orders/{BLINK_ORDER_ID}", "/ops/orders/{order_id}", {"order_id": BLINK_ORDER_ID}, body)


def _put_item(hub: Hub, body: str) -> Answer:
    params = {"merchant_id": "m-demo", "item_id": "257327"}
    return _ops("PUT", "/ops/catalog/m-demo/items/257327", "/ops/catalog/{merchant_id}/items/{item_id}", params, body)


ROUTES: dict[str, Callable[[Hub, str], Answer]] = {
    "blink_order": Hub.blink_order,
    "blink_status": Hub.blink_status,
    "task_status": Hub.task_status,
    "partner_order": Hub.partner_order,
    "bloq": Hub.bloq,
    "ops_patch_order": _patch_order,
    "ops_put_catalog_item": _put_item,
}


def _refused(answer: Answer, status: int) -> list[dict[str, str]]:
    """The answer is ``status`` with field reasons (the Blend shape or ours); its reasons."""
    assert answer.status == status, answer.body
    errors = answer.body["errors"]
    assert errors and all(e["field"] and e["reason"] for e in errors), answer.body
    return errors


# -- nesting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000,
        "[" * 1000 + "]" * 1000,
        '{"a":' * 1000,
        '{"a":' * 1000 + "1" + "}" * 1000,
        '{"a":' * 40_000 + "1" + "}" * 40_000,
    ],
    ids=["open-arrays", "closed-arrays", "open-objects", "closed-objects", "40k-deep"],
)
def test_deeply_nested_json_is_400_on_every_route_and_writes_nothing(hub, route, body):
    # Given the tables as they are
    before = _snapshot()
    # When a body nesting far deeper than any vendor payload arrives
    answer = ROUTES[route](hub, body)
    # Then it is a 400 naming the body, and nothing is written
    assert [e["field"] for e in _refused(answer, 400)] == ["body"]
    assert _snapshot() == before


def test_bloq_checks_the_signature_before_reading_a_hostile_body(hub):
    before = _snapshot()
    for body in ["[" * 1000, '{"_id":"\\ud800"}', '{"_id": 1e309}']:
        answer = hub.bloq(body, headers=bloq_headers(body, secret="not-the-bloq-secret-0123456789abcdef"))
        assert answer.status == 401, answer.body
    assert _snapshot() == before


def test_bloq_signature_is_over_the_bytes_as_received_not_a_re_serialisation(hub):
    # Given a Bloq.It event signed as sent (compact), delivered with other whitespace
    signed = json.dumps(samples.load("bloq_webhook_callback.json"), separators=(",", ":"))
    delivered = json.dumps(json.loads(signed), indent=2)
    before = _snapshot()
    # When / Then: refused; the same bytes that were signed are accepted
    assert hub.bloq(delivered, headers=bloq_headers(signed)).status == 401
    assert _snapshot() == before
    assert hub.bloq(signed, headers=bloq_headers(signed)).status in (200, 202)


# -- Unicode ---------------------------------------------------------------------------------------

LONE_SURROGATE_BODIES = {
    "blink_order": ("blink_order_webhook.json", "customer_name"),
    "blink_status": ("blink_order_status_webhook.json", "comment"),
    "task_status": ("blink_task_status_webhook.json", "event"),
    "partner_order": ("blend_order_created.jsonc", "branch_id"),
    "bloq": ("bloq_webhook_callback.json", "message"),
}


def _sample(name: str) -> dict[str, Any]:
    from orderbridge.web.request import parse_json

    data: dict[str, Any] = parse_json(samples.text(name))
    return data


def _with_raw(data: dict[str, Any], field: str, raw_json: str) -> str:
    """``data`` as JSON text with ``field`` set to the JSON text ``raw_json`` as written."""
    return json.dumps({**data, field: "__RAW__"}, default=str).replace('"__RAW__"', raw_json)


@pytest.mark.parametrize("route", LONE_SURROGATE_BODIES)
@pytest.mark.parametrize("text", ['"\\ud800"', '"x\\udfffx"', '"\\ude00\\ud83d"'])
def test_a_lone_utf16_surrogate_is_400_naming_the_field(hub, route, text):
    sample, field = LONE_SURROGATE_BODIES[route]
    body = _with_raw(_sample(sample), field, text)
    before = _snapshot()
    errors = _refused(ROUTES[route](hub, body), 400)
    assert [e["field"] for e in errors] == [field]
    assert _snapshot() == before


def test_a_lone_surrogate_in_an_ops_body_is_400(hub):
    assert [e["field"] for e in _refused(_patch_order(hub, '{"customer_name": "\\ud800"}'), 400)] == ["customer_name"]


def test_a_surrogate_pair_is_ordinary_text(hub):
    body = _with_raw(_sample("blink_order_webhook.json"), "customer_name", '"\\ud83d\\ude00 Ali"')
    assert hub.blink_order(body).status == 200


@pytest.mark.parametrize(
    ("function", "path", "headers"),
    [
        ("BlinkOrderWebhookFunction", "/webhooks/blink/orders", {"X-Webhook-Token": BLINK_TOKEN}),
        ("BlinkOrderStatusWebhookFunction", "/webhooks/blink/order-status", {"X-Webhook-Token": BLINK_TOKEN}),
        (
            "BlinkTaskStatusWebhookFunction",
            "/webhooks/blink/logistics/task-status",
            {"X-Webhook-Token": LOGISTICS_TOKEN},
        ),
        ("BloqWebhookFunction", "/webhooks/bloq", {}),
        ("OpsApiFunction", f"/ops/orders/{BLINK_ORDER_ID}", {}),
    ],
)
@pytest.mark.parametrize("raw", [b'{"a": "\xff\xfe"}', b'{"a": "\xed\xa0\x80"}', b"\xc0\xaf"])
def test_invalid_utf8_bytes_are_400(hub, function, path, headers, raw):
    method = "PATCH" if function == "OpsApiFunction" else "POST"
    if function == "BloqWebhookFunction":
        headers = bloq_headers(raw.decode("latin-1"))
    event = proxy_event(method, path, body=raw, base64_body=True, headers=headers)
    if function == "OpsApiFunction":
        event.update(resource="/ops/orders/{order_id}", pathParameters={"order_id": BLINK_ORDER_ID})
    before = _snapshot()
    assert [e["field"] for e in _refused(invoke(function, event), 400)] == ["body"]
    assert _snapshot() == before


def test_invalid_utf8_to_a_partner_is_400_in_the_blend_shape(hub):
    event = proxy_event(
        "POST",
        "/webhooks/partners/demo-partner/orders",
        resource="/webhooks/partners/{partner}/orders",
        path_params={"partner": "demo-partner"},
        body=b'{"event": "\xff"}',
        base64_body=True,
        headers={"X-Webhook-Token": PARTNER_TOKEN},
    )
    answer = invoke("PartnerOrderWebhookFunction", event)
    assert answer.status == 400
    assert answer.body["order_id"] == "" and answer.body["status"] == "failed" and answer.body["errors"]


# -- numbers ---------------------------------------------------------------------------------------

HOSTILE_NUMBERS = [
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "-Infinity",
    "12345678901234567890123456789012345678901",  # 41 digits
    "1234567890123456789012345678901234567890.5",
    '"1e309"',
    '"NaN"',
    '"12345678901234567890123456789012345678901"',
    "-1",
    '"-0.01"',
]


def _partner_body(path: tuple[str | int, ...], raw_json: str) -> str:
    data = _sample("blend_order_created.jsonc")
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = "__RAW__"
    return json.dumps(data, default=str).replace('"__RAW__"', raw_json)


@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("payload", "total"), "payload.total"),
        (("payload", "subtotal"), "payload.subtotal"),
        (("payload", "items", 0, "price"), "payload.items[0].price"),
        (("payload", "items", 0, "options", 0, "price"), "payload.items[0].options[0].price"),
        (("payload", "items", 1, "quantity"), "payload.items[1].quantity"),
    ],
)
def test_partner_amounts_out_of_range_or_negative_are_422_in_the_blend_shape(hub, number, path, field):
    before = _snapshot()
    answer = hub.partner_order(_partner_body(path, number))
    assert answer.status == 422, answer.body
    assert answer.body["order_id"] == "" and answer.body["status"] == "failed"
    assert field in [e["field"] for e in answer.body["errors"]], answer.body
    assert _snapshot() == before


@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
@pytest.mark.parametrize(
    "field",
    ["total_price", "subtotal", "tax", "delivery_charges"],
)
def test_blink_order_amounts_out_of_range_or_negative_are_422_naming_the_field(hub, number, field):
    before = _snapshot()
    errors = _refused(hub.blink_order(_with_raw(_sample("blink_order_webhook.json"), field, number)), 422)
    assert field in [e["field"] for e in errors]
    assert _snapshot() == before


@pytest.mark.parametrize("number", ["NaN", "1e309", "12345678901234567890123456789012345678901", "9" * 5000])
def test_any_number_dynamodb_cannot_hold_is_422_wherever_it_is(hub, number):
    data = _sample("bloq_webhook_callback.json") | {"metadata": {"deep": {"n": "__RAW__"}}}
    body = json.dumps(data).replace('"__RAW__"', number)
    errors = _refused(hub.bloq(body), 422)
    assert [e["field"] for e in errors] == ["metadata.deep.n"]


def test_a_negative_quantity_in_a_blink_order_is_422(hub):
    data = _sample("blink_order_webhook.json")
    data["products"][0]["quantity"] = -2
    errors = _refused(hub.blink_order(json.dumps(data, default=str)), 422)
    assert "products[0].quantity" in [e["field"] for e in errors]
    assert table_items("OrdersTable") == []


# -- ids -------------------------------------------------------------------------------------------

LONG_ID = "9" * 10_000


@pytest.mark.parametrize(
    ("route", "sample", "path", "field"),
    [
        ("blink_order", "blink_order_webhook.json", ("blink_order_id",), "blink_order_id"),
        ("blink_order", "blink_order_webhook.json", ("branch_id",), "branch_id"),
        ("blink_order", "blink_order_webhook.json", ("products", 0, "product_id"), "products[0].product_id"),
        ("blink_status", "blink_order_status_webhook.json", ("blink_order_id",), "blink_order_id"),
        ("blink_status", "blink_order_status_webhook.json", ("branch_id",), "branch_id"),
        ("task_status", "blink_task_status_webhook.json", ("data", "taskId"), "data.taskId"),
        ("partner_order", "blend_order_created.jsonc", ("payload", "id"), "payload.id"),
        ("partner_order", "blend_order_created.jsonc", ("branch_id",), "branch_id"),
        ("partner_order", "blend_order_created.jsonc", ("payload", "items", 0, "id"), "payload.items[0].id"),
        ("bloq", "bloq_webhook_callback.json", ("_id",), "_id"),
        ("bloq", "bloq_webhook_callback.json", ("rent",), "rent"),
    ],
)
@pytest.mark.parametrize("as_number", [False, True], ids=["string", "number"])
def test_an_id_longer_than_a_key_holds_is_422_naming_it(hub, route, sample, path, field, as_number):
    data = _sample(sample)
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = "__RAW__" if as_number else LONG_ID
    body = json.dumps(data, default=str).replace('"__RAW__"', LONG_ID)  # as a 10,000-digit number
    before = _snapshot()
    answer = ROUTES[route](hub, body)
    assert answer.status == 422, answer.body
    assert field in [e["field"] for e in answer.body["errors"]], answer.body
    assert _snapshot() == before


# -- linear time -----------------------------------------------------------------------------------


def _escaped_quotes(size: int) -> str:
    return '"' + '\\"' * ((size - 1) // 2)


def test_a_64_kib_body_of_escaped_quotes_is_a_quick_400(hub):
    answer = hub.partner_order(_escaped_quotes(64 * 1024))
    assert answer.status == 400
    assert answer.body["status"] == "failed"


def _best_time(body: str) -> float:
    """The best of three reads of ``body``, each refused (any 4xx of ours), in this thread's CPU
    time: what the read costs, not how long a loaded machine kept the test waiting."""
    from orderbridge.errors import OrderbridgeError
    from orderbridge.web.request import parse_json

    times = []
    for _ in range(3):
        start = time.thread_time()
        with pytest.raises(OrderbridgeError) as refused:
            parse_json(body)
        times.append(time.thread_time() - start)
        assert 400 <= refused.value.status_code < 500
    return min(times)


@pytest.mark.parametrize(
    "make",
    [
        lambda n: '"' + '\\"' * (n // 2),  # escaped quotes: what made the stripper quadratic
        lambda n: "//" + '"' * n,  # quotes after a comment
        lambda n: '{"a": "' + "\\\\" * (n // 2),  # escaped backslashes, unterminated
        lambda n: "/" * n,
        lambda n: '"x' * (n // 2),  # unterminated strings everywhere
        lambda n: "[" * n,
    ],
    ids=["escaped-quotes", "quotes-after-comment", "backslashes", "slashes", "open-strings", "open-arrays"],
)
def test_reading_an_adversarial_body_grows_linearly_with_its_size(make):
    """Escaped quotes made the ``//``-comment stripper quadratic (64 KiB took 10 s). Timed by the
    growth from 64 KiB to 256 KiB (best of three each): linear work grows ~4x, quadratic 16x."""
    small, large = _best_time(make(64 * 1024)), _best_time(make(256 * 1024))
    assert large < 8 * small + 0.02, (small, large)
    assert large < 2.0, large  # and a 256 KiB body (the size limit) is well under a second or two


def test_the_blend_sample_with_comments_still_reads():
    from orderbridge.web.request import parse_json

    assert parse_json(samples.text("blend_order_created.jsonc"))["payload"]["items"][0]["price"] == 25


# -- the ops API's cursor --------------------------------------------------------------------------


def _b64(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return base64.urlsafe_b64encode(text.encode()).decode()


S = {"S": "x"}
BAD_CURSORS = {
    "not-base64": "!!!",
    "not-json": _b64("{nope"),
    "a-list": _b64([1, 2]),
    "no-key": _b64({"a": 1}),
    "not-attributes": _b64({"pk": "x", "sk": "y", "created_key": "z", "created_day": "2026-11-22"}),
    "wrong-type": _b64({"pk": {"N": "1"}, "sk": S, "created_key": S, "created_day": {"S": "2026-11-22"}}),
    "extra-attribute": _b64({"pk": S, "sk": S, "created_key": S, "created_day": S, "other": S}),
    "table-key-only": _b64({"pk": S, "sk": S}),
    "another-index": _b64({"pk": S, "sk": S, "created_key": S, "state": {"S": "received"}}),
    "deep": _b64("[" * 5000),
    "long": "A" * 10_000,
    "huge-key": _b64({"pk": {"S": "x" * 5000}, "sk": S, "created_key": S, "created_day": S}),
    "empty-string": _b64({"pk": {"S": ""}, "sk": S, "created_key": S, "created_day": S}),
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_malformed_orders_cursor_is_400(hub, cursor):
    errors = _refused(hub.ops_list(date="2026-11-22", cursor=cursor), 400)
    assert [e["field"] for e in errors] == ["cursor"]


@pytest.mark.parametrize("query", [{"state": "failed"}, {"branch": "12345"}, {"status": "accepted"}])
def test_a_cursor_of_another_listing_is_400(hub, query):
    cursor = _b64({"pk": S, "sk": S, "created_key": S, "created_day": {"S": "2026-11-22"}})
    assert [e["field"] for e in _refused(hub.ops_list(**query, cursor=cursor), 400)] == ["cursor"]


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_malformed_abandoned_carts_cursor_is_400(hub, cursor):
    event = proxy_event("GET", "/ops/abandoned-carts", query={"merchant": "m-demo", "cursor": cursor})
    assert [e["field"] for e in _refused(invoke("OpsApiFunction", event), 400)] == ["cursor"]


def test_a_cursor_the_api_returned_still_pages(hub):
    for n in range(3):
        data = _sample("blink_order_webhook.json") | {"blink_order_id": f"70000{n}"}
        assert hub.blink_order(json.dumps(data, default=str)).status == 200
    first = hub.ops_list(branch="12345", limit="2")
    assert first.status == 200 and len(first.body["orders"]) == 2
    second = hub.ops_list(branch="12345", limit="2", cursor=first.body["next_cursor"])
    assert second.status == 200 and len(second.body["orders"]) == 1


# -- Bloq.It timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp", ["NaN", "nan", "Infinity", "inf", "-inf", "1e3", "-0", "0", " ", "1.5", "1e12", "0x10", "+1"]
)
def test_a_bloq_timestamp_that_is_not_a_whole_number_in_the_window_is_401(hub, timestamp):
    # Given an event correctly signed over "<timestamp>.<body>" for that timestamp text
    body = samples.text("bloq_webhook_callback.json")
    before = _snapshot()
    answer = hub.bloq(body, headers=bloq_headers(body, timestamp=timestamp))
    # Then it is refused, and nothing is recorded
    assert answer.status == 401, answer.body
    assert _snapshot() == before


def test_a_float_of_the_current_time_is_401_and_whole_seconds_are_accepted(hub):
    body = samples.text("bloq_webhook_callback.json")
    now = time.time()
    assert hub.bloq(body, headers=bloq_headers(body, timestamp=f"{now:.3f}")).status == 401
    assert hub.bloq(body, headers=bloq_headers(body, timestamp=str(int(now)))).status in (200, 202)


# -- event identity --------------------------------------------------------------------------------


def test_a_re_serialised_courier_task_event_is_one_timeline_entry(hub, seeded):
    # Given an order whose courier task is XYZAB-12345
    assert hub.blink_order(samples.text("blink_order_webhook.json")).status == 200
    seeded.orders.put_alias("blink_logistics", "XYZAB-12345", BLINK_ORDER_ID)
    event = samples.load("blink_task_status_webhook.json")
    # When the same event arrives five times, re-serialised each time
    deliveries = [
        json.dumps(event),
        json.dumps(event, indent=4),
        json.dumps(event, separators=(",", ":")),
        json.dumps(dict(reversed(list(event.items()))), indent=1),
        json.dumps({**event, "data": dict(reversed(list(event["data"].items())))}, sort_keys=True),
    ]
    answers = [hub.task_status(body) for body in deliveries]
    # Then every delivery is answered alike and the timeline has the event once
    assert {a.status for a in answers} == {200}
    timeline = hub.ops_order(BLINK_ORDER_ID).body["timeline"]
    assert len([e for e in timeline if e["kind"] == "task_status"]) == 1


def test_a_re_serialised_blink_status_is_one_timeline_entry(hub):
    assert hub.blink_order(samples.text("blink_order_webhook.json")).status == 200
    status = samples.load("blink_order_status_webhook.json")
    for body in (json.dumps(status), json.dumps(status, indent=2), json.dumps(dict(sorted(status.items())))):
        assert hub.blink_status(body).status == 200
    timeline = hub.ops_order(BLINK_ORDER_ID).body["timeline"]
    assert len([e for e in timeline if e["kind"] == "blink_status"]) == 1


# -- branch ----------------------------------------------------------------------------------------


def test_a_status_naming_another_branch_than_the_orders_is_422_and_writes_nothing(hub):
    # Given a Blink order of branch 12345
    assert hub.blink_order(samples.text("blink_order_webhook.json")).status == 200
    before = _snapshot()
    # When a status for it names branch 63 (configured, but not the order's)
    status = samples.load("blink_order_status_webhook.json") | {"branch_id": "63"}
    errors = _refused(hub.blink_status(status), 422)
    # Then it is refused naming branch_id, and the order is untouched
    assert [e["field"] for e in errors] == ["branch_id"]
    assert _snapshot() == before
    assert hub.ops_order(BLINK_ORDER_ID).body["status"] == "pending"


def test_a_status_naming_another_branch_than_a_partner_orders_is_422(hub, seeded):
    answer = hub.partner_order(samples.text("blend_order_created.jsonc"))
    seeded.orders.put_alias("blink", "988278", answer.body["order_id"])
    before = _snapshot()
    refused = hub.blink_status({"blink_order_id": "988278", "branch_id": "63", "status": 1})
    assert [e["field"] for e in _refused(refused, 422)] == ["branch_id"]
    assert _snapshot() == before
    accepted = hub.blink_status({"blink_order_id": "988278", "branch_id": "12345", "status": 1})
    assert accepted.status == 200


# -- the ops API's path ids ------------------------------------------------------------------------

OPS_PATH_ROUTES = [
    ("GET", "/ops/orders/{order_id}"),
    ("PATCH", "/ops/orders/{order_id}"),
    ("POST", "/ops/orders/{order_id}/resume"),
    ("POST", "/ops/orders/{order_id}/retry"),
    ("GET", "/ops/catalog/{merchant_id}"),
    ("GET", "/ops/catalog/{merchant_id}/history"),
    ("GET", "/ops/catalog/{merchant_id}/flags"),
    ("DELETE", "/ops/catalog/{merchant_id}/flags/{flag_id}"),
    ("PUT", "/ops/catalog/{merchant_id}/items/{item_id}"),
]
OPS_PATH_IDS = {"order_id": BLINK_ORDER_ID, "merchant_id": "m-demo", "flag_id": "flag-1", "item_id": "257327"}
OPS_BODIES = {"PATCH": '{"customer_name": "Ali"}', "PUT": '{"stock": 3}'}


def _ops_with(method: str, resource: str, long_param: str) -> Answer:
    params = {name: LONG_ID if name == long_param else value for name, value in OPS_PATH_IDS.items()}
    params = {name: value for name, value in params.items() if "{" + name + "}" in resource}
    path = resource.format(**params)
    return _ops(method, path, resource, params, OPS_BODIES.get(method, ""))


@pytest.mark.parametrize(
    ("method", "resource", "param"),
    [
        (method, resource, param)
        for method, resource in OPS_PATH_ROUTES
        for param in OPS_PATH_IDS
        if "{" + param + "}" in resource
    ],
)
def test_an_ops_path_id_longer_than_a_key_holds_is_400_naming_it(hub, method, resource, param):
    # Given an order received (so the ids that fit would find something)
    assert hub.blink_order(samples.text("blink_order_webhook.json")).status == 200
    before = _snapshot()
    # When the route is called with a 10,000-character id in one path parameter
    errors = _refused(_ops_with(method, resource, param), 400)
    # Then it is a 400 naming that parameter, before any read or write
    assert [e["field"] for e in errors] == [param]
    assert _snapshot() == before


def test_an_ops_path_id_at_the_limit_is_looked_up_and_not_found(hub):
    from orderbridge.models.types import ID_MAX_LENGTH

    order_id = "9" * ID_MAX_LENGTH
    answer = _ops("GET", f"/ops/orders/{order_id}", "/ops/orders/{order_id}", {"order_id": order_id}, "")
    assert answer.status == 404, answer.body


# -- the ops API's body size -----------------------------------------------------------------------


@pytest.mark.parametrize("route", ["ops_patch_order", "ops_put_catalog_item"])
def test_an_ops_body_over_the_size_limit_is_413_naming_the_body(hub, route):
    from orderbridge.config import get_settings

    # Given an order received
    assert hub.blink_order(samples.text("blink_order_webhook.json")).status == 200
    before = _snapshot()
    # When a body one byte over the webhooks' limit arrives (valid JSON: a note of spaces)
    limit = get_settings().max_body_bytes
    body = '{"note": "' + " " * (limit - 11) + '"}'
    assert len(body.encode()) == limit + 1
    errors = _refused(ROUTES[route](hub, body), 413)
    # Then it is a 413 naming the body, and nothing is written
    assert [e["field"] for e in errors] == ["body"]
    assert "at most" in errors[0]["reason"]
    assert _snapshot() == before


# -- free text -------------------------------------------------------------------------------------

FREE_TEXT_FIELDS = [
    ("blink_order", "blink_order_webhook.json", ("customer_name",), "customer_name"),
    ("blink_order", "blink_order_webhook.json", ("customer_address_description",), "customer_address_description"),
    ("blink_order", "blink_order_webhook.json", ("kitchen_notes",), "kitchen_notes"),
    ("blink_order", "blink_order_webhook.json", ("branch_address",), "branch_address"),
    ("blink_order", "blink_order_webhook.json", ("products", 0, "name"), "products[0].name"),
    ("blink_status", "blink_order_status_webhook.json", ("comment",), "comment"),
    ("blink_status", "blink_order_status_webhook.json", ("action_by",), "action_by"),
    ("task_status", "blink_task_status_webhook.json", ("data", "reason"), "data.reason"),
    ("task_status", "blink_task_status_webhook.json", ("data", "agent", "name"), "data.agent.name"),
    ("partner_order", "blend_order_created.jsonc", ("payload", "note"), "payload.note"),
    ("partner_order", "blend_order_created.jsonc", ("payload", "items", 0, "note"), "payload.items[0].note"),
    ("bloq", "bloq_webhook_callback.json", ("message",), "message"),
    ("bloq", "bloq_webhook_callback.json", ("description",), "description"),
]


def _set(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> str:
    target: Any = data
    for part in path[:-1]:
        if isinstance(part, str) and target.get(part) is None:
            target[part] = {}
        target = target[part]
    target[path[-1]] = value
    return json.dumps(data, default=str)


@pytest.mark.parametrize(("route", "sample", "path", "field"), FREE_TEXT_FIELDS)
def test_free_text_longer_than_the_cap_is_422_naming_the_field(hub, route, sample, path, field):
    from orderbridge.models.types import FREE_TEXT_MAX_LENGTH

    # Given a vendor payload whose free-text field is one character over the cap
    body = _set(_sample(sample), path, "é" * (FREE_TEXT_MAX_LENGTH + 1))
    before = _snapshot()
    # When it arrives
    answer = ROUTES[route](hub, body)
    # Then it is a 422 naming that field, and nothing is written
    assert answer.status == 422, answer.body
    assert field in [e["field"] for e in answer.body["errors"]], answer.body
    assert _snapshot() == before


def test_free_text_at_the_cap_is_accepted(hub):
    from orderbridge.models.types import FREE_TEXT_MAX_LENGTH

    body = _set(_sample("blink_order_webhook.json"), ("kitchen_notes",), "é" * FREE_TEXT_MAX_LENGTH)
    assert hub.blink_order(body).status == 200
    assert hub.ops_order(BLINK_ORDER_ID).status == 200


# -- the stored order's size -----------------------------------------------------------------------

DYNAMODB_ITEM_LIMIT = 400 * 1024


def _attribute_size(value: dict[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value (its documented rules, numbers at their
    upper bound)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return 21
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "L":
        return 3 + sum(_attribute_size(e) + 1 for e in data)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + _attribute_size(e) + 1 for k, e in data.items())
    raise ValueError(f"no size rule for {kind}")


def _largest_order_item() -> int:
    from orderbridge import aws as aws_clients

    items = aws_clients.client("dynamodb").scan(TableName="OrdersTable")["Items"]
    return max(sum(len(k.encode("utf-8")) + _attribute_size(v) for k, v in item.items()) for item in items)


def _filled(body: dict[str, Any], texts: list[tuple[dict[str, Any], str]]) -> str:
    """``body`` with each (object, key) of ``texts`` given free text, as much as fits the body limit,
    and the rest of the limit filled with a field no model reads."""
    from orderbridge.config import get_settings
    from orderbridge.models.types import FREE_TEXT_MAX_LENGTH

    room = get_settings().max_body_bytes - len(json.dumps(body, default=str).encode())
    for target, key in texts:
        target[key] = "x" * max(0, min(FREE_TEXT_MAX_LENGTH, room - len(key) - 8))
        room -= len(target[key]) + len(key) + 8
    body["padding"] = "x" * max(0, room - 20)  # a field no model reads: kept in the raw body only
    for target, key in [*reversed(texts), (body, "padding")]:  # what the estimate missed, taken back
        excess = len(json.dumps(body, default=str).encode()) - get_settings().max_body_bytes
        if excess > 0:
            target[key] = target[key][: max(0, len(target[key]) - excess)]
    text = json.dumps(body, default=str)
    assert get_settings().max_body_bytes - 4096 < len(text.encode()) <= get_settings().max_body_bytes
    return text


def test_the_largest_order_the_limits_allow_is_stored_under_400_kb(hub):
    from orderbridge.models.types import ORDER_LINES_LIMIT

    # Given a partner order of the most lines allowed (its items unmapped: a line each in the
    # event's detail too), its notes filling the body to the size limit
    partner = _sample("blend_order_created.jsonc")
    lines = [{"id": f"p{n}", "quantity": 1, "price": 0, "options": []} for n in range(ORDER_LINES_LIMIT // 5)]
    for line in lines:
        line["options"] = [{"id": f"o{n}", "price": 0} for n in range(4)]
    partner["payload"] |= {"items": lines, "subtotal": 0, "total": 0}
    partner_body = _filled(partner, [(line, "note") for line in lines])
    # And a Blink order of the most lines, its names filling the body
    blink = _sample("blink_order_webhook.json") | {"blink_order_id": "800001"}
    products = [
        {"product_id": n, "quantity": 1, "unit_price": 0, "options": [{"modifier_option_id": m} for m in range(4)]}
        for n in range(ORDER_LINES_LIMIT // 5)
    ]
    blink["products"] = products
    blink_body = _filled(blink, [(o, "name") for p in products for o in [p, *p["options"]]])
    # When both arrive
    assert hub.partner_order(partner_body).status == 200
    assert hub.blink_order(blink_body).status == 200
    # Then every item stored (orders and their events with the raw body) is under DynamoDB's 400 KB
    assert _largest_order_item() < DYNAMODB_ITEM_LIMIT - 64 * 1024


@pytest.mark.parametrize(
    ("route", "field"), [("blink_order", "products"), ("partner_order", "payload.items")], ids=["blink", "partner"]
)
def test_an_order_of_more_lines_than_the_limit_is_422_naming_its_lines(hub, route, field):
    from orderbridge.models.types import ORDER_LINES_LIMIT

    # Given an order of one line more than the limit (items and their options)
    if route == "blink_order":
        data = _sample("blink_order_webhook.json")
        data["products"] = [{"product_id": n, "quantity": 1, "unit_price": 0} for n in range(ORDER_LINES_LIMIT + 1)]
    else:
        data = _sample("blend_order_created.jsonc")
        data["payload"] |= {"items": [{"id": f"p{n}", "quantity": 1, "price": 0} for n in range(ORDER_LINES_LIMIT)]}
        data["payload"]["items"][0]["options"] = [{"id": "o1", "price": 0}]
    before = _snapshot()
    # When it arrives
    answer = ROUTES[route](hub, json.dumps(data, default=str))
    # Then it is a 422 naming its lines, and nothing is written
    assert answer.status == 422, answer.body
    assert field in [e["field"] for e in answer.body["errors"]], answer.body
    assert _snapshot() == before


def test_a_catalog_history_item_id_longer_than_a_key_holds_is_400_naming_it(hub):
    resource = "/ops/catalog/{merchant_id}/history"
    event = proxy_event(
        "GET",
        "/ops/catalog/m-demo/history",
        resource=resource,
        path_params={"merchant_id": "m-demo"},
        query={"item_id": LONG_ID},
    )
    assert [e["field"] for e in _refused(invoke("OpsApiFunction", event), 400)] == ["item_id"]
