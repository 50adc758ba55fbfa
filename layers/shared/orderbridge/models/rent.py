"""Our record of a Bloq.It rent (a locker booking) for an order."""

from __future__ import annotations

from datetime import datetime

from orderbridge.models.base import OurModel


class Rent(OurModel):
    rent_id: str
    order_id: str
    bloq_id: str | None = None
    locker_id: str | None = None
    state: str = "created"
    pickup_code: str | None = None
    dropoff_code: str | None = None
    expires_at: datetime | None = None
    created_at: datetime
    # The goods went into the locker (the rent reached in_progress or a later state of a drop-off):
    # the order never needs another locker after that, only this one's end.
    held_goods: bool = False
    notified_at: datetime | None = None  # the customer was told the goods are ready for pick-up
