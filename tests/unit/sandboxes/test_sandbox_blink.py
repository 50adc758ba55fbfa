"""Blink interface API sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from orderbridge.models.blink_webhooks import BlinkOrderStatusWebhook, BlinkOrderWebhook
from orderbridge_local.sandboxes.base import ServerHandle
from orderbridge_local.sandboxes.blink import BlinkSandbox, BlinkSettings

from tests.unit.vendors import samples

API = "/interface/v1"


def submit_payload(**overrides: object) -> dict[str, object]:
    """The doc's submitOrder sample payload."""
    payload: dict[str, object] = json.loads(samples.BLINK_SUBMIT_ORDER_PAYLOAD)
    payload.update(overrides)
    return payload


@pytest.fixture
def blink(receiver) -> Iterator[ServerHandle]:
    settings = BlinkSettings(
        webhook_mode="sync",
        order_webhook_url=f"{receiver.url}/webhooks/blink/orders",
        order_status_webhook_url=f"{receiver.url}/webhooks/blink/order-status",
        webhook_token="hook-token-123",
    )
    handle = BlinkSandbox(settings).serve()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def authed(blink: ServerHandle, http: httpx.Client) -> httpx.Client:
    answer = http.post(
        f"{blink.url}{API}/login", json={"username": "orderbridge", "password": "blink-sandbox-password"}
    )
    assert answer.status_code == 200
    http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return http


def test_login_issues_an_expiring_hs256_bearer_token(blink: ServerHandle, http: httpx.Client) -> None:
    # Given the configured credentials
    credentials = {"username": "orderbridge", "password": "blink-sandbox-password"}

    # When we log in
    answer = http.post(f"{blink.url}{API}/login", json=credentials)

    # Then Blink answers the doc's shape with a signed JWT that expires
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"token_type", "access_token"}
    assert body["token_type"] == "Bearer"
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    claims = jwt.decode(body["access_token"], BlinkSettings().jwt_secret, algorithms=["HS256"])
    assert claims["exp"] > datetime.now(UTC).timestamp()


def test_login_with_wrong_credentials_is_refused(blink: ServerHandle, http: httpx.Client) -> None:
    # When we log in with a wrong password
    answer = http.post(f"{blink.url}{API}/login", json={"username": "orderbridge", "password": "nope"})

    # Then 401 with a JSON error
    assert answer.status_code == 401
    assert answer.json()["success"] is False


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        "Basic b3JkZXJicmlkZ2U6eA==",
        "Bearer " + jwt.encode({"sub": "x", "exp": 4102444800}, "another-secret-of-sufficient-length-123", "HS256"),
    ],
)
def test_every_route_but_login_requires_a_valid_bearer_token(
    blink: ServerHandle, http: httpx.Client, authorization: str | None
) -> None:
    # Given a missing, malformed or foreign token
    headers = {"Authorization": authorization} if authorization else {}

    # When we call the API
    answers = [
        http.get(f"{blink.url}{API}/branches", headers=headers),
        http.get(f"{blink.url}{API}/fetchMenu", headers=headers),
        http.post(f"{blink.url}{API}/submitOrder", headers=headers, json=submit_payload()),
        http.post(f"{blink.url}{API}/syncOrderStatus", headers=headers, json={"blink_order_id": "1", "status": 1}),
    ]

    # Then every call is refused
    assert [answer.status_code for answer in answers] == [401, 401, 401, 401]


def test_an_expired_token_is_refused(blink: ServerHandle, http: httpx.Client) -> None:
    # Given a token signed with Blink's secret that expired a minute ago
    past = datetime.now(UTC) - timedelta(minutes=1)
    token = jwt.encode({"sub": "orderbridge", "exp": past}, BlinkSettings().jwt_secret, algorithm="HS256")

    # When we use it
    answer = http.get(f"{blink.url}{API}/branches", headers={"Authorization": f"Bearer {token}"})

    # Then 401
    assert answer.status_code == 401


