"""DispatchNINJA sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from orderbridge_local.sandboxes.base import ServerHandle
from orderbridge_local.sandboxes.dispatchninja import DispatchNinjaSandbox, DispatchNinjaSettings

KEY = {"X-API-KEY": "dispatchninja-sandbox-public-key"}
BASE = "/dn_api/1.1.0"
ORDER = {
    "client_name": "Test Store",
    "client_address": "145 Test st",
    "customer_name": "Test Customer",
    "customer_address": "150 Test st",
    "customer_email": "test@test.com",
    "customer_phone": "777 777 7777",
    "comments": "This is a test order",
}
# Every field of the doc's orders/details sample, in its order.
DETAILS_FIELDS = [
    "id", "created", "created_by", "modified", "modified_by", "canceled", "canceled_by", "completed",
    "completed_by", "trash", "location", "location_count", "dispatcher", "driver", "driver_name", "status_id",
    "status", "delivery_time_type", "delivery_time", "delivery_delay", "comment", "payment_method",
    "payment_method_name", "paid", "tip", "delivery_fee", "extra_delivery_fee", "price", "surcharge", "discount",
    "coupon", "tax", "grand_total", "client", "client_name", "client_address", "client_latitude",
    "client_longitude", "customer", "customer_name", "customer_apt", "customer_address", "customer_phone",
    "customer_email", "customer_latitude", "customer_longitude", "estimated_distance", "estimated_duration",
    "actual_duration", "red_zone", "loss", "loss_amount", "opened", "order_number", "milestone_event_label",
    "milestone_event_value", "tracking_hash", "cancelled_reason", "pool_id", "pool_locked", "pre_auth_code",
]  # fmt: skip


@pytest.fixture
def ninja() -> Iterator[ServerHandle]:
    handle = DispatchNinjaSandbox().serve()
    try:
        yield handle
    finally:
        handle.stop()


def details(http: httpx.Client, handle: ServerHandle, order_id: str) -> dict[str, object]:
    answer = http.post(f"{handle.url}{BASE}/orders/details", data={"order_id": order_id}, headers=KEY)
    assert answer.status_code == 200
    return answer.json()["response"]


def test_add_order_with_form_data_answers_the_doc_shape(ninja: ServerHandle, http: httpx.Client) -> None:
    # When we add the sample order as URL-encoded form data
    answer = http.post(f"{ninja.url}{BASE}/orders/add", data=ORDER, headers=KEY)

    # Then the doc's answer, with the sample's first id and count
    assert answer.status_code == 200
    assert answer.json() == {
        "code": "200",
        "status": "200 success",
        "response": {
            "message": "Order Successfully Added. Use the Order ID to query or update this order.",
            "order_id": "1857",
            "order_count": 4,
        },
    }
    # And the request log shows the form fields as received
    (logged,) = http.get(f"{ninja.url}/_admin/requests").json()
    assert logged["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert logged["body"]["customer_phone"] == "777 777 7777"


def test_details_has_every_field_of_the_sample(ninja: ServerHandle, http: httpx.Client) -> None:
    order_id = http.post(f"{ninja.url}{BASE}/orders/add", data=ORDER, headers=KEY).json()["response"]["order_id"]

    response = details(http, ninja, order_id)

    assert list(response) == DETAILS_FIELDS
    assert (response["id"], response["status_id"], response["status"]) == (order_id, "1", "Pending")
    assert (response["completed"], response["canceled"]) == (None, None)
    assert response["comment"] == "This is a test order" and response["customer_email"] == "test@test.com"
    assert len(response["tracking_hash"]) == 32


@pytest.mark.parametrize("headers", [{}, {"X-API-KEY": "wrong"}])
def test_a_missing_or_wrong_api_key_is_refused(ninja: ServerHandle, http: httpx.Client, headers: dict) -> None:
    answer = http.post(f"{ninja.url}{BASE}/orders/add", data=ORDER, headers=headers)

    assert answer.status_code == 401
    assert answer.json()["code"] != "200"


def test_json_instead_of_form_data_is_refused(ninja: ServerHandle, http: httpx.Client) -> None:
    answer = http.post(f"{ninja.url}{BASE}/orders/add", json=ORDER, headers=KEY)

    assert answer.status_code == 400
    assert answer.json()["code"] == "400"
    assert http.get(f"{ninja.url}/_admin/orders").json() == []


def test_missing_fields_and_unknown_orders_are_errors(ninja: ServerHandle, http: httpx.Client) -> None:
    missing = http.post(f"{ninja.url}{BASE}/orders/add", data={"client_name": "Store"}, headers=KEY)
    unknown = http.post(f"{ninja.url}{BASE}/orders/details", data={"order_id": "999"}, headers=KEY)

    assert missing.status_code == 400 and "customer_phone" in missing.json()["response"]["missing"]
    assert unknown.status_code == 404 and unknown.json()["code"] == "404"


def test_errors_can_come_with_http_200_and_only_the_body_code() -> None:
    # Given a DispatchNINJA that answers errors with HTTP 200
    handle = DispatchNinjaSandbox(DispatchNinjaSettings(error_http_status_mirrors_code=False)).serve()
    try:
        with httpx.Client(timeout=5, trust_env=False) as http:
            answer = http.post(f"{handle.url}{BASE}/orders/add", data=ORDER, headers={"X-API-KEY": "wrong"})
    finally:
        handle.stop()

    # Then only the body says it failed
    assert answer.status_code == 200
    assert answer.json()["code"] == "401"


def test_status_progresses_on_command_and_completed_is_stamped(ninja: ServerHandle, http: httpx.Client) -> None:
    order_id = http.post(f"{ninja.url}{BASE}/orders/add", data=ORDER, headers=KEY).json()["response"]["order_id"]
    seen = [details(http, ninja, order_id)["status"]]

    # When it is advanced three times
    for _ in range(3):
        http.post(f"{ninja.url}/_admin/orders/{order_id}/advance", json={}).raise_for_status()
        seen.append(details(http, ninja, order_id)["status"])

    # Then Pending → Assigned → Picked Up → Completed, with the completion stamped
    assert seen == ["Pending", "Assigned", "Picked Up", "Completed"]
    final = details(http, ninja, order_id)
    assert final["completed"] is not None and final["driver_name"] == "Test Driver" and final["canceled"] is None
    assert http.post(f"{ninja.url}/_admin/orders/{order_id}/advance", json={}).status_code == 409


def test_cancel_sets_canceled_and_the_reason(ninja: ServerHandle, http: httpx.Client) -> None:
    order_id = http.post(f"{ninja.url}{BASE}/orders/add", data=ORDER, headers=KEY).json()["response"]["order_id"]

    http.post(
        f"{ninja.url}/_admin/orders/{order_id}/advance", json={"cancel": True, "reason": "Store closed"}
    ).raise_for_status()

    final = details(http, ninja, order_id)
    assert final["status"] == "Canceled" and final["canceled"] is not None
    assert final["cancelled_reason"] == "Store closed" and final["completed"] is None


def test_status_progresses_by_itself_with_auto_advance(http: httpx.Client, wait_until) -> None:
    handle = DispatchNinjaSandbox(DispatchNinjaSettings(auto_advance_seconds=0.05, tick_seconds=0.01)).serve()
    try:
        order_id = http.post(f"{handle.url}{BASE}/orders/add", data=ORDER, headers=KEY).json()["response"]["order_id"]

        final = wait_until(lambda: (d := details(http, handle, order_id))["status"] == "Completed" and d)
        history = http.get(f"{handle.url}/_admin/orders/{order_id}").json()["history"]
    finally:
        handle.stop()

    assert final["completed"] is not None
    assert [h["status"] for h in history] == ["Pending", "Assigned", "Picked Up", "Completed"]
