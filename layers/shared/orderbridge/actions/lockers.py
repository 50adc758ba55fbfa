"""Locker actions at Bloq.It: reserve a locker for an order's delivery, then select a locker,
open it for drop-off, notify the customer, cancel, collect, finish, or return an expired delivery.

Every one of them changes a rent at Bloq.It, so their Lambdas run them idempotently. Each keeps
our :class:`~orderbridge.models.rent.Rent` and the order in step with Bloq.It's answer: the rent's
state and the order's ``rent_state`` track move forward only (the same rank rules as the Bloq.It
webhook, ``domain.statuses``), the rent's Bloq/locker/expiry follow the answer, and each action
lands in the order's timeline.

The pick-up and drop-off codes are made here with ``secrets``, sent to Bloq.It and kept on the
rent record only: they are never logged and never part of an action's output (which Step
Functions keeps in its execution history).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator

from orderbridge.actions.common import (
    ActionRefused,
    CustomerDetails,
    NoLockerAvailable,
    OrderInput,
    customer_of,
    our_event,
    require_order,
)
from orderbridge.actions.runtime import action
from orderbridge.deps import Deps
from orderbridge.domain import locker_rules
from orderbridge.domain.statuses import rent_state_update
from orderbridge.models.base import OurModel
from orderbridge.models.bloqit import (
    Bloq,
    BloqActiveFilter,
    CustomerInput,
    Locker,
    LockerType,
    NotificationOption,
    OperationType,
    RentType,
    RentUpdate,
)
from orderbridge.models.bloqit import Rent as BloqitRent
from orderbridge.models.order import Customer, Order, TimelineEvent
from orderbridge.models.rent import Rent
from orderbridge.models.states import RentState
from orderbridge.observability import logger
from orderbridge.vendors.bloqit import BloqitClient
from orderbridge.vendors.http import VendorConflict, VendorNotFound

SOURCE = "bloqit"
# The name of the customer's code when a rent's pick-up codes are set again (Update Rent takes only
# the named ``pickUpCodes``).
PICKUP_CODE_NAME = "default"
# At most this many Bloqs are read from a geoSearch (nearest first once ranked).
MAX_SEARCHED_BLOQS = 20
# A locker taken by another order between the free-locker read and the rent: another is chosen,
# this many times at most.
MAX_LOCKER_CONFLICTS = 5

# --------------------------------------------------------------------------------------------------
# Reserve a locker
# --------------------------------------------------------------------------------------------------


class ReserveLockerInput(OrderInput):
    """Reserve a locker for the order's delivery.

    The Bloq is ``bloq_id`` when given, else the first of the branch's configured ``bloq_ids`` that
    can take it, else the nearest Bloq around the customer's coordinates (order or ``customer``)
    within ``max_distance_m``. The rent lasts ``delivery_hours`` for the drop-off and
    ``collect_hours`` for the collection, each within the Bloq's own maximum.
    """

    locker_size: LockerType = LockerType.M
    bloq_id: str | None = None
    customer: CustomerDetails | None = None
    max_distance_m: int = Field(default=3000, ge=1, le=50_000)
    delivery_hours: int = Field(default=24, ge=1, le=24 * 14)
    collect_hours: int = Field(default=48, ge=1, le=24 * 14)
    notification_options: list[NotificationOption] | None = None  # default: sms / email as known
    carrier: str | None = None


class RentReport(OurModel):
    """What a locker action's output says of the order's rent: its placement and state, never its codes."""

    order_id: str
    rent_id: str
    bloq_id: str | None = None
    locker_id: str | None = None
    state: str
    expires_at: datetime | None = None


class ReserveLockerOutput(RentReport):
    locker_size: str | None = None
    delivery_date_limit: datetime | None = None
    collect_time_limit_hours: int | None = None
    reused: bool = False  # the order already had an open reservation: nothing was sent


@action(idempotent=True)
def reserve_locker(*, request: ReserveLockerInput, deps: Deps) -> ReserveLockerOutput:
    order, _ = require_order(deps, request.order_id)
    existing = _reservation_made(deps, order)
    if existing is not None:
        logger.info("the order has an open locker reservation: reused", extra={"rent_id": existing.rent_id})
        return ReserveLockerOutput(order_id=order.order_id, reused=True, **_reported(existing))

    client = deps.vendors.bloqit(order.merchant_id)
    customer = customer_of(order, request.customer)
    booker = _LockerBooking(client, deps, order, request, customer)
    # A rent an earlier attempt made but did not record is taken over: never a second rent.
    booking = booker.taken_over(_unrecorded_rent(client, order.order_id))
    if booking is None:
        booking = booker.first_free(_candidates(client, deps, order, request, customer))
    logger.append_keys(bloq_id=booking.bloq.id, locker_id=booking.locker_id)
    ours = booking.our_rent()
    deps.rents.put(ours)  # first: the record that stops a retry from reserving twice
    logger.append_keys(rent_id=ours.rent_id)
    # The order's rent track now follows this rent (a released one's events no longer move it).
    _follow_rent(deps, order, ours.rent_id, booking.rent.state, _reserved_event(deps, booking, ours))
    return ReserveLockerOutput(
        order_id=order.order_id,
        locker_size=booking.size.value,
        delivery_date_limit=booking.window.delivery_date_limit,
        collect_time_limit_hours=booking.window.collect_time_limit_hours,
        **_reported(ours),
    )


# The fields of our rent record an output reports (see :class:`RentReport`).
_REPORTED_FIELDS = set(RentReport.model_fields) - {"order_id"}


def _reported(rent: Rent) -> dict[str, Any]:
    return rent.model_dump(include=_REPORTED_FIELDS)


def _reservation_made(deps: Deps, order: Order) -> Rent | None:
    """A reservation a failed earlier run already made (or a second call), or the rent the goods
    already went into (a resumed order): never a second rent."""
    rents = deps.rents.for_order(order.order_id)
    return locker_rules.open_reservation(rents) or next((r for r in rents if r.held_goods), None)


@dataclass(frozen=True)
class _Booking:
    """The rent Bloq.It made for the order and what we asked it for: the Bloq and locker, the
    rent's window and the codes (kept on our rent record only: never logged, never output)."""

    rent: BloqitRent
    order_id: str
    bloq: Bloq
    locker_id: str
    size: LockerType
    window: locker_rules.RentWindow
    pickup_code: str
    dropoff_code: str
    booked_at: datetime

    def our_rent(self) -> Rent:
        return Rent(
            rent_id=self.rent.id,
            order_id=self.order_id,
            bloq_id=self.rent.bloq or self.bloq.id,
            locker_id=self.rent.locker_id or self.locker_id,
            state=self.rent.state.value,
            pickup_code=self.pickup_code,
            dropoff_code=self.dropoff_code,
            expires_at=self.rent.expiry_date or self.window.expiry_date,
            created_at=self.booked_at,
        )


