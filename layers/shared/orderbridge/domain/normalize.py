"""Vendor order payloads → the internal :class:`~orderbridge.models.order.Order`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from orderbridge.domain.ids import order_id_for
from orderbridge.domain.statuses import BLINK_TO_ORDER_STATUS
from orderbridge.models.blend import BlendItem, BlendOption, BlendOrderCreated
from orderbridge.models.blink_webhooks import BlinkOrderProduct, BlinkOrderWebhook
from orderbridge.models.config import Branch, ItemMapping, PartnerBranch
from orderbridge.models.order import (
    Amounts,
    Customer,
    Order,
    OrderItem,
    OrderOption,
    OrderSource,
    UnmappedItem,
)
from orderbridge.models.states import BlinkOrderStatus


def blink_order(payload: BlinkOrderWebhook, branch: Branch, *, received_at: datetime) -> Order:
    return Order(
        order_id=order_id_for(OrderSource.BLINK.value, payload.blink_order_id),
        source=OrderSource.BLINK,
        source_order_id=payload.blink_order_id,
        merchant_id=branch.merchant_id,
        branch_id=branch.branch_id,
        blink_branch_id=payload.blink_branch_id or branch.blink_id,
        blink_order_id=payload.blink_order_id,
        order_type=payload.type,
        channel=payload.channel,
        payment_method=payload.payment_method,
        paid=payload.payment,
        note=payload.kitchen_notes or None,
        customer=_blink_customer(payload),
        items=[_blink_item(product) for product in payload.products],
        amounts=_blink_amounts(payload),
        status=BLINK_TO_ORDER_STATUS[BlinkOrderStatus(payload.status)],
        placed_at=payload.created_at,
        due_at=payload.due_at,
        pre_order=bool(payload.is_pre_order),
        received_at=received_at,
    )


def _blink_item(product: BlinkOrderProduct) -> OrderItem:
    """A Blink product, its price as Blink gives it (see :attr:`BlinkOrderProduct.line_total`)."""
    return OrderItem(
        source_item_id=product.product_id,
        name=product.name,
        quantity=product.quantity,
        unit_price=product.unit_price,
        total_price=product.line_total,
        discount_price=product.item_discount_price,
        blink_id=product.product_id,
        options=[
            OrderOption(
                source_option_id=option.modifier_option_id,
                name=option.name,
                quantity=option.quantity,
                unit_price=option.unit_price,
                total_price=option.total_price,
                blink_id=option.modifier_option_id,
            )
            for option in product.options
        ],
    )


def _blink_customer(payload: BlinkOrderWebhook) -> Customer:
    return Customer(
        name=payload.customer_name,
        phone=payload.customer_phone,
        address=payload.customer_address_description,
        latitude=payload.customer_address_latitude,
        longitude=payload.customer_address_longitude,
    )


def _blink_amounts(payload: BlinkOrderWebhook) -> Amounts:
    return Amounts(
        subtotal=payload.subtotal,
        tax=payload.tax,
        discount=payload.total_discount_amount,
        delivery_charges=payload.delivery_charges,
        total=payload.total_price,
        currency=payload.currency,
    )


def partner_order(
    event: BlendOrderCreated,
    route: PartnerBranch,
    mappings: dict[tuple[str, str], ItemMapping],
    *,
    received_at: datetime,
) -> Order:
    """``mappings`` is keyed by (kind, partner item id); what is missing is reported as unmapped."""
    payload = event.payload
    mapper = _PartnerItemMapper(mappings)
    items = [mapper.item(item, index) for index, item in enumerate(payload.items)]
    return Order(
        order_id=order_id_for(f"partner:{route.partner_id}", payload.id),
        source=OrderSource.PARTNER,
        source_order_id=payload.id,
        partner_id=route.partner_id,
        merchant_id=route.merchant_id,
        branch_id=route.branch_id,
        order_type=payload.order_type,
        payment_method=payload.payment_method,
        note=payload.note or None,
        items=items,
        amounts=Amounts(subtotal=payload.subtotal, tax=payload.tax, discount=payload.discount, total=payload.total),
        unmapped=mapper.unmapped,
        placed_at=event.event_time,
        received_at=received_at,
    )


class _MappedNames(TypedDict):
    """What an item mapping gives an order line: our product, its Blink id and its name."""

    name: str | None
    product_id: str | None
    blink_id: str | None


@dataclass
class _PartnerItemMapper:
    """Turns a partner's items and options into order lines through the item mappings, noting
    every item or option that has no mapping (in the order they appear)."""

    mappings: dict[tuple[str, str], ItemMapping]
    unmapped: list[UnmappedItem] = field(default_factory=list)

    def item(self, item: BlendItem, index: int) -> OrderItem:
        names = self._names("item", item.id, index)
        options = [self.option(option, index) for option in item.options]
        total = item.price * item.quantity
        return OrderItem(
            source_item_id=item.id,
            quantity=item.quantity,
            unit_price=item.price,
            total_price=total,
            note=item.note or None,
            options=options,
            **names,
        )

    def option(self, option: BlendOption, index: int) -> OrderOption:
        names = self._names("option", option.id, index)
        total = option.price * option.quantity
        return OrderOption(
            source_option_id=option.id, quantity=option.quantity, unit_price=option.price, total_price=total, **names
        )

    def _names(self, kind: str, source_id: str, index: int) -> _MappedNames:
        mapped = self.mappings.get((kind, source_id))
        if mapped is None:
            self.unmapped.append(UnmappedItem(kind=kind, source_id=source_id, item_index=index))
            return _MappedNames(name=None, product_id=None, blink_id=None)
        return _MappedNames(name=mapped.name, product_id=mapped.product_id, blink_id=mapped.blink_id)


def mapping_keys(event: BlendOrderCreated) -> set[tuple[str, str]]:
    """The (kind, partner id) pairs an order's items and options need mappings for."""
    keys: set[tuple[str, str]] = set()
    for item in event.payload.items:
        keys.add(("item", item.id))
        keys.update(("option", option.id) for option in item.options)
    return keys
