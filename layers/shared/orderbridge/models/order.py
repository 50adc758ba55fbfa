"""The internal order: one shape for Blink orders and delivery-partner orders.

Vendor payloads are normalised into :class:`Order` (``domain.normalize``); the store keeps it,
its timeline and the raw payloads; the workflow and the ops API read it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field

from orderbridge.models.base import OurModel
from orderbridge.models.types import Money


class OrderSource(StrEnum):
    BLINK = "blink"
    PARTNER = "partner"


class OrderStatus(StrEnum):
    """The order's lifecycle status. The first six mirror Blink's codes (see domain.statuses)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    READY = "ready"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    REJECTED = "rejected"


class OrderOption(OurModel):
    source_option_id: str
    name: str | None = None
    quantity: int = 1
    unit_price: Money | None = None
    total_price: Money | None = None
    # Partner orders: the internal product / Blink ids this option maps to (None when unmapped).
    product_id: str | None = None
    blink_id: str | None = None


class OrderItem(OurModel):
    source_item_id: str
    name: str | None = None
    quantity: int
    unit_price: Money
    total_price: Money
    discount_price: Money | None = None
    note: str | None = None
    options: list[OrderOption] = Field(default_factory=list)
    product_id: str | None = None
    blink_id: str | None = None


class Customer(OurModel):
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class Amounts(OurModel):
    """The order's amounts, all Decimal."""

    subtotal: Money | None = None
    tax: Money | None = None
    discount: Money | None = None
    delivery_charges: Money | None = None
    total: Money | None = None
    currency: str | None = None


class UnmappedItem(OurModel):
    """A partner item (or option) with no mapping to an internal product: reported, not dropped."""

    kind: str  # "item" or "option"
    source_id: str
    item_index: int


class Order(OurModel):
    order_id: str
    source: OrderSource
    source_order_id: str
    partner_id: str | None = None
    merchant_id: str
    branch_id: str  # our branch id (the config record's id)
    blink_branch_id: str | None = None
    blink_order_id: str | None = None
    # Set by the outbound actions: Blink's unique code for an order we submitted, and the
    # courier's ids for the delivery (each also written as an alias, see store.orders).
    blink_unique_code: str | None = None
    blink_logistics_task_id: str | None = None
    dispatchninja_order_id: str | None = None
    courier_attempt: int = 1  # raised when the courier cancelled and another one was dispatched
    order_type: str | None = None
    channel: str | None = None
    payment_method: str | None = None
    paid: bool | None = None
    note: str | None = None
    customer: Customer = Field(default_factory=Customer)
    items: list[OrderItem]
    amounts: Amounts = Field(default_factory=Amounts)
    unmapped: list[UnmappedItem] = Field(default_factory=list)
    status: OrderStatus = OrderStatus.PENDING
    placed_at: datetime | None = None
    due_at: datetime | None = None
    received_at: datetime


class TimelineEvent(OurModel):
    """One thing that happened to an order, from whichever source said it."""

    event_key: str  # the source's event identity: the dedupe key
    source: str  # blink, blink_logistics, partner, bloqit, orderbridge
    kind: str  # order_received, blink_status, task_status, rent_event, ...
    at: datetime | None = None  # when the source says it happened
    received_at: datetime
    applied: bool = True  # False when the event was late/regressing and did not change state
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)