@dataclass(frozen=True)
class _LockerBooking:
    """Rents a locker for the order's delivery: the first free one among the candidate Bloqs, and
    another when another order takes it meanwhile (:data:`MAX_LOCKER_CONFLICTS` times at most)."""

    client: BloqitClient
    deps: Deps
    order: Order
    request: ReserveLockerInput
    customer: Customer

    def first_free(self, candidates: Iterable[Bloq]) -> _Booking:
        size = self.request.locker_size
        taken: set[str] = set()
        while True:
            chosen = _choose(self.client, candidates, size, taken)
            if chosen is None:
                raise NoLockerAvailable(
                    f"no Bloq can take order {self.order.order_id}: none active, accepting deliveries "
                    f"and with a free {size.value} locker"
                )
            bloq, locker_id = chosen
            try:
                return self._book(bloq, locker_id)
            except VendorConflict as conflict:
                # Another order took this locker between the free-locker read and the rent: take another.
                logger.info("the locker was taken meanwhile: choosing another", extra={"locker_id": locker_id})
                taken.add(locker_id)
                if len(taken) >= MAX_LOCKER_CONFLICTS:
                    # Lockers keep going to other orders: as good as none free (the path's fallback).
                    raise NoLockerAvailable(
                        f"no locker could be rented for order {self.order.order_id}: "
                        f"{len(taken)} free ones were taken by other orders first"
                    ) from conflict

    def taken_over(self, rent: BloqitRent | None) -> _Booking | None:
        """The open rent an earlier attempt made and did not record (its answer lost, or its
        worker killed), taken over instead of renting a second locker: its codes died with that
        attempt, so it gets new ones and this attempt's window (Bloq.It takes both before the
        drop-off). None when there is none — or when the rent does not say its Bloq: then it is
        released and a locker is rented anew."""
        if rent is None:
            return None
        bloq_id = rent.bloq or (rent.locker.bloq if isinstance(rent.locker, Locker) else None)
        if not bloq_id or not rent.locker_id:
            _release(self.client, rent)
            return None
        logger.warning("taking over the reservation an earlier attempt left unrecorded", extra={"rent_id": rent.id})
        bloq = self.client.get_bloq(bloq_id)
        now = self.deps.clock()
        window = locker_rules.rent_window(
            now, bloq, delivery_hours=self.request.delivery_hours, collect_hours=self.request.collect_hours
        )
        pickup_code = locker_rules.new_code(locker_rules.PICKUP_CODE_DIGITS)
        dropoff_code = locker_rules.new_code(locker_rules.DROPOFF_CODE_DIGITS)
        update = RentUpdate(
            expiry_date=window.expiry_date,
            delivery_date_limit=window.delivery_date_limit,
            collect_time_limit=window.collect_time_limit_hours,
            drop_off_code=dropoff_code,
            pick_up_codes={PICKUP_CODE_NAME: pickup_code},
        )
        updated = self.client.update_rent(rent.id, update)
        size = self.request.locker_size
        return _Booking(
            updated, self.order.order_id, bloq, rent.locker_id, size, window, pickup_code, dropoff_code, now
        )

    def _book(self, bloq: Bloq, locker_id: str) -> _Booking:
        request, size = self.request, self.request.locker_size
        now = self.deps.clock()
        window = locker_rules.rent_window(
            now, bloq, delivery_hours=request.delivery_hours, collect_hours=request.collect_hours
        )
        pickup_code = locker_rules.new_code(locker_rules.PICKUP_CODE_DIGITS)
        dropoff_code = locker_rules.new_code(locker_rules.DROPOFF_CODE_DIGITS)
        rent = self.client.create_order_delivery(
            self.order.order_id,
            expiry_date=window.expiry_date,
            bloq_id=bloq.id,
            locker_id=locker_id,
            desired_locker_type=size,
            customer=_contact(self.customer),
            pick_up_code=pickup_code,
            drop_off_code=dropoff_code,
            delivery_date_limit=window.delivery_date_limit,
            collect_time_limit_hours=window.collect_time_limit_hours,
            notification_options=_notifications(request, self.customer) or None,
            operation_type=OperationType.LAST_MILE,
            carrier=request.carrier,
        )
        return _Booking(rent, self.order.order_id, bloq, locker_id, size, window, pickup_code, dropoff_code, now)


