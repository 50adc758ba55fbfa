"""Bloq.It's webhook callback (vendor-docs/bloqit-partner-api.txt, "POST: The structure returned when
an event is triggered"). The callback names its event type in ``codeName`` (one of
:data:`EVENT_TYPES`, e.g. ``rent.in_progress``); ``rent``, ``bloq``, ``locker``, ``customer`` are the
ids of what it concerns. Event types Bloq.It adds later are accepted and recorded, not refused.
The Partner API's models are in ``models.bloqit``.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from orderbridge.models.base import VendorModel
from orderbridge.models.states import RentState
from orderbridge.models.types import FreeText, Id, NullableDict, UtcDateTime

# The webhook "Event Type" table, in the order the docs list it.
EVENT_TYPES: tuple[str, ...] = (
    "locker.locker_opened",
    "locker.locker_closed",
    "locker.locker_timeout",
    "locker.open_warning",
    "locker.locker_active",
    "locker.locker_inactive",
    "locker.created",
    "locker.open_locker_error",
    "locker.spontaneous_locker_opening",
    "locker.maintenance_status_update",
    "rent.created",
    "rent.started",
    "rent.in_progress",
    "rent.locker_opened",
    "rent.collect_item",
    "rent.price_calculation",
    "rent.finished",
    "rent.reserved",
    "rent.cancelled",
    "rent.expired",
    "rent.extended",
    "rent.in_transit",
    "rent.ready_for_pickup",
    "rent.automatic_notification_sent",
    "rent.drop_off_confirmation",
    "rent.drop_off_cancellation",
    "rent.drop_off_code_check",
    "rent.drop_off_code_check_offline",
    "rent.pin_attempt",
    "rent.offline_dropoff",
    "rent.waiting_offline_dropoff_sync",
    "bloq.label_printed",
    "bloq.print_label_error",
    "bloq.reconnected",
    "bloq.created",
    "bloq.active",
    "bloq.inactive",
    "bloq.courier_authentication",
    "bloq.courier_logout",
    "customer.customer_created",
    "customer.customer_updated",
    "customer.customer_deleted",
)

# Rent events that move the rent to a state ("transits to the X state"). rent.started is the
# one whose name differs from its state. Other rent.* events are recorded without a state change.
# rent.offline_dropoff ("a user does a drop off while the locker is disconnected/offline ...
# created when the drop off information is synched with the cloud") names no state: a drop-off is
# what moves a rent to in_progress ("the locker is closed after the client has placed the item
# inside the locker"), so we read it as in_progress — an assumption (docs/vendor-assumptions.md).
# rent.waiting_offline_dropoff_sync is not read as one: the drop-off is not synced yet.
RENT_EVENT_STATE: dict[str, RentState] = {
    "rent.created": RentState.CREATED,
    "rent.reserved": RentState.RESERVED,
    "rent.started": RentState.STARTING,
    "rent.in_progress": RentState.IN_PROGRESS,
    "rent.locker_opened": RentState.LOCKER_OPENED,
    "rent.collect_item": RentState.COLLECT_ITEM,
    "rent.price_calculation": RentState.PRICE_CALCULATION,
    "rent.finished": RentState.FINISHED,
    "rent.cancelled": RentState.CANCELLED,
    "rent.expired": RentState.EXPIRED,
    "rent.in_transit": RentState.IN_TRANSIT,
    "rent.ready_for_pickup": RentState.READY_FOR_PICKUP,
    "rent.offline_dropoff": RentState.IN_PROGRESS,
}

EXTENDED_EVENT = "rent.extended"
# Where a rent.extended event carries the rent's new expiry. The doc collapses the callback's
# ``metadata`` to ``{ }`` and says only that the rent "has the expire date extended"; the rent itself
# carries it as ``expiryDate`` (and the Extend endpoint takes it under that name). We assume the
# event's metadata names it the same way (docs/vendor-assumptions.md).
EXTENDED_EXPIRY_KEY = "expiryDate"


@cache
def _utc_datetime() -> TypeAdapter[datetime | None]:
    """Built on first use: a TypeAdapter builds its validator when made."""
    return TypeAdapter(UtcDateTime | None)


class ActionInitiatedBy(VendorModel):
    role: FreeText | None = None
    id: Id | None = None
    source: FreeText | None = None  # bloq_it_admin, locker, public_api, expiration


class BloqitEventFields(VendorModel):
    """The fields of a Bloq.It event, shared by the webhook callback and the event histories."""

    id: Id | None = Field(default=None, alias="_id")
    code_name: FreeText | None = Field(default=None, alias="codeName")
    admin: Id | None = None
    customer: Id | None = None
    rent: Id | None = None
    bloq: Id | None = None
    locker: Id | None = None
    price: Any = None
    description: FreeText | None = None
    message: FreeText | None = None
    title: FreeText | None = None
    metadata: dict[str, Any] | None = None
    action_initiated_by: ActionInitiatedBy | None = Field(default=None, alias="actionInitiatedBy")


class BloqWebhookEvent(BloqitEventFields):
    """The callback Bloq.It POSTs to a registered webhook: its id and event name are required."""

    id: Id = Field(alias="_id", min_length=1)
    code_name: str = Field(alias="codeName", min_length=1)
    metadata: Annotated[dict[str, Any] | None, NullableDict] = None

    @property
    def category(self) -> str:
        """``rent``, ``locker``, ``bloq``, ``customer`` (the part before the dot)."""
        return self.code_name.split(".", 1)[0]

    @property
    def rent_state(self) -> RentState | None:
        return RENT_EVENT_STATE.get(self.code_name)

    @property
    def new_expiry(self) -> datetime | None:
        """The new expiry of a ``rent.extended`` event (``metadata.expiryDate``, UTC); None for any
        other event, or when the event does not carry a readable one."""
        if self.code_name != EXTENDED_EVENT or not self.metadata:
            return None
        try:
            return _utc_datetime().validate_python(self.metadata.get(EXTENDED_EXPIRY_KEY))
        except ValidationError:
            return None
