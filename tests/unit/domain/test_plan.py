"""The order's path by its type, its branch and its partner (domain.plan) — the vendor docs'
order types: Blink ``type`` / Blend ``order_type``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from orderbridge.config import WorkflowSettings
from orderbridge.domain.plan import FINAL_STATE, OrderPath, PlanRefused, plan
from orderbridge.models.config import Branch, CourierProvider, DeliveryMode, Partner, PartnerDelivery
from orderbridge.models.order import Order, OrderItem, OrderSource

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LIMITS = WorkflowSettings(pre_order_lead=45 * 60)
LOCKERS = Branch(branch_id="b", merchant_id="m", name="B", delivery_mode=DeliveryMode.LOCKER)
DOOR = Branch(
    branch_id="b", merchant_id="m", name="B", delivery_mode=DeliveryMode.HOME, courier=CourierProvider.DISPATCHNINJA
)
KIOSK = LOCKERS.model_copy(update={"pickup_bloq_id": "bloq-1"})
RIDERS = Partner(partner_id="p", name="P")
OUR_COURIER = Partner(partner_id="p", name="P", delivered_by=PartnerDelivery.MERCHANT)


def order(order_type: str | None, *, source: OrderSource = OrderSource.BLINK, **extra) -> Order:
    item = OrderItem(source_item_id="1", quantity=1, unit_price=Decimal(1), total_price=Decimal(1))
    return Order(
        order_id="o",
        source=source,
        source_order_id="1",
        merchant_id="m",
        branch_id="b",
        order_type=order_type,
        items=[item],
        received_at=NOW,
        **extra,
    )


@pytest.mark.parametrize(
    ("order_type", "branch", "partner", "path", "courier", "locker"),
    [
        ("DELIVERY", LOCKERS, None, OrderPath.LOCKER_DELIVERY, CourierProvider.BLINK_LOGISTICS, True),
        ("DELIVERY", DOOR, None, OrderPath.HOME_DELIVERY, CourierProvider.DISPATCHNINJA, False),
        (None, DOOR, None, OrderPath.HOME_DELIVERY, CourierProvider.DISPATCHNINJA, False),  # no type: a delivery
        ("DELIVERY", LOCKERS, RIDERS, OrderPath.PLATFORM_DELIVERY, None, False),
        ("DELIVERY", LOCKERS, OUR_COURIER, OrderPath.LOCKER_DELIVERY, CourierProvider.BLINK_LOGISTICS, True),
        ("PICK-UP", LOCKERS, None, OrderPath.COUNTER_PICKUP, None, False),
        ("pickup", KIOSK, None, OrderPath.LOCKER_PICKUP, None, True),
        ("DINE-IN", KIOSK, RIDERS, OrderPath.DINE_IN, None, False),
    ],
)
def test_each_order_type_takes_its_path(order_type, branch, partner, path, courier, locker):
    source = OrderSource.PARTNER if partner else OrderSource.BLINK
    decided = plan(order(order_type, source=source), branch, partner, LIMITS, now=NOW)
    assert (decided.path, decided.courier, decided.locker) == (path, courier, locker)
    assert decided.pickup_bloq_id == ("bloq-1" if path is OrderPath.LOCKER_PICKUP else None)
    assert decided.submit_to_blink is (partner is not None)
    assert FINAL_STATE[path] in {"delivered", "collected"}


def test_an_order_type_no_vendor_defines_needs_a_person():
    with pytest.raises(PlanRefused, match="'CATERING' is none of DELIVERY, PICK-UP, DINE-IN"):
        plan(order("CATERING"), LOCKERS, None, LIMITS, now=NOW)


def test_a_pre_order_starts_its_lead_time_before_it_is_due():
    due = NOW + timedelta(days=3)
    decided = plan(order("DELIVERY", due_at=due, pre_order=True), LOCKERS, None, LIMITS, now=NOW)
    assert decided.start_at == due - timedelta(minutes=45)


def test_an_order_due_within_the_lead_time_starts_now():
    soon = NOW + timedelta(minutes=30)
    assert plan(order("DELIVERY", due_at=soon, pre_order=True), LOCKERS, None, LIMITS, now=NOW).start_at is None
    assert plan(order("DELIVERY", due_at=NOW), LOCKERS, None, LIMITS, now=NOW).start_at is None


def test_a_due_time_far_ahead_is_a_pre_order_even_without_the_flag():
    due = NOW + timedelta(hours=5)
    assert plan(order("DELIVERY", due_at=due), LOCKERS, None, LIMITS, now=NOW).start_at == due - timedelta(minutes=45)


def test_a_partner_order_already_in_blink_is_not_submitted_again():
    decided = plan(order("DELIVERY", source=OrderSource.PARTNER, blink_order_id="9"), LOCKERS, RIDERS, LIMITS, now=NOW)
    assert decided.submit_to_blink is False
