"""Monotonic status rules.

Each order carries three independent status tracks: the order status (driven by Blink), the
courier status (Blink Logistics task events, DispatchNINJA) and the locker rent state (Bloq.It).
Within a track a status has a rank; an event is applied only when its rank is higher than the
track's current rank, which the store enforces with a conditional write. A late or regressing
event is still kept in the timeline. Terminal statuses share the highest rank, so one never
overwrites another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import overload

from orderbridge.models.order import OrderStatus, TrackName
from orderbridge.models.states import BlinkOrderStatus, RentState, TaskEvent

TERMINAL = 100


@dataclass(frozen=True)
class TrackUpdate:
    """A proposed change of one status track: the value, its rank, and where it is stored.

    ``owner`` names the courier job (task / DispatchNINJA order id) or the rent the event is about:
    the courier and rent tracks follow the order's *current* job and rent, so an event of a
    replaced courier job or a released rent is kept in the timeline and changes nothing.
    """

    track: TrackName
    value: str
    rank: int
    owner: str | None = None

    def of(self, owner: str) -> TrackUpdate:
        return TrackUpdate(self.track, self.value, self.rank, owner)


BLINK_TO_ORDER_STATUS: dict[BlinkOrderStatus, OrderStatus] = {
    BlinkOrderStatus.PENDING: OrderStatus.PENDING,
    BlinkOrderStatus.ACCEPTED: OrderStatus.ACCEPTED,
    BlinkOrderStatus.READY: OrderStatus.READY,
    BlinkOrderStatus.DISPATCHED: OrderStatus.DISPATCHED,
    BlinkOrderStatus.DELIVERED: OrderStatus.DELIVERED,
    BlinkOrderStatus.REJECTED: OrderStatus.REJECTED,
}

ORDER_STATUS_RANK: dict[OrderStatus, int] = {
    OrderStatus.PENDING: 0,
    OrderStatus.ACCEPTED: 10,
    OrderStatus.READY: 20,
    OrderStatus.DISPATCHED: 30,
    OrderStatus.DELIVERED: TERMINAL,
    OrderStatus.REJECTED: TERMINAL,
}

# Courier task events. TASK_UPDATED changes details, not progress: it has no rank and only
# lands in the timeline. Assignment churn (unassign / assign / reassign) ranks below acceptance.
TASK_EVENT_RANK: dict[TaskEvent, int | None] = {
    TaskEvent.TASK_CREATED: 0,
    TaskEvent.TASK_UPDATED: None,
    TaskEvent.TASK_UNASSIGN: 10,
    TaskEvent.TASK_ASSIGNED: 20,
    TaskEvent.TASK_REASSIGNED: 21,
    TaskEvent.TASK_ACCEPTED: 30,
    TaskEvent.TASK_ARRIVED: 40,
    TaskEvent.TASK_STARTED: 50,
    TaskEvent.TASK_FINISHED: TERMINAL,
    TaskEvent.TASK_CANCELLED: TERMINAL,
}

# Bloq.It rent states, in the order the doc describes them: created, reserved, starting (the
# locker opened for the drop-off), in_progress (closed "after the client has placed the item"),
# locker_opened (opened "while the rent is in progress"); ready_for_pickup signals a delivery
# whose item is in the locker as ready to be picked up, and in_transit "comes after the ready for
# pickup action, signaling that this delivery is in transit and was picked up". A cancelled or
# expired rent still holds its locker until the item is collected ("Collect an Item") or the rent
# finished, so collect_item / price_calculation / finished rank above them.
RENT_STATE_RANK: dict[RentState, int] = {
    RentState.CREATED: 0,
    RentState.RESERVED: 10,
    RentState.STARTING: 30,
    RentState.IN_PROGRESS: 40,
    RentState.LOCKER_OPENED: 45,
    RentState.READY_FOR_PICKUP: 46,
    RentState.IN_TRANSIT: 48,
    RentState.EXPIRED: 50,
    RentState.CANCELLED: 50,
    RentState.COLLECT_ITEM: 60,
    RentState.PRICE_CALCULATION: 70,
    RentState.PAYMENT_ATTEMPT: 80,
    RentState.FINISHED: TERMINAL,
}


def order_status_update(blink_status: int) -> TrackUpdate:
    status = BLINK_TO_ORDER_STATUS[BlinkOrderStatus(blink_status)]
    return TrackUpdate("status", status.value, ORDER_STATUS_RANK[status])


def blink_status_identity(blink_order_id: str, status: int) -> str:
    """The event key of "the order reached Blink status ``status``": a status read back with
    getOrder (``syncs.blink_statuses``), which tells no time of the change, is recorded under it; a
    webhook of that status arriving later is a duplicate of it. A webhook's own key adds Blink's
    ``created_at`` (:func:`blink_status_event_key`)."""
    return f"blink:status:{blink_order_id}:{int(status)}"


def blink_status_event_key(blink_order_id: str, status: int, created_at: datetime | None) -> str:
    """The event key of a Blink Order Status Webhook (``-`` when it has no time)."""
    at = created_at.isoformat() if created_at else "-"
    return f"{blink_status_identity(blink_order_id, status)}:{at}"


def courier_status_update(event: TaskEvent) -> TrackUpdate | None:
    rank = TASK_EVENT_RANK[event]
    return None if rank is None else TrackUpdate("courier_status", event.name, rank)


@overload
def rent_state_update(state: RentState) -> TrackUpdate: ...
@overload
def rent_state_update(state: None) -> None: ...
@overload
def rent_state_update(state: RentState | None) -> TrackUpdate | None: ...
def rent_state_update(state: RentState | None) -> TrackUpdate | None:
    return None if state is None else TrackUpdate("rent_state", state.value, RENT_STATE_RANK[state])


def new_courier_job(job_id: str, event: TaskEvent) -> TrackUpdate:
    """The courier track of a new job (task / DispatchNINJA order), from the state it is in — or
    from TASK_CREATED when its event says nothing of progress (TASK_UPDATED)."""
    rank = TASK_EVENT_RANK[event]
    if rank is None:
        return new_courier_job(job_id, TaskEvent.TASK_CREATED)
    return TrackUpdate("courier_status", event.name, rank, job_id)
