"""Configuration records: merchants, branches, delivery partners and their item mappings.

These models are both the items of the config table (``store/config.py``) and the records of the
configuration file (:class:`ConfigDocument`, docs/configuration.md): the file's record IS the
stored record. ``docs/config.schema.json`` is generated from them
(``python -m orderbridge_cli config schema``; a test keeps it current).
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from orderbridge.models.base import OurModel
from orderbridge.models.types import FreeText, Id, UtcDateTime

ConfigId = Annotated[Id, StringConstraints(min_length=1)]
"""An id in the configuration: a string (a number in the file is read as its digits), 1 to 128
characters."""

KeyId = Annotated[ConfigId, StringConstraints(pattern=r"^[A-Za-z0-9._-]+$")]
"""A merchant's or a partner's id: letters, digits, ``.``, ``_``, ``-`` (it is part of URLs and of
the config API's composite record ids, ``<partner_id>:<partner_branch_id>``)."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]

PARTNER_TOKENS_SECRET_PREFIX = "orderbridge/partners/"
"""A partner's own tokens secret is named under this prefix (the partner webhook may read only
those: its IAM policy in template.yaml)."""

_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")


def _secret_reference(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(PARTNER_TOKENS_SECRET_PREFIX) or not _SECRET_NAME.match(value):
        raise ValueError(
            f"the NAME of a Secrets Manager secret under {PARTNER_TOKENS_SECRET_PREFIX} (for example "
            f"{PARTNER_TOKENS_SECRET_PREFIX}<partner_id>), never a token: tokens are not written in the configuration"
        )
    if value == PARTNER_TOKENS_SECRET_PREFIX:
        raise ValueError(f"a secret name after {PARTNER_TOKENS_SECRET_PREFIX}")
    return value


SecretReference = Annotated[str, AfterValidator(_secret_reference)]


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
    """A merchant: the scope of its branches, its vendor credentials (the secret
    ``<VendorCredentialsSecretPrefix><merchant_id>``) and the scheduled syncs."""

    merchant_id: KeyId
    name: Name


class Branch(OurModel):
    """A merchant's branch.

    ``branch_id`` is the id Blink's webhooks send as ``branch_id`` (the branch code mapped in
    Blink's "Third Party Branches"); ``blink_id`` is Blink's own id for it (``blink_branch_id``
    in the order webhook, ``blink_id`` in the Branches API, ``blink_branch_id`` in submitOrder).
    """

    branch_id: ConfigId
    merchant_id: KeyId
    name: Name
    blink_id: ConfigId | None = None
    address: FreeText | None = None
    latitude: Decimal | None = Field(default=None, ge=-90, le=90)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180)
    delivery_mode: DeliveryMode = DeliveryMode.LOCKER
    allow_home_delivery_fallback: bool = True
    courier: CourierProvider = CourierProvider.BLINK_LOGISTICS
    bloq_ids: list[ConfigId] = Field(default_factory=list, max_length=50)
    # A Bloq at the branch itself: PICK-UP orders are put in one of its lockers by the staff and
    # collected by the customer with a code. None: PICK-UP orders are collected at the counter.
    pickup_bloq_id: ConfigId | None = None
    # The branch's address in Blink's submitOrder shape: the ``delivery`` block of the partner
    # orders that are not delivered to the customer's door by the merchant (pick-up, dine-in,
    # collected by the platform's rider).
    blink_address: BlinkAddress | None = None


class Partner(OurModel):
    """A delivery platform that sends the Blend ``order_created`` contract."""

    partner_id: KeyId
    name: Name
    enabled: bool = True
    # The partner's identity in Blink (the Blend contract carries no customer): Blink's customer
    # name is "<display_name> <partner order id>", its phone the partner's contact phone.
    display_name: Name | None = None
    contact_phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{3,32}$")] | None = None
    delivered_by: PartnerDelivery = PartnerDelivery.PLATFORM
    # Where the partner's webhook tokens are: None, the ``partners.<partner_id>`` list of the
    # stack's webhook secret; else the name of a secret of its own (a JSON list of tokens, or
    # ``{"tokens": [...]}``). A reference, never a token (docs/configuration.md).
    tokens_secret: SecretReference | None = None

    @property
    def blink_name(self) -> str:
        return self.display_name or self.name


class PartnerBranch(OurModel):
    """Routes a partner's ``branch_id`` to one of our branches."""

    partner_id: KeyId
    partner_branch_id: ConfigId
    merchant_id: KeyId
    branch_id: ConfigId


class ItemMapping(OurModel):
    """Maps a partner's item (or option) id to an internal product and its Blink id."""

    partner_id: KeyId
    merchant_id: KeyId
    kind: str = Field(pattern="^(item|option)$")
    partner_item_id: ConfigId
    product_id: ConfigId
    blink_id: ConfigId | None = None
    name: Name | None = None


# -- the configuration file and the config API ------------------------------------------------------

CONFIG_VERSION = 1

ConfigKind = Literal["merchants", "branches", "partners", "routes", "mappings"]
"""The kinds of records, as the file's sections and the config API's ``{kind}`` name them."""


class ConfigDocument(OurModel):
    """An Orderbridge configuration (docs/configuration.md): the format's ``version`` and the
    records of each kind. Applying it adds or changes each record it holds; records it does not
    hold are left as they are."""

    version: Literal[1] = Field(description="The format's version: 1.")
    merchants: list[Merchant] = Field(default_factory=list)
    branches: list[Branch] = Field(default_factory=list)
    partners: list[Partner] = Field(default_factory=list)
    routes: list[PartnerBranch] = Field(default_factory=list, description="A partner's branch → our branch.")
    mappings: list[ItemMapping] = Field(default_factory=list, description="A partner's item or option → a product.")


ConfigAction = Literal["add", "change", "unchanged"]


class ConfigAuditEntry(OurModel):
    """One change of one configuration record: who made it, when (UTC), the record before and after."""

    who: str
    when: UtcDateTime
    kind: ConfigKind
    id: str
    action: ConfigAction
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    apply_id: str | None = None  # the changes applied together (one document, one PUT) share it