def test_fetch_menu_pages_exactly_like_the_doc(blink: ServerHandle, authed: httpx.Client) -> None:
    # When we fetch page 2 of the menu
    answer = authed.get(f"{blink.url}{API}/fetchMenu", params={"page": 2})

    # Then the pagination fields match the doc's sample, with full URLs of the sandbox itself
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == [
        "total_items",
        "last_page",
        "current_page",
        "per_page",
        "next_page_path",
        "last_page_path",
        "data",
    ]
    assert (body["total_items"], body["last_page"], body["current_page"], body["per_page"]) == (9, 5, 2, 2)
    assert body["next_page_path"] == f"{blink.url}{API}/fetchMenu?page=3"
    assert body["last_page_path"] == f"{blink.url}{API}/fetchMenu?page=5"
    assert [item["name"] for item in body["data"]] == [
        "Veg Breakfast Press COMBO",
        "Nestle MilkPak Full Cream Milk 250ml",
    ]
    assert set(body["data"][0]) == {"id", "name", "price", "discount_price", "category", "branches", "modifiers"}

    # And following next_page_path to the end visits every item once, the last page having no next
    seen, url = [], f"{blink.url}{API}/fetchMenu?page=1"
    for _ in range(10):
        page = authed.get(url).json()
        seen.extend(item["id"] for item in page["data"])
        if page["next_page_path"] is None:
            break
        url = page["next_page_path"]
    assert len(seen) == len(set(seen)) == 9
    assert page["current_page"] == 5


def test_branches_include_the_doc_branches_and_the_order_webhook_branch(
    blink: ServerHandle, authed: httpx.Client
) -> None:
    body = authed.get(f"{blink.url}{API}/branches").json()

    assert body["success"] is True and body["msg"] == "Success" and body["error"] is None
    assert {(b["id"], b["blink_id"]) for b in body["data"]} == {(63, 60001), (64, 60002), (12345, 50220)}


def test_customers_are_paginated_and_filterable(blink: ServerHandle, authed: httpx.Client) -> None:
    # When we list all customers, then by phone
    everyone = authed.get(f"{blink.url}{API}/customers").json()["data"]
    john = authed.get(f"{blink.url}{API}/customers", params={"phone": "923300000000"}).json()["data"]

    # Then the Laravel-style page of the doc, and the filter narrows it
    assert everyone["total"] == 4 and everyone["per_page"] == 100 and everyone["next_page_url"] is None
    assert everyone["first_page_url"] == f"{blink.url}{API}/customers?page=1"
    assert [c["full_name"] for c in john["data"]] == ["John Doe"]


def test_submit_order_then_get_order_and_order_list(blink: ServerHandle, authed: httpx.Client) -> None:
    # Given an order submitted with the doc's sample payload
    answer = authed.post(f"{blink.url}{API}/submitOrder", json=submit_payload())

    # Then Blink answers 201 with the doc's shape
    assert answer.status_code == 201
    body = answer.json()
    assert body["success"] is True and body["msg"] == "Your order has been placed"
    order_id, unique_code = body["data"]["id"], body["data"]["unique_code"]
    assert isinstance(order_id, int)
    assert len(unique_code) == 10 and unique_code[4] == "-"

    # When we fetch it
    fetched = authed.get(f"{blink.url}{API}/getOrder", params={"order_id": order_id})

    # Then getOrder returns it as the doc shows (HTTP 201, status PENDING)
    assert fetched.status_code == 201
    data = fetched.json()["data"]
    assert data["id"] == order_id and data["unique_code"] == unique_code
    assert data["status"] == "PENDING" and data["delivery_eta"] == 45 and data["total"] == 132
    assert data["items"] == [
        {
            "item_id": 257327,
            "quantity": 2,
            "price": 85,
            "actual_price": 110,
            "details": "Nestle MilkPak Full Cream Milk 250ml",
            "notes": "test note",
        }
    ]

    # And getOrderList returns the orders with a greater id
    second = authed.post(f"{blink.url}{API}/submitOrder", json=submit_payload()).json()["data"]["id"]
    listed = authed.get(f"{blink.url}{API}/getOrderList", params={"order_id": order_id}).json()
    assert [o["id"] for o in listed["data"]] == [second]
    assert listed["pagination"]["has_more"] is False and listed["pagination"]["total"] == 1
    everything = authed.get(f"{blink.url}{API}/getOrderList", params={"order_id": 0}).json()
    assert [o["id"] for o in everything["data"]] == [order_id, second]