def _contact(customer: Customer) -> CustomerInput | None:
    """The customer as Bloq.It takes it with a delivery; None when we know nothing of them."""
    contact = CustomerInput(name=customer.name, email=customer.email, phone_number=customer.phone)
    return contact if contact.model_dump(exclude_none=True) else None


def _notifications(request: ReserveLockerInput, customer: Customer) -> list[NotificationOption]:
    """The options asked for; by default sms and e-mail, each when the customer's is known."""
    if request.notification_options is not None:
        return request.notification_options
    known = ((NotificationOption.SMS, customer.phone), (NotificationOption.EMAIL, customer.email))
    return [option for option, value in known if value]


def _reserved_event(deps: Deps, booking: _Booking, ours: Rent) -> TimelineEvent:
    rent, size, window = booking.rent, booking.size, booking.window
    return our_event(
        deps,
        f"orderbridge:rent:{rent.id}:reserved",
        "rent_reserved",
        f"locker {size.value} reserved in Bloq {ours.bloq_id} (rent {rent.id}, {rent.state.value})",
        detail={
            "rent_id": rent.id,
            "bloq_id": ours.bloq_id,
            "locker_id": ours.locker_id,
            "locker_size": size.value,
            "state": rent.state.value,
            "expires_at": ours.expires_at.isoformat() if ours.expires_at else None,
            "delivery_date_limit": window.delivery_date_limit.isoformat(),
            "collect_time_limit_hours": window.collect_time_limit_hours,
        },
    )


def _follow_rent(deps: Deps, order: Order, rent_id: str, state: RentState, event: TimelineEvent) -> None:
    """Make ``rent_id`` the rent the order's rent track follows, from ``state``; ``event`` tells it."""
    deps.orders.link_vendor(order.order_id, event, follow=rent_state_update(state).of(rent_id))


_OPEN_STATES = {RentState.CREATED, RentState.RESERVED}


