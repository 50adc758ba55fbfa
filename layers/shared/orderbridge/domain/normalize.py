"""Vendor order payloads → the internal :class:`~orderbridge.models.order.Order`."""

from __future__ import annotations

from datetime import datetime

from orderbridge.domain.ids import order_id_for
from orderbridge.domain.statuses import BLINK_TO_ORDER_STATUS
from orderbridge.models.blend import BlendOrderCreated
from orderbridge.models.blink import BlinkOrderStatus, BlinkOrderWebhook
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


def blink_order(payload: BlinkOrderWebhook, branch: Branch, *, received_at: datetime) -> Order:
    items = [
        OrderItem(
            source_item_id=p.product_id,
            name=p.name,
            quantity=p.quantity,
            unit_price=p.unit_price,
            total_price=p.total_price if p.total_price is not None else p.unit_price * p.quantity,
            discount_price=p.item_discount_price,
            blink_id=p.product_id,
            options=[
                OrderOption(
                    source_option_id=o.modifier_option_id,
                    name=o.name,
                    quantity=o.quantity,
                    unit_price=o.unit_price,
                    total_price=o.total_price,
                    blink_id=o.modifier_option_id,
                )
                for o in p.options
            ],
        )
        for p in payload.products
    ]
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
        customer=Customer(
            name=payload.customer_name,
            phone=payload.customer_phone,
            address=payload.customer_address_description,
            latitude=payload.customer_address_latitude,
            longitude=payload.customer_address_longitude,
        ),
        items=items,
        amounts=Amounts(
            subtotal=payload.subtotal,
            tax=payload.tax,
            discount=payload.total_discount_amount,
            delivery_charges=payload.delivery_charges,
            total=payload.total_price,
            currency=payload.currency,
        ),
        status=BLINK_TO_ORDER_STATUS[BlinkOrderStatus(payload.status)],
        placed_at=payload.created_at,
        due_at=payload.due_at,
        pre_order=bool(payload.is_pre_order),
        received_at=received_at,
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
    unmapped: list[UnmappedItem] = []
    items: list[OrderItem] = []
    for index, item in enumerate(payload.items):
        mapped = mappings.get(("item", item.id))
        if mapped is None:
            unmapped.append(UnmappedItem(kind="item", source_id=item.id, item_index=index))
        options = []
        for option in item.options:
            mapped_option = mappings.get(("option", option.id))
            if mapped_option is None:
                unmapped.append(UnmappedItem(kind="option", source_id=option.id, item_index=index))
            options.append(
                OrderOption(
                    source_option_id=option.id,
                    name=mapped_option.name if mapped_option else None,
                    quantity=option.quantity,
                    unit_price=option.price,
                    total_price=option.price * option.quantity,
                    product_id=mapped_option.product_id if mapped_option else None,
                    blink_id=mapped_option.blink_id if mapped_option else None,
                )
            )
        items.append(
            OrderItem(
                source_item_id=item.id,
                name=mapped.name if mapped else None,
                quantity=item.quantity,
                unit_price=item.price,
                total_price=item.price * item.quantity,
                note=item.note or None,
                options=options,
                product_id=mapped.product_id if mapped else None,
                blink_id=mapped.blink_id if mapped else None,
            )
        )
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
        amounts=Amounts(
            subtotal=payload.subtotal,
            tax=payload.tax,
            discount=payload.discount,
            total=payload.total,
        ),
        unmapped=unmapped,
        placed_at=event.event_time,
        received_at=received_at,
    )


def mapping_keys(event: BlendOrderCreated) -> set[tuple[str, str]]:
    """The (kind, partner id) pairs an order's items and options need mappings for."""
    keys: set[tuple[str, str]] = set()
    for item in event.payload.items:
        keys.add(("item", item.id))
        keys.update(("option", option.id) for option in item.options)
    return keys
