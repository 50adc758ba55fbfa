"""The vendors' status vocabularies, apart from their payload models: code that only ranks or maps
statuses (``domain.statuses``, ``store.rents``) loads these enums without building every payload
class of a vendor (a webhook's cold start: tests/unit/test_deps.py). Each vendor's models module
uses them from here (``models.blink.BlinkOrderStatus`` is this one).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class BlinkOrderStatus(IntEnum):
    """Blink's order status codes ("Order Status" table)."""

    PENDING = 0
    ACCEPTED = 1
    DISPATCHED = 2
    DELIVERED = 3
    REJECTED = 4
    READY = 6


class TaskEvent(IntEnum):
    """Blink Logistics "Task Status Reference"."""

    TASK_CREATED = 20
    TASK_UPDATED = 21
    TASK_UNASSIGN = 22
    TASK_ASSIGNED = 23
    TASK_ACCEPTED = 24
    TASK_ARRIVED = 25
    TASK_STARTED = 26
    TASK_FINISHED = 27
    TASK_CANCELLED = 28
    TASK_REASSIGNED = 29


class RentState(StrEnum):
    """Bloq.It rent states (``rentStates`` enum)."""

    CREATED = "created"
    RESERVED = "reserved"
    STARTING = "starting"
    IN_PROGRESS = "in_progress"
    LOCKER_OPENED = "locker_opened"
    COLLECT_ITEM = "collect_item"
    PRICE_CALCULATION = "price_calculation"
    PAYMENT_ATTEMPT = "payment_attempt"
    EXPIRED = "expired"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    IN_TRANSIT = "in_transit"
    READY_FOR_PICKUP = "ready_for_pickup"