def _unrecorded_rent(client: BloqitClient, order_id: str) -> BloqitRent | None:
    """An open rent for this order that Bloq.It holds and we have no record of: an earlier attempt
    created it and failed before recording it (Bloq.It is asked by our ``externalID``)."""
    try:
        rent = client.get_rent_by_external_id(order_id)
    except VendorNotFound:
        return None
    return rent if rent.state in _OPEN_STATES else None


def _release(client: BloqitClient, rent: BloqitRent) -> None:
    """Cancel and finish a rent so that it does not hold a locker."""
    logger.warning("releasing a reservation an earlier attempt left unrecorded", extra={"rent_id": rent.id})
    client.cancel_rent(rent.id)
    client.finish_rent(rent.id)


def _candidates(
    client: BloqitClient, deps: Deps, order: Order, request: ReserveLockerInput, customer: Customer
) -> Iterable[Bloq]:
    """The Bloqs that can take the delivery, best first (see :class:`ReserveLockerInput`)."""
    size = request.locker_size
    if request.bloq_id:
        return locker_rules.rank_bloqs([client.get_bloq(request.bloq_id)], size)
    branch = deps.config.branch(order.branch_id)
    if branch and branch.bloq_ids:
        # The branch's own Bloqs, in its order of preference (read one by one, stop at the first
        # that has a free locker: see _choose).
        return _LazyBloqs(client, branch.bloq_ids, size)
    if customer.latitude is None or customer.longitude is None:
        raise ActionRefused(
            f"order {order.order_id}: its branch has no Bloqs configured and there are no "
            "customer coordinates to search for one near"
        )
    near = locker_rules.Point(customer.latitude, customer.longitude)
    found = client.iter_bloqs_near(
        latitude=customer.latitude,
        longitude=customer.longitude,
        max_distance=request.max_distance_m,
        active=BloqActiveFilter.ACTIVE,
        locker_type=size,
        rent_type=RentType.DELIVERY,
        limit=MAX_SEARCHED_BLOQS,
    )
    return locker_rules.rank_bloqs(list(islice(found, MAX_SEARCHED_BLOQS)), size, near=near)


class _LazyBloqs:
    """The configured Bloqs, read (GET /bloqs/{id}) only as far as the choice needs them."""

    def __init__(self, client: BloqitClient, bloq_ids: list[str], size: LockerType) -> None:
        self.client, self.bloq_ids, self.size = client, bloq_ids, size

    def __iter__(self) -> Iterator[Bloq]:
        for bloq_id in dict.fromkeys(self.bloq_ids):
            yield from locker_rules.rank_bloqs([self.client.get_bloq(bloq_id)], self.size)


def _choose(
    client: BloqitClient, candidates: Iterable[Bloq], size: LockerType, taken: set[str]
) -> tuple[Bloq, str] | None:
    """The first candidate with a free locker of ``size`` (asked of Bloq.It: its free lockers),
    but for the lockers another order was seen taking (``taken``)."""
    for bloq in candidates:
        free = [locker for locker in client.get_free_lockers(bloq.id) if locker.id not in taken]
        locker = locker_rules.pick_locker(free, size)
        if locker is not None and locker.id:
            return bloq, locker.id
    return None


# --------------------------------------------------------------------------------------------------
# Actions on the order's rent
# --------------------------------------------------------------------------------------------------


class RentInput(OrderInput):
    """An action on the order's rent: ``rent_id``, or the order's current rent (newest not finished)."""

    rent_id: str | None = None


class RentActionOutput(RentReport):
    """The rent after an action: ``state`` is Bloq.It's answer (or our record, when nothing was sent)."""

    action: str
    previous_state: str  # our record before the action
    applied: bool  # the rent's state moved (False when a webhook had already moved it further)


def _rent_of(deps: Deps, order: Order, rent_id: str | None) -> Rent:
    if rent_id:
        rent = deps.rents.get(rent_id)
        if rent is None or rent.order_id != order.order_id:
            raise ActionRefused(f"rent {rent_id} is not a rent of order {order.order_id}")
        return rent
    rents = deps.rents.for_order(order.order_id)
    # The newest rent not finished; else the one the goods went into (a resumed order, done with it).
    rent = locker_rules.current_rent(rents) or max(
        (r for r in rents if r.held_goods), key=lambda r: r.created_at, default=None
    )
    if rent is None:
        raise ActionRefused(f"order {order.order_id} has no locker rent")
    return rent


