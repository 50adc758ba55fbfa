"""How an order reaches its end: which path it takes, who delivers it, what Blink needs first and
when the workflow may start booking. Decided once at the start of the workflow from the order,
its branch and (for a delivery-partner order) the partner. No AWS, no HTTP.

Order types, as the vendors define them (Blink ``type``, Blend ``order_type``):

| order type | who delivers                                | path                                   |
|------------|---------------------------------------------|----------------------------------------|
| DELIVERY   | the merchant's courier, to a locker         | ``locker_delivery``                    |
| DELIVERY   | the merchant's courier, to the door         | ``home_delivery``                      |
| DELIVERY   | a partner's own rider (partner orders)      | ``platform_delivery`` (Blink status)   |
| PICK-UP    | nobody: the branch has a pickup Bloq         | ``locker_pickup`` (staff drop it off)  |
| PICK-UP    | nobody: the customer comes to the counter   | ``counter_pickup`` (Blink status)      |
| DINE-IN    | nobody                                      | ``dine_in`` (Blink status)             |

A pre-order (Blink ``is_pre_order``, or a ``due_at`` further ahead than the lead time) waits
until ``due_at`` minus the lead time before anything is booked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from orderbridge.config import WorkflowSettings
from orderbridge.models.base import OurModel
from orderbridge.models.config import Branch, CourierProvider, DeliveryMode, Partner, PartnerDelivery
from orderbridge.models.order import Order, OrderSource


class OrderType(StrEnum):
    DELIVERY = "DELIVERY"
    PICK_UP = "PICK-UP"
    DINE_IN = "DINE-IN"


class OrderPath(StrEnum):
    LOCKER_DELIVERY = "locker_delivery"
    HOME_DELIVERY = "home_delivery"
    PLATFORM_DELIVERY = "platform_delivery"
    LOCKER_PICKUP = "locker_pickup"
    COUNTER_PICKUP = "counter_pickup"
    DINE_IN = "dine_in"


# The paths whose end is Blink's own status (set by the kitchen): Orderbridge books nothing.
BLINK_STATUS_PATHS = frozenset({OrderPath.PLATFORM_DELIVERY, OrderPath.COUNTER_PICKUP, OrderPath.DINE_IN})
# The lifecycle state an order ends in when its path completes (the customer collected it, or it
# was delivered to them).
FINAL_STATE = {
    OrderPath.LOCKER_DELIVERY: "collected",
    OrderPath.HOME_DELIVERY: "delivered",
    OrderPath.PLATFORM_DELIVERY: "delivered",
    OrderPath.LOCKER_PICKUP: "collected",
    OrderPath.COUNTER_PICKUP: "collected",
    OrderPath.DINE_IN: "delivered",
}

_TYPE_WORDS = {
    "delivery": OrderType.DELIVERY,
    "pick-up": OrderType.PICK_UP,
    "pickup": OrderType.PICK_UP,
    "pick_up": OrderType.PICK_UP,
    "takeaway": OrderType.PICK_UP,
    "dine-in": OrderType.DINE_IN,
    "dinein": OrderType.DINE_IN,
    "dine_in": OrderType.DINE_IN,
}


class PlanRefused(ValueError):
    """The order cannot be planned with what is known (an order type no vendor defines): a person
    has to look at it."""


class OrderPlan(OurModel):
    order_id: str
    merchant_id: str
    source: OrderSource
    order_type: OrderType
    path: OrderPath
    courier: CourierProvider | None  # None: Orderbridge sends no courier
    courier_attempt: int = 1  # the workflow raises it when the courier cancelled and another one is sent
    locker: bool  # a Bloq.It rent is booked (locker delivery or locker pickup)
    pickup_bloq_id: str | None = None  # locker pickup: the Bloq at the branch
    allow_home_fallback: bool  # locker delivery: no free locker → home delivery
    submit_to_blink: bool  # a partner order Blink has not seen yet
    start_at: datetime | None = None  # a pre-order: nothing is booked before then


def order_type(raw: str | None) -> OrderType:
    """The order's type; no type at all is a delivery (the Blink and Blend default), an unknown
    word is refused rather than guessed."""
    if raw is None or not raw.strip():
        return OrderType.DELIVERY
    found = _TYPE_WORDS.get(raw.strip().lower())
    if found is None:
        raise PlanRefused(f"order type {raw!r} is none of DELIVERY, PICK-UP, DINE-IN")
    return found


def path_of(kind: OrderType, branch: Branch, partner: Partner | None) -> OrderPath:
    if kind is OrderType.DINE_IN:
        return OrderPath.DINE_IN
    if kind is OrderType.PICK_UP:
        return OrderPath.LOCKER_PICKUP if branch.pickup_bloq_id else OrderPath.COUNTER_PICKUP
    if partner is not None and partner.delivered_by is PartnerDelivery.PLATFORM:
        return OrderPath.PLATFORM_DELIVERY
    return OrderPath.LOCKER_DELIVERY if branch.delivery_mode is DeliveryMode.LOCKER else OrderPath.HOME_DELIVERY


def start_at(order: Order, now: datetime, lead: timedelta) -> datetime | None:
    """When a pre-order may start booking (``due_at`` − lead), or None to start now."""
    if order.due_at is None:
        return None
    begin = order.due_at - lead
    if begin <= now:
        return None
    return begin if order.pre_order or order.due_at > now + lead else None


def plan(
    order: Order, branch: Branch, partner: Partner | None, workflow: WorkflowSettings, *, now: datetime
) -> OrderPlan:
    """The order's plan. The waits' limits are not in it: they are the state machine's own
    (template parameters through ``DefinitionSubstitutions``, ``statemachine/order_workflow.py``)."""
    kind = order_type(order.order_type)
    path = path_of(kind, branch, partner)
    couriered = path in {OrderPath.LOCKER_DELIVERY, OrderPath.HOME_DELIVERY}
    return OrderPlan(
        order_id=order.order_id,
        merchant_id=order.merchant_id,
        source=order.source,
        order_type=kind,
        path=path,
        courier=branch.courier if couriered else None,
        courier_attempt=order.courier_attempt,  # a resumed order goes on with its current courier job
        locker=path in {OrderPath.LOCKER_DELIVERY, OrderPath.LOCKER_PICKUP},
        pickup_bloq_id=branch.pickup_bloq_id if path is OrderPath.LOCKER_PICKUP else None,
        allow_home_fallback=branch.allow_home_delivery_fallback,
        submit_to_blink=order.source is OrderSource.PARTNER and not order.blink_order_id,
        start_at=start_at(order, now, timedelta(seconds=workflow.pre_order_lead)),
    )
