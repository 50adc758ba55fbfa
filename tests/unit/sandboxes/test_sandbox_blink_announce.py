"""The Blink sandbox announces orders pushed with submitOrder on its Order Webhook.

ASSUMPTION under test (blink-api.txt is silent): an order submitted through submitOrder comes back
on the Order Webhook like any new order. ``announce_submitted_orders`` says when: "after" the
submitOrder answer (default), "before" it (the receiver sees the order while the submitter waits),
or "off".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from orderbridge.models.blink_webhooks import BlinkOrderWebhook
from orderbridge_local.sandboxes.base import ServerHandle
from orderbridge_local.sandboxes.blink import BlinkSandbox, BlinkSettings

from tests.support import samples as doc_samples
from tests.unit.sandboxes.conftest import WAIT_SECONDS, Received, Receiver
from tests.unit.vendors import samples

API = "/interface/v1"
HOOK_PATH = "/webhooks/blink/orders"


def submission(**overrides: Any) -> dict[str, Any]:
    """The doc's submitOrder sample payload (a scheduled delivery to branch 60002)."""
    payload: dict[str, Any] = json.loads(samples.BLINK_SUBMIT_ORDER_PAYLOAD)
    payload.update(overrides)
    return payload


def serve_blink(receiver: Receiver, **settings: Any) -> ServerHandle:
    return BlinkSandbox(
        BlinkSettings(order_webhook_url=f"{receiver.url}{HOOK_PATH}", webhook_token="hook-token-123", **settings)
    ).serve()


@pytest.fixture
def blink(receiver: Receiver) -> Iterator[ServerHandle]:
    """Blink with its defaults (thread webhook mode, announce "after"), webhooks to ``receiver``."""
    handle = serve_blink(receiver)
    try:
        yield handle
    finally:
        handle.stop()


def bearer(handle: ServerHandle) -> dict[str, str]:
    return {"Authorization": f"Bearer {handle.sandbox.issue_token()}"}


def submit(handle: ServerHandle, payload: dict[str, Any], timeout: float = WAIT_SECONDS) -> httpx.Response:
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        return client.post(f"{handle.url}{API}/submitOrder", json=payload, headers=bearer(handle))


def order_record(handle: ServerHandle, order_id: int) -> dict[str, Any]:
    with httpx.Client(timeout=WAIT_SECONDS, trust_env=False) as client:
        answer = client.get(f"{handle.url}/_admin/orders/{order_id}")
    assert answer.status_code == 200
    return answer.json()


# ----------------------------------------------------------------------------------------- "after"


def test_by_default_a_submitted_order_is_announced_without_making_the_submitter_wait(
    blink: ServerHandle, receiver: Receiver
) -> None:
    # Given a receiver that holds its answer to the Order Webhook until we let it go
    release = threading.Event()
    receiver.on_receive = lambda _: release.wait(WAIT_SECONDS)
    try:
        # When we submit an order, waiting at most 2 s (less than the webhook's 5 s timeout)
        answer = submit(blink, submission(), timeout=2.0)

        # Then submitOrder answers although the receiver has not answered the webhook
        assert answer.status_code == 201
        order_id = answer.json()["data"]["id"]
        (hook,) = receiver.wait_for(1)
    finally:
        release.set()
    assert blink.sandbox.flush_webhooks(WAIT_SECONDS)

    # And the receiver got Blink's Order Webhook for that very order, with the webhook token
    assert hook.method == "POST" and hook.path == HOOK_PATH
    assert hook.headers["X-Webhook-Token"] == "hook-token-123"
    assert hook.json["blink_order_id"] == str(order_id)
    assert hook.json["order_key"] == answer.json()["data"]["unique_code"]

    # And Blink's record of the order says it came from submitOrder and what was announced
    record = order_record(blink, order_id)
    assert record["source"] == "submitOrder" and record["announced"] is True
    assert record["webhook_payload"] == hook.json
    assert [(w["label"], w["status"], w["url"]) for w in record["webhooks"]] == [
        ("order", 200, f"{receiver.url}{HOOK_PATH}")
    ]


# ---------------------------------------------------------------------------------------- "before"


