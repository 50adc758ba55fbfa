"""Configuration records: merchants, branches, delivery partners and their item mappings."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from orderbridge.models.base import OurModel


class CourierProvider(StrEnum):
    DISPATCHNINJA = "dispatchninja"
    BLINK_LOGISTICS = "blink_logistics"


class DeliveryMode(StrEnum):
    LOCKER = "locker"
    HOME = "home"


class Merchant(OurModel):
    merchant_id: str
    name: str


class Branch(OurModel):
    """A merchant's branch.

    ``branch_id`` is the id Blink's webhooks send as ``branch_id`` (the branch code mapped in
    Blink's "Third Party Branches"); ``blink_id`` is Blink's own id for it (``blink_branch_id``
    in the order webhook, ``blink_id`` in the Branches API, ``blink_branch_id`` in submitOrder).
    """

    branch_id: str
    merchant_id: str
    name: str
    blink_id: str | None = None
    address: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    delivery_mode: DeliveryMode = DeliveryMode.LOCKER
    allow_home_delivery_fallback: bool = True
    courier: CourierProvider = CourierProvider.BLINK_LOGISTICS
    bloq_ids: list[str] = Field(default_factory=list)


class Partner(OurModel):
    """A delivery platform that sends the Blend ``order_created`` contract."""

    partner_id: str
    name: str
    enabled: bool = True


class PartnerBranch(OurModel):
    """Routes a partner's ``branch_id`` to one of our branches."""

    partner_id: str
    partner_branch_id: str
    merchant_id: str
    branch_id: str


class ItemMapping(OurModel):
    """Maps a partner's item (or option) id to an internal product and its Blink id."""

    partner_id: str
    merchant_id: str
    kind: str = Field(pattern="^(item|option)$")
    partner_item_id: str
    product_id: str
    blink_id: str | None = None
    name: str | None = None
