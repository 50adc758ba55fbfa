"""Pure rules: DispatchNINJA state on the courier track, payment types, and what a partner order
needs before it can go to Blink."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from orderbridge.domain import blink_submit, courier_rules
from orderbridge.domain.statuses import TERMINAL
from orderbridge.models.dispatchninja import DispatchNinjaOrderDetails
from orderbridge.models.order import Amounts, Order, OrderItem, OrderOption, OrderSource
from orderbridge.models.states import TaskEvent

from tests.unit.vendors import samples as docs


def _details(**changes) -> DispatchNinjaOrderDetails:
    return DispatchNinjaOrderDetails.model_validate(json.loads(docs.NINJA_ORDER_DETAILS_RESPONSE)["response"] | changes)


def _order(**changes) -> Order:
    base = dict(
        order_id="o-1",
        source=OrderSource.PARTNER,
        source_order_id="p-1",
        merchant_id="m",
        branch_id="b",
        items=[
            OrderItem(
                source_item_id="1",
                name="Burger",
                quantity=2,
                unit_price=Decimal("25"),
                total_price=Decimal("50"),
                blink_id="257327",
                options=[
                    OrderOption(
                        source_option_id="1",
                        quantity=2,
                        unit_price=Decimal("10"),
                        total_price=Decimal("20"),
                        blink_id="596996",
                    )
                ],
            )
        ],
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return Order(**(base | changes))


# -- DispatchNINJA on the courier track ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "event"),
    [
        ({}, TaskEvent.TASK_CREATED),  # the doc sample: Pending, no driver
        ({"driver": "77"}, TaskEvent.TASK_ASSIGNED),
        ({"driver": "77", "status": "Picked Up"}, TaskEvent.TASK_STARTED),
        ({"driver": "77", "status": "In Transit"}, TaskEvent.TASK_STARTED),
        ({"driver": "77", "completed": "2021-04-23 16:40:00"}, TaskEvent.TASK_FINISHED),
        ({"canceled": "2021-04-23 16:00:00"}, TaskEvent.TASK_CANCELLED),
        ({"completed": "2021-04-23 16:40:00", "canceled": "2021-04-23 16:00:00"}, TaskEvent.TASK_CANCELLED),
    ],
)
def test_dispatchninja_state_maps_onto_the_courier_vocabulary(changes, event):
    assert courier_rules.dispatchninja_task_event(_details(**changes)) is event


def test_dispatchninja_ranks_only_grow_towards_terminal():
    ranks = [
        courier_rules.dispatchninja_update(_details(**c)).rank
        for c in ({}, {"driver": "77"}, {"completed": "2021-04-23 16:40:00"})
    ]
    assert ranks == sorted(ranks) and ranks[-1] == TERMINAL
    assert courier_rules.dispatchninja_update(_details(canceled="2021-04-23 16:00:00")).rank == TERMINAL


def test_dispatchninja_state_key_changes_with_the_state_only():
    same = courier_rules.dispatchninja_state_key(_details())
    assert courier_rules.dispatchninja_state_key(_details(modified="2021-04-23 15:30:00")) == same  # not a state change
    assert courier_rules.dispatchninja_state_key(_details(status_id="2", status="Assigned")) != same
    assert courier_rules.dispatchninja_state_key(_details(driver="77")) != same
    assert courier_rules.dispatchninja_state_key(_details(completed="2021-04-23 16:40:00")) != same


@pytest.mark.parametrize(
    ("paid", "method", "expected"),
    [
        (None, "cash", "COD"),
        (None, None, "COD"),
        (False, "Cash on delivery", "COD"),
        (None, "COD", "COD"),
        (True, "cash", "ONLINE"),
        (None, "card", "ONLINE"),
        (False, "Online", "ONLINE"),
    ],
)
def test_courier_payment_type(paid, method, expected):
    assert courier_rules.payment_type(_order(paid=paid, payment_method=method)) == expected


# -- a partner order for Blink --------------------------------------------------------------------


def test_a_fully_mapped_order_has_nothing_unmapped_and_maps_its_items():
    order = _order()
    assert blink_submit.unmapped_for_blink(order) == []
    [item] = blink_submit.blink_items(order)
    assert (item.blink_item_id, item.name, item.actual_price, item.price, item.quantity) == (
        "257327",
        "Burger",
        Decimal("25"),
        Decimal("25"),
        2,
    )
    assert [(o.sub_option_id, o.price, o.quantity) for o in item.sub_options] == [("596996", Decimal("10"), 2)]


def test_unmapped_items_and_options_are_named_by_their_source_ids():
    order = _order()
    order.items[0].options[0].blink_id = None
    order.items.append(OrderItem(source_item_id="99", quantity=1, unit_price=Decimal(1), total_price=Decimal(1)))
    assert blink_submit.unmapped_for_blink(order) == ["items[0].options[0] (option 1)", "items[1] (item 99)"]


def test_a_discounted_item_sells_at_its_discount_price():
    order = _order()
    order.items[0].discount_price = Decimal("20")
    [item] = blink_submit.blink_items(order)
    assert (item.actual_price, item.price) == (Decimal("25"), Decimal("20"))


def test_amounts_come_from_the_order_or_are_summed_exactly():
    assert (
        blink_submit.subtotal(_order(amounts=Amounts(subtotal=Decimal("50")))),
        blink_submit.total(_order(amounts=Amounts(total=Decimal("45.10")))),
    ) == (Decimal("50"), Decimal("45.10"))
    summed = _order(amounts=Amounts(tax=Decimal("0.10"), discount=Decimal("0.20"), delivery_charges=Decimal("0.30")))
    assert blink_submit.subtotal(summed) == Decimal("70")  # 50 + the option's 20
    assert blink_submit.total(summed) == Decimal("70.20")


@pytest.mark.parametrize(
    ("order_type", "expected"),
    [("DELIVERY", "delivery"), ("PICK-UP", "pickup"), ("DINE-IN", "dinein"), ("drone", None), (None, None)],
)
def test_blink_delivery_type_from_the_order_type(order_type, expected):
    assert blink_submit.delivery_type(order_type) == expected


@pytest.mark.parametrize(
    ("paid", "method", "expected"),
    [(None, "cash", "Cash"), (None, None, "Cash"), (True, "cash", "Online"), (None, "card", "Online")],
)
def test_blink_payment_method(paid, method, expected):
    assert blink_submit.payment_method(_order(paid=paid, payment_method=method)) == expected
