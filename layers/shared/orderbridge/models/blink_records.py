"""What the branches, customers and abandoned-carts syncs keep of Blink's records (ours, stored in
the configuration table; see ``store/branch_checks.py``, ``store/customers.py``,
``store/abandoned_carts.py``).

Personal data is kept only where a person needs it for recovery or support: a customer's name,
phone, email and the date Blink created them (not gender, birth date, wallet or loyalty figures);
an abandoned cart's customer name and phone (not the address or its coordinates).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from orderbridge.models.base import OurModel


class BranchFlag(StrEnum):
    """Why a branch needs a person (None on a :class:`BranchCheck`: it is in step with Blink)."""

    VANISHED = "vanished"  # configured here, no longer in Blink's branches
    UNCONFIGURED = "unconfigured"  # in Blink, no branch of ours for it
    CODE_CHANGED = "code_changed"  # Blink's branch (its blink_id) now carries another code (id)
    INACTIVE = "inactive"  # Blink says it is not live or not active


class BranchCheck(OurModel):
    """The last branches sync's view of one branch: ours, Blink's, what was updated, what is wrong.

    ``branch_id`` is our branch's id (the code Blink's webhooks send), or Blink's ``id`` for a
    Blink branch we have no configuration for.
    """

    merchant_id: str
    branch_id: str
    configured: bool
    flag: BranchFlag | None = None
    blink_code: str | None = None  # Blink's ``id`` (the code its webhooks send as branch_id)
    blink_id: str | None = None  # Blink's own id
    name: str | None = None  # Blink's name for it (``branch``), else ours
    address: str | None = None  # Blink's ``branch_address``, else ours
    is_live: bool | None = None
    is_active: bool | None = None
    updated: list[str] = Field(default_factory=list)  # our fields the sync set from Blink (last change)
    note: str | None = None
    checked_at: datetime


class CustomerRecord(OurModel):
    """A Blink customer as kept for recovery and support; ``customer_key`` is its identity."""

    merchant_id: str
    customer_key: str
    full_name: str | None = None
    phone: str | None = None
    email: str | None = None
    created_at: datetime | None = None
    synced_at: datetime


class CartLine(OurModel):
    dish_id: str
    name: str | None = None
    quantity: int
    unit_price: Decimal | None = None
    total_price: Decimal | None = None


class AbandonedCartRecord(OurModel):
    """A Blink abandoned cart; ``cart_key`` is its identity (Blink's carts carry no id)."""

    merchant_id: str
    cart_key: str
    created_at: datetime
    branch_id: str | None = None
    order_id: str | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    notification_status: str | None = None
    notification_sent_at: datetime | None = None
    cart_value: Decimal | None = None
    lines: list[CartLine] = Field(default_factory=list)
    synced_at: datetime