def _record(
    deps: Deps,
    order: Order,
    rent: Rent,
    answer: BloqitRent,
    action: str,
    summary: str,
    *,
    expires_at: datetime | None = None,
) -> RentActionOutput:
    """Bring our rent and the order in step with Bloq.It's answer to ``action``."""
    now = deps.clock()
    bloq_id = answer.bloq if answer.bloq and answer.bloq != rent.bloq_id else None
    locker_id = answer.locker_id if answer.locker_id and answer.locker_id != rent.locker_id else None
    expiry = expires_at or (answer.expiry_date if answer.expiry_date != rent.expires_at else None)
    moved: dict[str, str | datetime | None] = {"bloq_id": bloq_id, "locker_id": locker_id, "expires_at": expiry}
    placement = {name: value for name, value in moved.items() if value is not None}
    if placement:
        deps.rents.set_details(rent.rent_id, now, **placement)
    event = our_event(
        deps,
        f"orderbridge:rent:{rent.rent_id}:{action}:{answer.state.value}",
        "rent_action",
        f"locker rent {summary}: {answer.state.value}",
        detail={
            "rent_id": rent.rent_id,
            "action": action,
            "state": answer.state.value,
            "previous_state": rent.state,
            **{k: str(v) for k, v in placement.items()},
        },
    )
    update = rent_state_update(answer.state)
    outcome = deps.orders.record_rent_event(order.order_id, event, update, deps.rents, rent.rent_id, at=now)
    return RentActionOutput(
        order_id=order.order_id,
        rent_id=rent.rent_id,
        action=action,
        state=answer.state.value,
        previous_state=rent.state,
        bloq_id=bloq_id or rent.bloq_id,
        locker_id=locker_id or rent.locker_id,
        expires_at=expiry or rent.expires_at,
        applied=outcome.created and not outcome.stale,
    )


def _start(deps: Deps, request: RentInput) -> tuple[Order, Rent, BloqitClient]:
    order, _ = require_order(deps, request.order_id)
    rent = _rent_of(deps, order, request.rent_id)
    logger.append_keys(rent_id=rent.rent_id)
    return order, rent, deps.vendors.bloqit(order.merchant_id)


class SelectLockerInput(RentInput):
    """Select the rent's locker: a ``locker_id``, or a ``locker_size`` for Bloq.It to allocate
    (``bloq_id`` too when the rent has no Bloq yet)."""

    locker_id: str | None = None
    locker_size: LockerType | None = None
    bloq_id: str | None = None

    @model_validator(mode="after")
    def _locker_or_size(self) -> SelectLockerInput:
        if not self.locker_id and self.locker_size is None:
            raise ValueError("give locker_id or locker_size")
        return self


@action(idempotent=True)
def select_locker(*, request: SelectLockerInput, deps: Deps) -> RentActionOutput:
    order, rent, client = _start(deps, request)
    answer = client.select_delivery_locker(
        rent.rent_id, bloq_id=request.bloq_id, locker_id=request.locker_id, locker_type=request.locker_size
    )
    if answer.bloq is None and request.bloq_id:
        answer = answer.model_copy(update={"bloq": request.bloq_id})
    return _record(deps, order, rent, answer, "select_locker", "locker selected")


class MakeDeliveryInput(RentInput):
    """Open the rent's locker for the drop-off (``locker_id`` replaces the reserved locker)."""

    locker_id: str | None = None


@action(idempotent=True)
def make_delivery(*, request: MakeDeliveryInput, deps: Deps) -> RentActionOutput:
    order, rent, client = _start(deps, request)
    answer = client.make_delivery(rent.rent_id, locker_id=request.locker_id)
    return _record(deps, order, rent, answer, "make_delivery", "opened for drop-off")


@action(idempotent=True)
def notify_locker_customer(*, request: RentInput, deps: Deps) -> RentActionOutput:
    """Tell the customer the delivery is ready for pick-up (Bloq.It: only once in_progress) — once:
    a resumed workflow does not notify again, nor after the customer already collected."""
    order, rent, client = _start(deps, request)
    if rent.notified_at is not None or (rent.held_goods and rent.state != RentState.IN_PROGRESS.value):
        logger.info("the customer was notified already (or has collected): not notified again")
        return _as_recorded(order, rent, "notify_customer", previous_state=rent.state, applied=False)
    answer = client.notify_delivery_client(rent.rent_id)
    deps.rents.set_details(rent.rent_id, deps.clock(), notified_at=deps.clock())
    return _record(deps, order, rent, answer, "notify_customer", "customer notified")


