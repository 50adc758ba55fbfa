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