def test_get_order_list_pages_with_has_more(receiver) -> None:
    # Given a Blink whose order list pages by 2, and 5 orders placed
    handle = BlinkSandbox(BlinkSettings(order_list_per_page=2, webhook_mode="sync")).serve()
    try:
        with httpx.Client(timeout=5, trust_env=False) as http:
            for _ in range(5):
                http.post(f"{handle.url}/_admin/place-order", json={}).raise_for_status()
            token = handle.sandbox.issue_token()
            headers = {"Authorization": f"Bearer {token}"}

            # When we read the pages after id 0
            pages = [
                http.get(f"{handle.url}{API}/getOrderList", params={"order_id": 0, "page": n}, headers=headers).json()
                for n in (1, 2, 3)
            ]
    finally:
        handle.stop()

    # Then has_more is true until the last page
    assert [page["pagination"]["has_more"] for page in pages] == [True, True, False]
    assert [len(page["data"]) for page in pages] == [2, 2, 1]


def test_submit_order_with_missing_fields_is_rejected_field_by_field(blink: ServerHandle, authed: httpx.Client) -> None:
    # Given a payload without customer_name, with an unknown branch and an item without price
    payload = submit_payload(blink_branch_id="99999")
    del payload["customer_name"]
    payload["items"] = [{"blink_item_id": "257327", "name": "Milk", "actual_price": "110", "quantity": "2"}]

    # When we submit it
    answer = authed.post(f"{blink.url}{API}/submitOrder", json=payload)

    # Then 422 naming each problem, and nothing is stored
    assert answer.status_code == 422
    body = answer.json()
    assert body["success"] is False
    assert {"customer_name", "blink_branch_id", "items.0.price"} <= set(body["errors"])
    assert authed.get(f"{blink.url}{API}/getOrderList", params={"order_id": 0}).json()["data"] == []


def test_sync_order_status_records_the_sequence_and_status_4_needs_a_comment(
    blink: ServerHandle, authed: httpx.Client, http: httpx.Client
) -> None:
    # Given a submitted order
    order_id = authed.post(f"{blink.url}{API}/submitOrder", json=submit_payload()).json()["data"]["id"]
    sync = f"{blink.url}{API}/syncOrderStatus"

    # When we push accepted, ready, dispatched, then a reject without comment, then with one
    answers = [authed.post(sync, json={"blink_order_id": str(order_id), "status": s}) for s in (1, 6, 2)]
    no_comment = authed.post(sync, json={"blink_order_id": str(order_id), "status": 4})
    with_comment = authed.post(sync, json={"blink_order_id": str(order_id), "status": 4, "comment": "Too far"})

    # Then the accepted ones answer success, the comment-less reject is a 422 on "comment"
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["success"] is True
    assert no_comment.status_code == 422 and "comment" in no_comment.json()["errors"]
    assert with_comment.status_code == 200

    # And the sequence Blink received is recorded, both in its state and in the request log
    record = http.get(f"{blink.url}/_admin/orders/{order_id}").json()
    assert [(h["status"], h["comment"]) for h in record["status_history"]] == [
        (1, None),
        (6, None),
        (2, None),
        (4, "Too far"),
    ]
    requests = http.get(f"{blink.url}/_admin/requests", params={"path": f"{API}/syncOrderStatus"}).json()
    assert [(r["body"]["status"], r["status"]) for r in requests] == [(1, 200), (6, 200), (2, 200), (4, 422), (4, 200)]
    fetched = authed.get(f"{blink.url}{API}/getOrder", params={"order_id": order_id}).json()["data"]
    assert fetched["status"] == "REJECTED" and fetched["reject_reason"] == "Too far"


@pytest.mark.parametrize(
    ("body", "expected"),
    [({"blink_order_id": "424242", "status": 1}, 404), ({"blink_order_id": "1", "status": 5}, 422)],
)
def test_sync_order_status_refuses_unknown_orders_and_statuses(
    blink: ServerHandle, authed: httpx.Client, body: dict[str, object], expected: int
) -> None:
    answer = authed.post(f"{blink.url}{API}/syncOrderStatus", json=body)

    assert answer.status_code == expected
    assert answer.json()["success"] is False


