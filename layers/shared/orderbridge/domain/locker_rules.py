"""Which Bloq and which locker a delivery goes to, how long its rent may last, and its codes.

Pure rules over the Bloq.It models (no AWS, no HTTP). What the doc says a Bloq and a locker carry:

- ``Bloq.active`` — "Bloq Status in the system": only an active Bloq takes new rents.
- ``Bloq.supports`` — collapsed in the doc (``"supports": [ ]``); the list filters' ``rentType``
  ("only bloqs that allow this type of rent") says a Bloq allows some rent types, so ``supports``
  is read as that list. An empty list says nothing, and is not taken as a refusal.
- ``maxRentTimeHour`` / ``maxRentDeliveryTimeHour`` / ``maxRentCollectTimeHour`` — the Bloq's
  limits on a rent's whole life, on the time to drop off, and on the time to collect.
- A locker is free when it is active and has no rent ("Get Free Lockers": active and without a
  rent); its ``type`` is its size (XS … XL).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from orderbridge.models.bloqit import Bloq, Locker, LockerType, RentType
from orderbridge.models.rent import Rent

PICKUP_CODE_DIGITS = 6  # typed by the customer on the Bloq's keypad (Bloq.It allows up to 14)
DROPOFF_CODE_DIGITS = 8  # typed by the courier: longer, it is never shown to a customer

# Rent states after which a rent holds nothing of ours any more.
CLOSED_RENT_STATES = frozenset({"finished"})
# Rent states in which a rent is still the order's reservation (not cancelled or expired).
OPEN_RENT_STATES = frozenset(
    {"created", "reserved", "starting", "in_progress", "locker_opened", "in_transit", "ready_for_pickup"}
)


@dataclass(frozen=True)
class Point:
    latitude: Decimal
    longitude: Decimal


def supports_rent_type(bloq: Bloq, rent_type: RentType) -> bool:
    """False only when the Bloq lists what it supports and ``rent_type`` is not among it."""
    if not bloq.supports:
        return True
    return any(_names_rent_type(entry, rent_type) for entry in bloq.supports)


def _names_rent_type(entry: Any, rent_type: RentType) -> bool:
    if isinstance(entry, str):
        return entry.strip().lower() == rent_type.value
    if isinstance(entry, dict):  # an object per rent type: {"type": "delivery", ...}
        return any(str(entry.get(key, "")).strip().lower() == rent_type.value for key in ("type", "rentType", "name"))
    return False


def locker_is_free(locker: Locker, size: LockerType) -> bool:
    """Active, without a rent, and of ``size``."""
    return locker.active is not False and locker.rent is None and (locker.type or "").upper() == size.value


def pick_locker(lockers: Iterable[Locker], size: LockerType) -> Locker | None:
    """The first free locker of ``size`` that has an id (the list's order: Bloq.It's)."""
    return next((locker for locker in lockers if locker.id and locker_is_free(locker, size)), None)


def accepts_delivery(bloq: Bloq, size: LockerType) -> bool:
    """An active Bloq that allows delivery rents and, when it lists its lockers, has a free one of
    ``size`` among them (a Bloq that lists none is asked for its free lockers)."""
    if bloq.active is not True or not supports_rent_type(bloq, RentType.DELIVERY):
        return False
    return not bloq.lockers or pick_locker(bloq.lockers, size) is not None


def bloq_point(bloq: Bloq) -> Point | None:
    """Where the Bloq is: ``location.latitude/longitude`` or GeoJSON ``coordinates`` ([lng, lat])."""
    location = bloq.location
    if location is None:
        return None
    if location.latitude is not None and location.longitude is not None:
        return Point(location.latitude, location.longitude)
    if location.coordinates and len(location.coordinates) >= 2:
        return Point(location.coordinates[1], location.coordinates[0])
    return None


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres (haversine). A distance, not money: float is fine here."""
    lat1, lon1, lat2, lon2 = map(math.radians, map(float, (a.latitude, a.longitude, b.latitude, b.longitude)))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def rank_bloqs(bloqs: Sequence[Bloq], size: LockerType, *, near: Point | None = None) -> list[Bloq]:
    """The Bloqs that can take the delivery, best first.

    Nearest first when ``near`` is given (Bloqs whose position is unknown after those whose
    position is known); otherwise in the given order, which for a branch is its configured order
    of preference. Each Bloq appears once.
    """
    seen: set[str] = set()
    eligible = []
    for bloq in bloqs:
        if bloq.id not in seen and accepts_delivery(bloq, size):
            seen.add(bloq.id)
            eligible.append(bloq)
    if near is None:
        return eligible

    def key(indexed: tuple[int, Bloq]) -> tuple[int, float, int]:
        index, bloq = indexed
        point = bloq_point(bloq)
        return (1, 0.0, index) if point is None else (0, distance_m(near, point), index)

    return [bloq for _, bloq in sorted(enumerate(eligible), key=key)]


@dataclass(frozen=True)
class RentWindow:
    """How long a delivery rent may last, within the Bloq's limits."""

    expiry_date: datetime  # after it the item can no longer be picked up
    delivery_date_limit: datetime  # the item must be in the locker by then
    collect_time_limit_hours: int  # hours the customer has to collect once it is dropped off


def rent_window(now: datetime, bloq: Bloq, *, delivery_hours: int, collect_hours: int) -> RentWindow:
    """The wanted drop-off and collection times, each cut to the Bloq's own maximum, and the
    whole rent cut to ``maxRentTimeHour`` (the drop-off window first gives way to it)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if delivery_hours < 1 or collect_hours < 1:
        raise ValueError("delivery_hours and collect_hours must be at least 1")
    delivery = _cap(delivery_hours, bloq.max_rent_delivery_time_hour)
    collect = _cap(collect_hours, bloq.max_rent_collect_time_hour)
    total = _cap(delivery + collect, bloq.max_rent_time_hour)
    delivery = min(delivery, total)
    collect = min(collect, total)
    return RentWindow(
        expiry_date=now + timedelta(hours=total),
        delivery_date_limit=now + timedelta(hours=delivery),
        collect_time_limit_hours=collect,
    )


def _cap(wanted: int, limit: int | None) -> int:
    return wanted if limit is None or limit < 1 else min(wanted, limit)


def return_expiry(now: datetime, bloq: Bloq | None, *, hours: int) -> datetime:
    """When a returned delivery expires: ``hours`` from now, within the Bloq's ``maxRentTimeHour``."""
    if hours < 1:
        raise ValueError("hours must be at least 1")
    return now + timedelta(hours=_cap(hours, bloq.max_rent_time_hour if bloq else None))


def current_rent(rents: Iterable[Rent]) -> Rent | None:
    """The order's rent that still holds something: the newest one not finished."""
    live = [rent for rent in rents if rent.state not in CLOSED_RENT_STATES]
    return max(live, key=lambda rent: rent.created_at, default=None)


def open_reservation(rents: Iterable[Rent]) -> Rent | None:
    """The order's rent that is still its reservation (not cancelled, expired or finished)."""
    live = [rent for rent in rents if rent.state in OPEN_RENT_STATES]
    return max(live, key=lambda rent: rent.created_at, default=None)


def new_code(digits: int) -> str:
    """A numeric locker code from the OS's CSPRNG (``secrets``), zero-padded to ``digits``."""
    if not 4 <= digits <= 14:
        raise ValueError("a locker code has 4 to 14 digits")
    return f"{secrets.randbelow(10**digits):0{digits}d}"
