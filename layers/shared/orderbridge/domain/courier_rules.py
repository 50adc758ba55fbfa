"""Courier rules: what a DispatchNINJA delivery's state means on the order's courier track, and
how an order is paid for in a courier task. No AWS, no HTTP.

The courier track speaks one vocabulary for both couriers: Blink Logistics' task events
(``TaskEvent`` names, ranked in ``domain.statuses``). DispatchNINJA has no events, only the state
``orders/details`` reads; its documented "fields of note" (``completed``, ``canceled``,
``status``) and whether a driver is set are mapped onto the same names, so the track stays
monotonic whichever courier carries the order.
"""

from __future__ import annotations

import hashlib

from orderbridge.domain.statuses import TrackUpdate, courier_status_update
from orderbridge.models.blink_logistics import PaymentType
from orderbridge.models.dispatchninja import DispatchNinjaOrderDetails
from orderbridge.models.order import Order
from orderbridge.models.states import TaskEvent

_CASH_WORDS = ("cash", "cod")


# DispatchNINJA's documented status is only "Pending"; installs name the rest themselves. A status
# that says the goods left the restaurant counts as the courier having started.
_ON_THE_WAY_WORDS = ("picked", "transit", "on the way", "en route", "out for delivery")


def dispatchninja_task_event(details: DispatchNinjaOrderDetails) -> TaskEvent:
    """Cancelled or completed (terminal) first, then "on the way", then "a driver has it", else
    just created."""
    if details.is_canceled:
        return TaskEvent.TASK_CANCELLED
    if details.is_completed:
        return TaskEvent.TASK_FINISHED
    status = (details.status or "").strip().lower()
    if any(word in status for word in _ON_THE_WAY_WORDS):
        return TaskEvent.TASK_STARTED
    if details.driver:
        return TaskEvent.TASK_ASSIGNED
    return TaskEvent.TASK_CREATED


def dispatchninja_update(details: DispatchNinjaOrderDetails) -> TrackUpdate:
    update = courier_status_update(dispatchninja_task_event(details))
    assert update is not None  # every event mapped above has a rank
    return update


def dispatchninja_state_key(details: DispatchNinjaOrderDetails) -> str:
    """What identifies a DispatchNINJA state: the same state read twice gives the same key (one
    timeline event), any change of status, driver, completion or cancellation a new one."""
    parts = (
        details.id,
        str(details.status_id),
        details.status or "",
        details.driver or "",
        details.completed.isoformat() if details.completed else "",
        details.canceled.isoformat() if details.canceled else "",
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def payment_type(order: Order) -> PaymentType:
    """COD unless the order is paid or its payment method is not cash."""
    if order.paid:
        return "ONLINE"
    method = (order.payment_method or "").strip().lower()
    if not method or any(word in method for word in _CASH_WORDS):
        return "COD"
    return "ONLINE"