# "Finish a Rent": "finish the rent without collecting any item after the rent was cancelled or
# expired"; and for a delivery, "Once in the Expired State you have the same two options as in the
# cancelled state" (collect the item, or finish the rent). So a rent that is already cancelled or
# expired is not cancelled (again): its way on is collect or finish.
_ENDED_STATES = {RentState.CANCELLED.value, RentState.EXPIRED.value}


def _not_sent(deps: Deps, order: Order, rent: Rent, action: str, reason: str) -> RentActionOutput:
    """An action that needs no call to Bloq.It: say so in the timeline, answer with our record."""
    logger.info(f"locker rent {action} not sent to Bloq.It: {reason}")
    event = our_event(
        deps,
        f"orderbridge:rent:{rent.rent_id}:{action}:not_sent:{rent.state}",
        "rent_action",
        f"locker rent {action} not sent: {reason}",
        detail={"rent_id": rent.rent_id, "action": action, "state": rent.state, "sent": False},
    )
    deps.orders.record_event(order.order_id, event, None)
    return _as_recorded(order, rent, action, previous_state=rent.state, applied=False)


def _as_recorded(order: Order, rent: Rent, action: str, *, previous_state: str, applied: bool) -> RentActionOutput:
    """The answer that reports our rent record as it now stands."""
    return RentActionOutput(
        order_id=order.order_id, action=action, previous_state=previous_state, applied=applied, **_reported(rent)
    )


@action(idempotent=True)
def cancel_rent(*, request: RentInput, deps: Deps) -> RentActionOutput:
    """Cancel the rent. Its locker stays allocated until the rent is collected or finished.

    A rent already cancelled, expired or finished is not cancelled: nothing is sent (see
    ``_ENDED_STATES``), so a missed drop-off whose rent expired goes straight on to finish."""
    order, rent, client = _start(deps, request)
    if rent.state in _ENDED_STATES or rent.state == RentState.FINISHED.value:
        return _not_sent(deps, order, rent, "cancel", f"the rent is already {rent.state}")
    answer = client.cancel_rent(rent.rent_id)
    return _record(deps, order, rent, answer, "cancel", "cancelled")


class ReleaseOutput(OurModel):
    order_id: str
    rent_id: str | None = None
    released: bool
    reason: str


_EMPTY_STATES = {RentState.CREATED.value, RentState.RESERVED.value}


class ReleaseLockerInput(OrderInput):
    """Release the order's locker after its workflow ``failed`` or the order was ``rejected`` or
    ``cancelled`` (by a person)."""

    after: Literal["failed", "rejected", "cancelled"] = "failed"


@action(idempotent=True)
def release_empty_locker(*, request: ReleaseLockerInput, deps: Deps) -> ReleaseOutput:
    """Cancel and finish the order's rent if nothing was dropped off, so a failed or rejected
    order does not hold a locker. Left alone: a rent past "reserved" (the locker may hold the
    goods: a person decides), no rent (nothing to do), and — after a failure — a rent a courier is
    on the way to (its task carries this locker and its drop-off code: a resumed workflow
    continues with it)."""
    order, tracks = require_order(deps, request.order_id)
    rent = locker_rules.current_rent(deps.rents.for_order(order.order_id))
    if rent is None:
        return ReleaseOutput(order_id=order.order_id, released=False, reason="the order has no locker rent")
    if rent.state not in _EMPTY_STATES:
        return ReleaseOutput(
            order_id=order.order_id,
            rent_id=rent.rent_id,
            released=False,
            reason=f"the rent is {rent.state}: the locker may hold the goods",
        )
    courier_job = order.blink_logistics_task_id or order.dispatchninja_order_id
    if request.after == "failed" and courier_job and tracks.courier_status not in _COURIER_GONE:
        return ReleaseOutput(
            order_id=order.order_id,
            rent_id=rent.rent_id,
            released=False,
            reason="kept: a courier is on the way to this locker",
        )
    logger.append_keys(rent_id=rent.rent_id)
    client = deps.vendors.bloqit(order.merchant_id)
    client.cancel_rent(rent.rent_id)
    answer = client.finish_rent(rent.rent_id)
    _record(deps, order, rent, answer, "release", f"released: the order {request.after} before the drop-off")
    return ReleaseOutput(
        order_id=order.order_id,
        rent_id=rent.rent_id,
        released=True,
        reason="cancelled and finished before any drop-off",
    )


