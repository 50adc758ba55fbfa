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


class PartnerDelivery(StrEnum):
    """Who carries a partner's ``DELIVERY`` order to the customer."""

    PLATFORM = "platform"  # the delivery platform's own rider collects it at the branch
    MERCHANT = "merchant"  # the merchant's courier (the branch's delivery mode and courier)


class BlinkAddress(OurModel):
    """An address as Blink's ``submitOrder`` wants it in its ``delivery`` block."""

    house_num: str = Field(min_length=1, max_length=200)
    street: str = Field(min_length=1, max_length=200)
    building: str | None = Field(default=None, max_length=200)
    area: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=200)
    latitude: Decimal | None = Field(default=None, ge=-90, le=90)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180)


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
    # A Bloq at the branch itself: PICK-UP orders are put in one of its lockers by the staff and
    # collected by the customer with a code. None: PICK-UP orders are collected at the counter.
    pickup_bloq_id: str | None = None
    # The branch's address in Blink's submitOrder shape: the ``delivery`` block of the partner
    # orders that are not delivered to the customer's door by the merchant (pick-up, dine-in,
    # collected by the platform's rider).
    blink_address: BlinkAddress | None = None


class Partner(OurModel):
    """A delivery platform that sends the Blend ``order_created`` contract."""

    partner_id: str
    name: str
    enabled: bool = True
    # The partner's identity in Blink (the Blend contract carries no customer): Blink's customer
    # name is "<display_name> <partner order id>", its phone the partner's contact phone.
    display_name: str | None = None
    contact_phone: str | None = None
    delivered_by: PartnerDelivery = PartnerDelivery.PLATFORM

    @property
    def blink_name(self) -> str:
        return self.display_name or self.name


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