def test_before_the_receiver_sees_the_order_and_can_fetch_it_while_the_submitter_still_waits(
    blink: ServerHandle, receiver: Receiver, http: httpx.Client
) -> None:
    # Given Blink switched at run time to announce submitted orders before answering
    switched = http.post(f"{blink.url}/_admin/settings", json={"announce_submitted_orders": "before"})
    assert switched.status_code == 200 and switched.json()["announce_submitted_orders"] == "before"

    # And a receiver that, on the webhook, notes whether the submitter has its answer yet and
    # calls Blink back for the order (as Orderbridge could)
    submitter_answered = threading.Event()
    seen: dict[str, Any] = {}

    def on_webhook(hook: Received) -> None:
        seen["submitter_answered"] = submitter_answered.is_set()
        with httpx.Client(timeout=WAIT_SECONDS, trust_env=False) as client:
            seen["get_order"] = client.get(
                f"{blink.url}{API}/getOrder",
                params={"order_id": hook.json["blink_order_id"]},
                headers=bearer(blink),
            )

    receiver.on_receive = on_webhook

    # When we submit an order
    answer = submit(blink, submission())
    submitter_answered.set()

    # Then the receiver had the webhook before the submitter had its answer
    assert answer.status_code == 201
    assert len(receiver.received) == 1
    assert seen["submitter_answered"] is False

    # And Blink served the receiver's call back meanwhile (no deadlock on its state lock)
    data = answer.json()["data"]
    assert seen["get_order"].status_code == 201
    assert seen["get_order"].json()["data"]["unique_code"] == data["unique_code"]

    # And the delivery was complete when submitOrder answered (no flush needed)
    record = order_record(blink, data["id"])
    assert record["announced"] is True
    assert [(w["label"], w["status"]) for w in record["webhooks"]] == [("order", 200)]
    assert record["webhook_payload"]["order_key"] == data["unique_code"]


def test_before_a_receiver_that_never_answers_delays_submit_order_only_up_to_the_webhook_timeout(
    receiver: Receiver,
) -> None:
    # Given Blink announcing "before" with a 0.3 s webhook timeout, and a receiver that hangs
    release = threading.Event()
    receiver.on_receive = lambda _: release.wait(WAIT_SECONDS)
    handle = serve_blink(receiver, announce_submitted_orders="before", webhook_timeout_seconds=0.3)
    try:
        # When we submit an order
        answer = submit(handle, submission())
        release.set()

        # Then submitOrder still answers, and the announcement is recorded as failed (no retry)
        assert answer.status_code == 201
        record = order_record(handle, answer.json()["data"]["id"])
    finally:
        release.set()
        handle.stop()
    assert record["announced"] is True
    assert [(w["status"], w["attempt"]) for w in record["webhooks"]] == [("error", 1)]
    assert "Timeout" in record["webhooks"][0]["error"]


# ------------------------------------------------------------------------------------------- "off"


def test_off_a_submitted_order_is_not_announced(receiver: Receiver) -> None:
    # Given Blink told not to announce submitted orders
    handle = serve_blink(receiver, announce_submitted_orders="off")
    try:
        # When we submit an order
        answer = submit(handle, submission())
        assert handle.sandbox.flush_webhooks(WAIT_SECONDS)

        # Then it is stored, and no webhook went out
        assert answer.status_code == 201
        record = order_record(handle, answer.json()["data"]["id"])
        log = handle.sandbox.webhooks_log()
    finally:
        handle.stop()
    assert receiver.received == [] and log == []
    assert record["source"] == "submitOrder"
    assert record["announced"] is False and record["webhook_payload"] is None and record["webhooks"] == []


def test_the_setting_refuses_an_unknown_value(blink: ServerHandle, http: httpx.Client) -> None:
    # When we set announce_submitted_orders to something it does not know
    answer = http.post(f"{blink.url}/_admin/settings", json={"announce_submitted_orders": "sometimes"})

    # Then 400, and the setting is unchanged
    assert answer.status_code == 400
    assert http.get(f"{blink.url}/_admin/settings").json()["announce_submitted_orders"] == "after"


# ----------------------------------------------------------------------------------------- payload


def announced_payload(receiver: Receiver, payload: dict[str, Any], **settings: Any) -> tuple[dict[str, Any], Any]:
    """Submit ``payload`` to a sync-mode Blink; the webhook body the receiver got and the answer's data."""
    handle = serve_blink(receiver, webhook_mode="sync", **settings)
    try:
        answer = submit(handle, payload)
    finally:
        handle.stop()
    assert answer.status_code == 201, answer.text
    (hook,) = receiver.wait_for(1)
    return hook.json, answer.json()["data"]


