"""How an order travels: to a locker or to the customer's door, with which courier, and what
Blink needs first. Decided once at the start of the workflow from the order and its branch."""

from __future__ import annotations

from orderbridge.config import WorkflowSettings
from orderbridge.models.base import OurModel
from orderbridge.models.config import Branch, CourierProvider, DeliveryMode
from orderbridge.models.order import Order, OrderSource


class DeliveryPlan(OurModel):
    order_id: str
    merchant_id: str
    source: OrderSource
    delivery_mode: DeliveryMode
    courier: CourierProvider
    allow_home_fallback: bool
    submit_to_blink: bool  # a partner order Blink has not seen yet
    # Limits (seconds) of the workflow's task-token waits (read with TimeoutSecondsPath).
    courier_pickup_timeout: int
    dropoff_timeout: int
    collect_timeout: int
    home_delivery_timeout: int
    heartbeat_seconds: int  # courier waits: kept alive by the courier keeper's heartbeats


def plan(order: Order, branch: Branch, limits: WorkflowSettings) -> DeliveryPlan:
    return DeliveryPlan(
        order_id=order.order_id,
        merchant_id=order.merchant_id,
        source=order.source,
        delivery_mode=branch.delivery_mode,
        courier=branch.courier,
        allow_home_fallback=branch.allow_home_delivery_fallback,
        submit_to_blink=order.source is OrderSource.PARTNER and not order.blink_order_id,
        courier_pickup_timeout=limits.courier_pickup_timeout,
        dropoff_timeout=limits.dropoff_timeout,
        collect_timeout=limits.collect_timeout,
        home_delivery_timeout=limits.home_delivery_timeout,
        heartbeat_seconds=limits.courier_heartbeat,
    )
