"""The vendor payload models accept the vendors' documented samples as they are sent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from orderbridge.errors import BadRequest, InvalidPayload
from orderbridge.models.blend import BlendOrderCreated
from orderbridge.models.blink_logistics import TaskStatusWebhook
from orderbridge.models.blink_webhooks import BlinkOrderStatusWebhook, BlinkOrderWebhook
from orderbridge.models.bloqit_webhooks import EVENT_TYPES, RENT_EVENT_STATE, BloqWebhookEvent
from orderbridge.models.states import RentState, TaskEvent
from orderbridge.web.request import parse_json, parse_model

from tests.support import samples


def test_blink_order_sample_parses_with_decimal_money_and_utc_times():
    order = parse_model(BlinkOrderWebhook, parse_json(samples.text("blink_order_webhook.json")))

    assert order.blink_order_id == "1236589"
    assert order.total_price == Decimal("66.67") and isinstance(order.total_price, Decimal)
    assert order.products[0].unit_price == Decimal("39.000")
    assert order.products[0].options[0].modifier_option_id == "cfeed7290c4c"
    assert order.status == 0  # "0" as a string in the payload
    assert order.created_at == datetime(2024, 6, 26, 9, 26, 4, tzinfo=UTC)
    assert order.customer_address_latitude is None
    assert order.payment is True


def test_blink_order_accepts_ids_as_ints_and_numbers_as_strings():
    data = parse_json(samples.text("blink_order_webhook.json"))
    data.update(blink_order_id=1236589, branch_id=12345, tax="12.50", total_price=Decimal("70.10"))
    order = parse_model(BlinkOrderWebhook, data)
    assert (order.blink_order_id, order.branch_id) == ("1236589", "12345")
    assert order.tax == Decimal("12.50")


def test_json_floats_never_become_binary_floats():
    data = parse_json('{"a": 66.67, "b": 0.1}')
    assert data == {"a": Decimal("66.67"), "b": Decimal("0.1")}


def test_blink_order_status_sample_parses():
    status = parse_model(BlinkOrderStatusWebhook, samples.load("blink_order_status_webhook.json"))
    assert (status.status, status.status_text, status.comment) == (4, "Rejected", "TEST ORDER")
    assert status.created_at == datetime(2023, 10, 10, 12, 0, tzinfo=UTC)


def test_unknown_blink_status_code_is_refused_with_its_field():
    with pytest.raises(InvalidPayload) as refused:
        parse_model(BlinkOrderStatusWebhook, {"blink_order_id": "1", "status": 5})
    assert [e.field for e in refused.value.errors] == ["status"]


def test_task_status_sample_parses():
    task = parse_model(TaskStatusWebhook, samples.load("blink_task_status_webhook.json"))
    assert task.task_event is TaskEvent.TASK_ACCEPTED
    assert task.data.task_id == "XYZAB-12345"
    assert task.data.agent.contact == "+923213456789"


def test_blend_sample_with_documentation_comments_parses():
    event = parse_model(BlendOrderCreated, parse_json(samples.text("blend_order_created.jsonc")))
    assert event.branch_id == "14589"
    assert event.payload.total == Decimal("50")
    assert [i.id for i in event.payload.items] == ["1", "2"]
    assert event.payload.items[0].options[0].price == Decimal("10")


def test_comment_stripping_leaves_slashes_inside_strings_alone():
    assert parse_json('{"url": "https://x.test/a//b"} // note') == {"url": "https://x.test/a//b"}


def test_malformed_json_is_a_bad_request_naming_the_position():
    with pytest.raises(BadRequest) as refused:
        parse_json('{"a": 1,,}')
    assert "line 1" in refused.value.errors[0].reason


def test_bloq_callback_sample_parses_and_unknown_event_types_are_kept():
    event = parse_model(BloqWebhookEvent, samples.load("bloq_webhook_callback.json"))
    assert event.id == "string" and event.code_name == "string"
    assert event.rent_state is None


@pytest.mark.parametrize("code_name", [e for e in EVENT_TYPES])
def test_every_documented_bloq_event_type_parses(code_name):
    event = parse_model(BloqWebhookEvent, {"_id": "e1", "codeName": code_name, "rent": "r1"})
    assert event.category == code_name.split(".")[0]


def test_every_rent_state_is_reached_by_an_event_except_payment_attempt():
    # payment_attempt has no event in the webhook table; every other state has one (in_progress two:
    # rent.in_progress and rent.offline_dropoff).
    reached = set(RENT_EVENT_STATE.values())
    assert set(RentState) - reached == {RentState.PAYMENT_ATTEMPT}


def test_missing_required_fields_are_reported_by_path():
    with pytest.raises(InvalidPayload) as refused:
        parse_model(BlendOrderCreated, {"event": "order_created", "payload": {"id": "1", "items": [{"id": "x"}]}})
    fields = {e.field for e in refused.value.errors}
    assert {"branch_id", "payload.total", "payload.items[0].quantity", "payload.items[0].price"} <= fields


@pytest.mark.parametrize("blank", ["", None])
def test_a_time_blink_leaves_empty_is_no_time_not_a_refused_page(blank):
    # Given a customer and an abandoned cart whose times Blink left empty (its doc shows "" fields)
    from orderbridge.models.blink import BlinkAbandonedCart, BlinkCustomer

    # When they are read, Then the empty time is None and the rest of the record is kept
    customer = BlinkCustomer.model_validate({"full_name": "A", "created_at": blank})
    cart = BlinkAbandonedCart.model_validate({"order_id": "7", "notification": {"status": "sent", "sent_at": blank}})
    assert customer.created_at is None and customer.full_name == "A"
    assert cart.notification is not None and cart.notification.sent_at is None and cart.order_id == "7"
    # and a real time still reads as UTC
    assert BlinkCustomer.model_validate({"created_at": "2021-04-23 15:09:18"}).created_at == datetime(
        2021, 4, 23, 15, 9, 18, tzinfo=UTC
    )