def test_a_submitted_delivery_is_announced_with_the_doc_keys_and_the_submitted_values(receiver: Receiver) -> None:
    # Given the doc's sample submission: a scheduled Cash delivery to branch 60002, read in Karachi time
    sent = submission()

    # When it is submitted
    payload, data = announced_payload(receiver, sent, scheduled_time_zone="Asia/Karachi")

    # Then the webhook has exactly the keys of the doc's Order Webhook sample
    assert set(payload) == set(doc_samples.load("blink_order_webhook.json"))

    # And our own model of the Order Webhook accepts it
    webhook = BlinkOrderWebhook.model_validate(payload)

    # And it names the submitted order and the branch (third-party code 64 of Blink branch 60002)
    assert (webhook.blink_order_id, webhook.order_key) == (str(data["id"]), data["unique_code"])
    assert (webhook.branch_id, webhook.blink_branch_id) == ("64", "60002")
    assert webhook.branch_address == "Plot#212 Rae Avenue road"
    assert (webhook.type, webhook.status, webhook.status_text) == ("DELIVERY", 0, "PENDING")
    assert (webhook.channel, webhook.currency) == ("API", "PKR")

    # And the customer exactly as submitted, the address and coordinates from the delivery block
    assert (payload["customer_name"], payload["customer_phone"]) == ("Test Order User", "+92333-2222222")
    assert webhook.customer_address_description == (
        "Flat B-1203, Noman Grand City, Rashid Minhas Road, Gulshan-e-Iqbal Block 7, Karachi"
    )
    assert (webhook.customer_address_latitude, webhook.customer_address_longitude) == (
        Decimal("24.918682"),
        Decimal("67.102982"),
    )
    assert webhook.area_name == "Gulshan-e-Iqbal Block 7"

    # And the schedule: a pre-order due at 8 PM Karachi time (UTC+5) = 15:00 UTC
    assert webhook.is_pre_order == 1 and webhook.kitchen_notes == "test note"
    assert webhook.due_at == datetime(2025, 5, 22, 15, 0, tzinfo=UTC)
    assert webhook.created_at is not None and abs((datetime.now(UTC) - webhook.created_at).total_seconds()) < 60

    # And the money as submitted (money strings stay strings), Cash not yet paid
    assert (payload["subtotal"], payload["total_price"], payload["delivery_charges"]) == ("90", "132", "30")
    assert (webhook.tax, webhook.payment, webhook.payment_method, webhook.payment_method_id) == (
        Decimal(12),
        False,
        "Cash",
        "0",
    )

    # And the items as products, the sub-option as an option (named from Blink's menu)
    assert payload["products"] == [
        {
            "product_id": "257327",
            "quantity": 2,
            "name": "Nestle MilkPak Full Cream Milk 250ml",
            "unit_price": "85",
            "total_price": 170,
            "item_price": "110",
            "item_discount_price": "85",
            "options": [
                {
                    "modifier_option_id": "596996",
                    "unit_price": "5",
                    "total_price": "5.000",
                    "name": "Chilled",
                    "quantity": 1,
                    "item_price": "5",
                    "item_discount_price": "0.00",
                }
            ],
        }
    ]


@pytest.mark.parametrize(("delivery_type", "order_type"), [("pickup", "PICK-UP"), ("dinein", "DINE-IN")])
def test_an_asap_counter_order_is_announced_with_its_type_and_no_customer_coordinates(
    receiver: Receiver, delivery_type: str, order_type: str
) -> None:
    # Given an ASAP, paid-online order to be collected at branch 50220 (the branch's address as
    # the delivery block, as the doc requires one), without sub-options
    sent = submission(
        blink_branch_id="50220",
        delivery_type=delivery_type,
        payment_method="Online",
        is_scheduled=0,
        scheduled_delivery_time=None,
        tax_amount=None,
        instructions=None,
        items=[
            {
                "blink_item_id": "c0ffee000001",
                "name": "Cappuccino",
                "actual_price": "450",
                "price": "450",
                "quantity": "1",
            }
        ],
    )

    # When it is submitted
    payload, _ = announced_payload(receiver, sent)
    webhook = BlinkOrderWebhook.model_validate(payload)

    # Then its type, and the sample's "address" for counter orders, no customer coordinates
    assert webhook.type == order_type and webhook.customer_address_description == order_type
    assert (webhook.customer_address_latitude, webhook.customer_address_longitude) == (None, None)

    # And the branch of the doc's webhook sample, by its third-party code
    assert (webhook.branch_id, webhook.blink_branch_id, webhook.area_name) == ("12345", "50220", "Precinct-11A")
    assert (webhook.branch_latitude, webhook.branch_longitude) == (Decimal("27.4654584"), Decimal("64.846548"))

    # And ASAP: due when created; paid online; no tax, no notes, no discount
    assert webhook.is_pre_order == 0 and webhook.due_at == webhook.created_at
    assert (webhook.payment, webhook.payment_method, webhook.tax, webhook.kitchen_notes) == (
        True,
        "Online",
        Decimal(0),
        "",
    )
    (product,) = webhook.products
    assert (product.product_id, product.quantity, product.unit_price, product.total_price) == (
        "c0ffee000001",
        1,
        Decimal(450),
        Decimal(450),
    )
    assert product.item_discount_price == Decimal(0) and product.options == []


def test_a_scheduled_time_not_in_the_doc_format_is_refused(blink: ServerHandle, receiver: Receiver) -> None:
    # When we submit a scheduled order whose time is ISO rather than the doc's "22-05-2025 08:00 PM"
    answer = submit(blink, submission(scheduled_delivery_time="2025-05-22T20:00:00"))

    # Then 422 on that field, nothing stored, nothing announced
    assert answer.status_code == 422
    assert list(answer.json()["errors"]) == ["scheduled_delivery_time"]
    assert blink.sandbox.flush_webhooks(WAIT_SECONDS)
    assert blink.sandbox.orders == {} and receiver.received == []
