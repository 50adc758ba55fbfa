"""An internal order as Blink's ``submitOrder`` wants it: item mapping, amounts, order type.
No AWS, no HTTP.

A delivery-partner order reaches Blink only when every item and option maps to a Blink id
(``OrderItem.blink_id`` / ``OrderOption.blink_id``, from the partner's item mappings): Blink
cannot take an item it does not know, and dropping one would change what the customer bought.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from orderbridge.models.blink import BlinkSubmitOrderItem, BlinkSubmitOrderSubOption
from orderbridge.models.config import ItemMapping
from orderbridge.models.order import Order, UnmappedItem

DeliveryType = Literal["dinein", "pickup", "delivery"]
BlinkPaymentMethod = Literal["Cash", "Online"]

_ORDER_TYPES: dict[str, DeliveryType] = {
    "delivery": "delivery",
    "pickup": "pickup",
    "pick-up": "pickup",
    "pick_up": "pickup",
    "takeaway": "pickup",
    "dinein": "dinein",
    "dine-in": "dinein",
    "dine_in": "dinein",
}


def unmapped_keys(order: Order) -> set[tuple[str, str]]:
    """The (kind, partner id) pairs of the items and options that have no Blink id yet."""
    keys = {("item", item.source_item_id) for item in order.items if not item.blink_id}
    keys.update(
        ("option", option.source_option_id) for item in order.items for option in item.options if not option.blink_id
    )
    return keys


def apply_mappings(order: Order, mappings: dict[tuple[str, str], ItemMapping]) -> Order:
    """The order with the item mappings added since it arrived (a person mapped an item, then
    retried): every item and option still without a Blink id takes its mapping's ids and name."""
    items = []
    for item in order.items:
        options = []
        for option in item.options:
            found = None if option.blink_id else mappings.get(("option", option.source_option_id))
            options.append(
                option
                if found is None
                else option.model_copy(
                    update={
                        "blink_id": found.blink_id,
                        "product_id": found.product_id,
                        "name": option.name or found.name,
                    }
                )
            )
        found = None if item.blink_id else mappings.get(("item", item.source_item_id))
        update: dict[str, Any] = {"options": options}
        if found is not None:
            update.update(blink_id=found.blink_id, product_id=found.product_id, name=item.name or found.name)
        items.append(item.model_copy(update=update))
    unmapped = [
        UnmappedItem(kind=kind, source_id=source_id, item_index=index)
        for index, item in enumerate(items)
        for kind, source_id, blink_id in [("item", item.source_item_id, item.blink_id)]
        + [("option", option.source_option_id, option.blink_id) for option in item.options]
        if not blink_id
    ]
    return order.model_copy(update={"items": items, "unmapped": unmapped})


def unmapped_for_blink(order: Order) -> list[str]:
    """Where the order has no Blink id, as ``items[i]`` / ``items[i].options[j]`` with the source's
    id (ids only: nothing the customer wrote). Empty when the order can go to Blink."""
    missing: list[str] = []
    for i, item in enumerate(order.items):
        if not item.blink_id:
            missing.append(f"items[{i}] (item {item.source_item_id})")
        for j, option in enumerate(item.options):
            if not option.blink_id:
                missing.append(f"items[{i}].options[{j}] (option {option.source_option_id})")
    return missing


def blink_items(order: Order) -> list[BlinkSubmitOrderItem]:
    """The order's items as Blink items (call only when :func:`unmapped_for_blink` is empty).

    ``actual_price`` is the item's list price, ``price`` what it sells for (its discounted price
    when it has one); options become ``sub_options`` at their unit price.
    """
    items = []
    for item in order.items:
        assert item.blink_id, "unmapped item"
        selling = item.discount_price if item.discount_price is not None else item.unit_price
        items.append(
            BlinkSubmitOrderItem(
                blink_item_id=item.blink_id,
                name=item.name or item.product_id or f"item {item.blink_id}",
                notes=item.note,
                actual_price=item.unit_price,
                price=selling,
                quantity=item.quantity,
                sub_options=[
                    BlinkSubmitOrderSubOption(
                        sub_option_id=option.blink_id,
                        price=option.unit_price if option.unit_price is not None else Decimal(0),
                        quantity=option.quantity,
                    )
                    for option in item.options
                    if option.blink_id
                ],
            )
        )
    return items


def subtotal(order: Order) -> Decimal:
    """The order's subtotal, or the sum of its items and options when the source gave none."""
    if order.amounts.subtotal is not None:
        return order.amounts.subtotal
    total = Decimal(0)
    for item in order.items:
        total += item.total_price
        for option in item.options:
            if option.total_price is not None:
                total += option.total_price
            elif option.unit_price is not None:
                total += option.unit_price * option.quantity
    return total


def total(order: Order) -> Decimal:
    """The order's total, or subtotal + tax + delivery charges - discount when the source gave none."""
    if order.amounts.total is not None:
        return order.amounts.total
    amounts = order.amounts
    return (
        subtotal(order)
        + (amounts.tax or Decimal(0))
        + (amounts.delivery_charges or Decimal(0))
        - (amounts.discount or Decimal(0))
    )


def delivery_type(order_type: str | None) -> DeliveryType | None:
    """Blink's ``delivery_type`` for an order type ("DELIVERY", "PICK-UP", "DINE-IN"), None if unknown."""
    if not order_type:
        return None
    return _ORDER_TYPES.get(order_type.strip().lower())


def payment_method(order: Order) -> BlinkPaymentMethod:
    """Cash for cash (or cash on delivery) orders that are not paid yet, else Online."""
    method = (order.payment_method or "").strip().lower()
    if not order.paid and (not method or "cash" in method or method == "cod"):
        return "Cash"
    return "Online"