def test_place_order_sends_the_doc_shaped_order_webhook_with_the_token(
    blink: ServerHandle, http: httpx.Client, authed: httpx.Client, receiver
) -> None:
    # When the sandbox places an order with a customer name override
    answer = http.post(f"{blink.url}/_admin/place-order", json={"customer_name": "Jane Roe"})

    # Then our receiver got the Order Webhook with the token header
    assert answer.status_code == 201
    (hook,) = receiver.wait_for(1)
    assert hook.method == "POST" and hook.path == "/webhooks/blink/orders"
    assert hook.headers["X-Webhook-Token"] == "hook-token-123"
    payload = hook.json
    assert payload["customer_name"] == "Jane Roe"
    assert payload["blink_order_id"] == answer.json()["order"]["blink_order_id"] != "1236589"
    assert set(payload) == set(answer.json()["order"])
    assert payload["products"][0]["product_id"] == "1c54bd7abe7b"
    # ... in a shape our own model of the Blink Order Webhook accepts
    assert BlinkOrderWebhook.model_validate(payload).branch_id == "12345"

    # And the answer and the webhook log record the delivery
    assert answer.json()["webhooks"][0]["status"] == 200
    log = http.get(f"{blink.url}/_admin/webhooks").json()
    assert [(w["label"], w["status"]) for w in log] == [("order", 200)]

    # And the order is stored: getOrder finds it
    fetched = authed.get(f"{blink.url}{API}/getOrder", params={"order_id": payload["blink_order_id"]})
    assert fetched.json()["data"]["customer_name"] == "Jane Roe"
    assert fetched.json()["data"]["delivery_type"] == "pickup"


def test_order_status_command_sends_the_status_webhook(blink: ServerHandle, http: httpx.Client, receiver) -> None:
    # Given a placed order
    order_id = http.post(f"{blink.url}/_admin/place-order", json={}).json()["order"]["blink_order_id"]

    # When the restaurant rejects it in Blink
    http.post(
        f"{blink.url}/_admin/order-status", json={"blink_order_id": order_id, "status": 4, "comment": "TEST ORDER"}
    ).raise_for_status()

    # Then the Order Status Webhook has the doc's fields and format
    hooks = receiver.wait_for(2)
    status_hook = hooks[1]
    assert status_hook.path == "/webhooks/blink/order-status"
    assert status_hook.headers["X-Webhook-Token"] == "hook-token-123"
    body = status_hook.json
    assert list(body) == ["blink_order_id", "branch_id", "status", "statusText", "comment", "created_at", "action_by"]
    assert (body["blink_order_id"], body["branch_id"], body["status"], body["statusText"]) == (
        order_id,
        "12345",
        4,
        "Rejected",
    )
    datetime.strptime(body["created_at"], "%Y-%m-%d %H:%M:%S")
    assert BlinkOrderStatusWebhook.model_validate(body).status == 4


def test_sync_stock_and_price_updates_the_menu(blink: ServerHandle, authed: httpx.Client) -> None:
    # Given the doc's sample stock and price payload
    payload = {
        "products": [
            {
                "id": "97358ecc-06aa-4a8c-8249-6113261ac5a8",
                "price": 94.72,
                "discount_price": 94.72,
                "branches": [
                    {"id": "12345", "is_active": True, "price": 94.72, "discount_price": 94.72, "stock_quantity": 1}
                ],
            }
        ]
    }

    # When we sync it
    answer = authed.post(f"{blink.url}{API}/syncStockAndPrice", json=payload)

    # Then the menu shows the new price and branch stock
    assert answer.status_code == 200 and answer.json()["success"] is True
    first = authed.get(f"{blink.url}{API}/fetchMenu").json()["data"][0]
    assert first["price"] == "94.720"
    assert first["branches"][0]["stock_quantity"] == 1


def test_abandoned_carts_need_a_date_range(blink: ServerHandle, authed: httpx.Client) -> None:
    missing = authed.get(f"{blink.url}{API}/getAbandonedCarts")
    found = authed.get(
        f"{blink.url}{API}/getAbandonedCarts", params={"start_date": "2026-02-09 00:00", "end_date": "2026-02-10 00:00"}
    )

    assert missing.status_code == 422
    body = found.json()
    assert body["pagination"]["total"] == 1 and body["pagination"]["has_more"] is False
    assert body["data"]["data"][0]["cart_items"][0]["dish_id"] == 722688
