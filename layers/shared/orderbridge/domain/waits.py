"""What the order workflow waits for, and when a wait is over — judged from the order's status
tracks alone (no AWS, no HTTP).

The workflow parks on a task token per wait (``.waitForTaskToken``). Whatever moves a track —
a vendor webhook, an action reading a courier's state — changes the order item; the order stream
re-judges every open wait on that order with :func:`verdict`, and so does registering a wait,
so an event that arrived before the workflow started waiting still counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from orderbridge.models.order import OrderStatus, Tracks
from orderbridge.models.states import RentState, TaskEvent


class WaitKind(StrEnum):
    COURIER_PICKED_UP = "courier_picked_up"  # the courier has the goods (Blink: ready, dispatched)
    DROPOFF = "dropoff"  # the goods are in the locker
    PICKUP = "pickup"  # the customer took them out
    COURIER_FINISHED = "courier_finished"  # home delivery done
    BLINK_COMPLETED = "blink_completed"  # counter pickup, dine-in, platform delivery: the kitchen ends it in Blink


COURIER_WAITS = frozenset({WaitKind.COURIER_PICKED_UP, WaitKind.COURIER_FINISHED})
"""Waits the courier keeper polls and keeps alive (Blink Logistics may miss a webhook and never
resends it; DispatchNINJA has no webhooks at all)."""


@dataclass(frozen=True)
class Verdict:
    """A wait is over: ``error`` None means success; otherwise the Step Functions error name."""

    error: str | None = None
    cause: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


_PICKED_UP = {TaskEvent.TASK_STARTED.name, TaskEvent.TASK_FINISHED.name}
# The goods reached the locker (and may have left it since): the states the Bloq.It doc places after the
# drop-off. Expired and cancelled are not among them: a rent can reach them before any drop-off.
_IN_LOCKER = {
    RentState.IN_PROGRESS,
    RentState.LOCKER_OPENED,
    RentState.READY_FOR_PICKUP,
    RentState.IN_TRANSIT,
    RentState.COLLECT_ITEM,
    RentState.PRICE_CALCULATION,
    RentState.PAYMENT_ATTEMPT,
    RentState.FINISHED,
}
_COLLECTED = {RentState.COLLECT_ITEM, RentState.PRICE_CALCULATION, RentState.PAYMENT_ATTEMPT, RentState.FINISHED}


def verdict(kind: WaitKind, tracks: Tracks) -> Verdict | None:
    """``None`` while the wait goes on; a :class:`Verdict` once the tracks settle it."""
    status, courier, rent = tracks.status, tracks.courier_status, tracks.rent_state
    if tracks.cancel_request is not None:  # a person cancelled it: every wait ends, the cancel path runs
        return Verdict("OrderCancelled", "the order was cancelled by a person")
    if status == OrderStatus.REJECTED:
        return Verdict("OrderRejected", "the order was rejected in Blink")
    if kind is WaitKind.BLINK_COMPLETED:
        return Verdict() if status == OrderStatus.DELIVERED else None
    if kind is WaitKind.PICKUP:
        if rent in _COLLECTED:
            return Verdict()
        if rent == RentState.EXPIRED:
            return Verdict("RentExpired", "the locker rent expired before the customer collected")
        if rent == RentState.CANCELLED:
            return Verdict("RentCancelled", "the locker rent was cancelled")
        return None
    if kind is WaitKind.DROPOFF and rent in _IN_LOCKER:
        return Verdict()
    if kind is WaitKind.COURIER_PICKED_UP and (courier in _PICKED_UP or rent in _IN_LOCKER):
        return Verdict()
    if kind is WaitKind.COURIER_FINISHED and courier == TaskEvent.TASK_FINISHED.name:
        return Verdict()
    if courier == TaskEvent.TASK_CANCELLED.name:
        return Verdict("CourierCancelled", "the courier cancelled the delivery")
    if kind is WaitKind.DROPOFF and rent in {RentState.EXPIRED, RentState.CANCELLED}:
        return Verdict("RentCancelled", f"the locker rent is {rent} before the drop-off")
    return None