# The courier track's ends after which no courier comes to the locker any more.
_COURIER_GONE = {"TASK_CANCELLED", "TASK_FINISHED"}


@action(idempotent=True)
def collect_rent(*, request: RentInput, deps: Deps) -> RentActionOutput:
    """Open the locker of an in-progress, expired or cancelled rent to take the item out."""
    order, rent, client = _start(deps, request)
    answer = client.collect_item(rent.rent_id)
    return _record(deps, order, rent, answer, "collect", "item collected")


@action(idempotent=True)
def finish_rent(*, request: RentInput, deps: Deps) -> RentActionOutput:
    """Finish a cancelled or expired rent without opening its locker (frees the locker).

    Bloq.It finishes only a cancelled or expired rent: any other state is refused, nothing sent
    (cancel it first); a rent already finished needs nothing."""
    order, rent, client = _start(deps, request)
    if rent.state == RentState.FINISHED.value:
        return _not_sent(deps, order, rent, "finish", "the rent is already finished")
    if rent.state not in _ENDED_STATES:
        raise ActionRefused(
            f"rent {rent.rent_id} is {rent.state}: Bloq.It finishes a rent only once it is "
            "cancelled or expired (cancel it first)"
        )
    answer = client.finish_rent(rent.rent_id)
    return _record(deps, order, rent, answer, "finish", "finished")


class ReturnExpiredDeliveryInput(RentInput):
    """Turn an expired delivery into a return expiring ``expires_in_hours`` from now (within the
    Bloq's maximum rent time), or at ``expires_at``. Only an expired rent can be returned ("Given
    expired rentID this endpoint will transform this delivery into a return"): any other is
    refused and nothing is sent."""

    expires_in_hours: int = Field(default=24, ge=1, le=24 * 14)
    expires_at: AwareDatetime | None = None


@action(idempotent=True)
def return_expired_delivery(*, request: ReturnExpiredDeliveryInput, deps: Deps) -> RentActionOutput:
    order, rent, client = _start(deps, request)
    if rent.state != RentState.EXPIRED.value:
        raise ActionRefused(f"rent {rent.rent_id} is {rent.state}: Bloq.It returns only an expired delivery")
    expiry = _return_expiry(deps, client, rent, request)
    answer = client.return_delivery(rent.rent_id, expiry_date=expiry)
    if answer.id == rent.rent_id:
        return _record(deps, order, rent, answer, "return", "returned", expires_at=answer.expiry_date or expiry)
    return _returned_as_new_rent(deps, order, rent, answer, expiry)


def _return_expiry(deps: Deps, client: BloqitClient, rent: Rent, request: ReturnExpiredDeliveryInput) -> datetime:
    """The return's expiry: the one asked for (in the future), else the hours asked for from now
    within the Bloq's maximum rent time."""
    if request.expires_at is not None:
        if request.expires_at <= deps.clock():
            raise ActionRefused("expires_at must be in the future")
        return request.expires_at
    bloq = client.get_bloq(rent.bloq_id) if rent.bloq_id else None
    return locker_rules.return_expiry(deps.clock(), bloq, hours=request.expires_in_hours)


def _returned_as_new_rent(
    deps: Deps, order: Order, rent: Rent, answer: BloqitRent, expiry: datetime
) -> RentActionOutput:
    """Bloq.It made the return a rent of its own: it becomes the order's current rent, and the
    order's rent track follows it from the state Bloq.It gives it (the expired rent's events no
    longer move it)."""
    returned = Rent(
        rent_id=answer.id,
        order_id=order.order_id,
        bloq_id=answer.bloq or rent.bloq_id,
        locker_id=answer.locker_id or rent.locker_id,
        state=answer.state.value,
        expires_at=answer.expiry_date or expiry,
        created_at=deps.clock(),
    )
    deps.rents.put(returned)
    event = our_event(
        deps,
        f"orderbridge:rent:{rent.rent_id}:return:{answer.id}",
        "rent_action",
        f"locker rent returned: now rent {answer.id} ({answer.state.value})",
        detail={
            "rent_id": rent.rent_id,
            "action": "return",
            "return_rent_id": answer.id,
            "state": answer.state.value,
            "previous_state": rent.state,
        },
    )
    _follow_rent(deps, order, answer.id, answer.state, event)
    return _as_recorded(order, returned, "return", previous_state=rent.state, applied=True)
