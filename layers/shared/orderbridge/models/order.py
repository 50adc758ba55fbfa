"""The internal order: one shape for Blink orders and delivery-partner orders.

Vendor payloads are normalised into :class:`Order` (``domain.normalize``); the store keeps it,
its timeline and the raw payloads; the workflow and the ops API read it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, SerializerFunctionWrapHandler, model_serializer

from orderbridge.models.base import OurModel
from orderbridge.models.config import BlinkAddress
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


class OrderState(StrEnum):
    """The order's lifecycle as a person reads it (besides the vendor tracks).

    ``stuck`` is not stored: it is an ``in_progress`` order whose wait is past its deadline.
    """

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    NEEDS_ATTENTION = "needs_attention"  # a person must act: fix, then retry
    FAILED = "failed"  # the workflow gave up: resume once the cause is gone
    STUCK = "stuck"
    DELIVERED = "delivered"
    COLLECTED = "collected"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


FINAL_STATES = frozenset({OrderState.DELIVERED, OrderState.COLLECTED, OrderState.CANCELLED, OrderState.REJECTED})


class Failure(OurModel):
    """Why an order failed or needs attention: one line a person can act on (no stack trace)."""

    step: str | None = None  # the workflow step, e.g. ReserveLocker
    kind: str  # the error's name, e.g. RetryableVendorError, ActionRefused
    vendor: str | None = None  # blink, blink_logistics, bloqit, dispatchninja
    http_status: int | None = None
    message: str


class Lifecycle(OurModel):
    state: OrderState
    step: str | None = None  # in_progress: what the workflow waits on (or does) now
    deadline: datetime | None = None  # in_progress: past it (and still waiting), the order is stuck
    failure: Failure | None = None  # failed / needs_attention / stuck (the stuck-orders sync's reason)
    at: datetime | None = None  # when the state was set


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


class OrderIdentity(OurModel):
    """Which order it is and whose: the first fields of :class:`Order`, and of every view of one."""

    order_id: str
    source: OrderSource
    source_order_id: str
    partner_id: str | None = None
    merchant_id: str
    branch_id: str  # our branch id (the config record's id)


class Order(OrderIdentity):
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
    # Where the customer's door is, in Blink's submitOrder shape (a partner order delivered by the
    # merchant's courier needs it and the Blend contract has none: a person enters it).
    delivery_address: BlinkAddress | None = None
    items: list[OrderItem]
    amounts: Amounts = Field(default_factory=Amounts)
    unmapped: list[UnmappedItem] = Field(default_factory=list)
    status: OrderStatus = OrderStatus.PENDING
    placed_at: datetime | None = None
    due_at: datetime | None = None
    pre_order: bool = False  # Blink's is_pre_order: due_at is when the customer wants it
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


# The name of a status track as stored on the order item (see :class:`Tracks`).
TrackName = Literal["status", "courier_status", "rent_state"]

# A time read back from the store, shown as it was stored: ``datetime.isoformat()`` text.
StoredTime = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]


class CancelRequest(OurModel):
    """A person asked to cancel the order (``POST /ops/orders/{id}/cancel``): why, who, when. The
    order's open wait settles with ``OrderCancelled`` (``domain.waits``) and the workflow's cancel
    path tells Blink (rejected, the reason as its comment) and releases the locker."""

    reason: str = Field(min_length=1, max_length=500)
    by: str = Field(min_length=1, max_length=200)
    at: StoredTime


class Tracks(OurModel):
    """The order's three status tracks (``domain.statuses``) as the store last moved them, and a
    person's request to cancel it (which settles a wait like a track does)."""

    status: OrderStatus = OrderStatus.PENDING  # the order status, driven by Blink
    courier_status: str | None = None  # the current courier job's last event (a TaskEvent name)
    rent_state: str | None = None  # the current locker rent's state (a Bloq.It RentState value)
    updated_at: StoredTime | None = None  # when a track or a vendor's id on the order last changed
    cancel_request: CancelRequest | None = None


class TimelineEntry(OurModel):
    """A :class:`TimelineEvent` as the store read it back (the ops API shows it): with the raw
    payload when it was asked for. ``at`` and ``raw`` are left out when absent, as stored."""

    event_key: str
    source: str
    kind: str
    at: StoredTime | None = None
    received_at: StoredTime
    applied: bool = True
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)
    raw: str | None = None

    @model_serializer(mode="wrap")
    def _without_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {k: v for k, v in dumped.items() if k not in ("at", "raw") or v is not None}
