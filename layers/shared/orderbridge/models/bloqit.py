"""Bloq.It payloads (vendor-docs/bloqit-partner-api.txt).

Inbound: the webhook callback ("POST: The structure returned when an event is triggered").
The callback names its event type in ``codeName`` (one of :data:`EVENT_TYPES`, e.g.
``rent.in_progress``); ``rent``, ``bloq``, ``locker``, ``customer`` are the ids of what it
concerns. Event types Bloq.It adds later are accepted and recorded, not refused.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from orderbridge.models.base import VendorModel
from orderbridge.models.types import Id


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


# The webhook "Event Type" table, in the order the docs list it.
EVENT_TYPES: tuple[str, ...] = (
    "locker.locker_opened", "locker.locker_closed", "locker.locker_timeout", "locker.open_warning",
    "locker.locker_active", "locker.locker_inactive", "locker.created", "locker.open_locker_error",
    "locker.spontaneous_locker_opening", "locker.maintenance_status_update",
    "rent.created", "rent.started", "rent.in_progress", "rent.locker_opened", "rent.collect_item",
    "rent.price_calculation", "rent.finished", "rent.reserved", "rent.cancelled", "rent.expired",
    "rent.extended", "rent.in_transit", "rent.ready_for_pickup", "rent.automatic_notification_sent",
    "rent.drop_off_confirmation", "rent.drop_off_cancellation", "rent.drop_off_code_check",
    "rent.drop_off_code_check_offline", "rent.pin_attempt", "rent.offline_dropoff",
    "rent.waiting_offline_dropoff_sync",
    "bloq.label_printed", "bloq.print_label_error", "bloq.reconnected", "bloq.created", "bloq.active",
    "bloq.inactive", "bloq.courier_authentication", "bloq.courier_logout",
    "customer.customer_created", "customer.customer_updated", "customer.customer_deleted",
)

# Rent events that move the rent to a state ("transits to the X state"). rent.started is the
# one whose name differs from its state. Other rent.* events are recorded without a state change.
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
}


class ActionInitiatedBy(VendorModel):
    role: str | None = None
    id: Id | None = None
    source: str | None = None  # bloq_it_admin, locker, public_api, expiration


class BloqWebhookEvent(VendorModel):
    """The callback Bloq.It POSTs to a registered webhook."""

    id: Id = Field(alias="_id", min_length=1)
    code_name: str = Field(alias="codeName", min_length=1)
    admin: Id | None = None
    customer: Id | None = None
    rent: Id | None = None
    bloq: Id | None = None
    locker: Id | None = None
    price: Any = None
    description: str | None = None
    message: str | None = None
    title: str | None = None
    metadata: dict[str, Any] | None = None
    action_initiated_by: ActionInitiatedBy | None = Field(default=None, alias="actionInitiatedBy")

    @field_validator("metadata", mode="before")
    @classmethod
    def _empty_metadata(cls, value: object) -> object:
        return {} if value is None else value

    @property
    def category(self) -> str:
        """``rent``, ``locker``, ``bloq``, ``customer`` (the part before the dot)."""
        return self.code_name.split(".", 1)[0]

    @property
    def rent_state(self) -> RentState | None:
        return RENT_EVENT_STATE.get(self.code_name)
