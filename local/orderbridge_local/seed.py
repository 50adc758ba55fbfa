"""Demo data, so that every sample payload of the vendor docs (``tests/samples/``) is accepted as
it stands: the configuration ``tests/conftest.py::seeded`` writes, the webhook secret, and the
demo merchant's vendor credentials pointing at the sandboxes.

Where it goes comes from the deployed functions' own settings (``orderbridge.config.Settings``
parsed from their environment): the config table, the webhook secret's name, the vendor
credentials prefix — no second list of names.

Every token, key and password here is a DEV-ONLY value: generated per run (:class:`DevSecrets`)
or a constant named ``DEV_…``, and only ever stored in the local emulator.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from orderbridge.config import Settings
from orderbridge.models.config import (
    BlinkAddress,
    Branch,
    CourierProvider,
    DeliveryMode,
    ItemMapping,
    Merchant,
    Partner,
    PartnerBranch,
)
from orderbridge.store.config import ConfigStore

DEMO_MERCHANT = "m-demo"
DEMO_PARTNER = "demo-partner"

# DEV-ONLY vendor credentials: the sandboxes are configured with the same values.
DEV_VENDOR_CREDENTIALS: dict[str, dict[str, str]] = {
    "blink": {"username": "orderbridge-dev", "password": "dev-only-blink-password"},
    "blink_logistics": {"token": "dev-only-blink-logistics-token"},
    "bloqit": {"api_key": "dev-only-bloqit-api-key"},
    "dispatchninja": {"api_key": "dev-only-dispatchninja-key"},
}


# DEV-ONLY constants the sample events in events/ carry (``sam local generate-event`` style), also
# accepted by the local stack so ``invoke -e events/<file>.json`` works as it stands.
DEV_EVENT_TOKENS = {
    "blink": "dev-blink-token",
    "blink_logistics": "dev-logistics-token",
    "partner": "dev-partner-token",
    "ops_api_key": "dev-ops-api-key",
}


def _dev_token(kind: str) -> str:
    return f"dev-{kind}-{secrets.token_urlsafe(18)}"


@dataclass(frozen=True)
class DevSecrets:
    """The webhook tokens, the Bloq.It signing secret and the ops API key of one local run."""

    blink_token: str
    blink_logistics_token: str
    bloq_secret: str
    ops_api_key: str
    partner_tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def generate(cls) -> DevSecrets:
        return cls(
            blink_token=_dev_token("blink"),
            blink_logistics_token=_dev_token("logistics"),
            bloq_secret=_dev_token("bloq"),
            ops_api_key=_dev_token("ops"),
            partner_tokens={DEMO_PARTNER: _dev_token("partner")},
        )

    def webhook_secret(self) -> dict[str, Any]:
        """The secret's JSON (shape in ``orderbridge.web.auth``)."""
        return {
            "blink": [self.blink_token, DEV_EVENT_TOKENS["blink"]],
            "blink_logistics": [self.blink_logistics_token, DEV_EVENT_TOKENS["blink_logistics"]],
            "bloq": [self.bloq_secret],
            "partners": {
                partner: [token, DEV_EVENT_TOKENS["partner"]] for partner, token in self.partner_tokens.items()
            },
        }


# The Bloq.It sandbox's Lisbon Bloqs that take deliveries (sandboxes/bloqit.py seed_bloqs).
DEMO_BLOQ_IDS = ("5d5a6e83d1682b7194fc5f91", "5e5fbcebd1195468b647aa02")


# The Bloq.It sandbox's Bloq standing at branch 64: its PICK-UP orders are collected there.
DEMO_PICKUP_BLOQ_ID = DEMO_BLOQ_IDS[0]


def demo_records() -> list[Any]:
    """The records ``tests/conftest.py::seeded`` writes: Blink branch 12345 (blink id 50220),
    branches 63 and 64, partner demo-partner routing its branch 14589 to 12345, item mappings for
    partner items 1 and 2 and option 1."""
    return [
        Merchant(merchant_id=DEMO_MERCHANT, name="Demo Restaurant"),
        # Locker delivery with Blink Logistics, to the Bloq.It sandbox's two Lisbon Bloqs; PICK-UP
        # orders at the counter.
        Branch(
            branch_id="12345",
            merchant_id=DEMO_MERCHANT,
            name="XYZ road",
            blink_id="50220",
            address="XYZ road street 13",
            latitude=Decimal("27.4654584"),
            longitude=Decimal("64.846548"),
            delivery_mode=DeliveryMode.LOCKER,
            courier=CourierProvider.BLINK_LOGISTICS,
            bloq_ids=list(DEMO_BLOQ_IDS),
            blink_address=BlinkAddress(
                house_num="13",
                street="XYZ road",
                area="Precinct-11A",
                city="Karachi",
                latitude=Decimal("27.4654584"),
                longitude=Decimal("64.846548"),
            ),
        ),
        # Home delivery with DispatchNINJA.
        Branch(
            branch_id="63",
            merchant_id=DEMO_MERCHANT,
            name="Clifton-Block 4",
            blink_id="60001",
            address="209 Bolvard center, caspian road",
            delivery_mode=DeliveryMode.HOME,
            courier=CourierProvider.DISPATCHNINJA,
            blink_address=BlinkAddress(
                house_num="209",
                street="Caspian road",
                building="Bolvard center",
                area="Clifton Block 4",
                city="Karachi",
            ),
        ),
        # A branch with a Bloq of its own: PICK-UP orders go into one of its lockers for the customer.
        Branch(
            branch_id="64",
            merchant_id=DEMO_MERCHANT,
            name="SMCHS-12",
            blink_id="60002",
            address="Plot#212 Rae Avenue road",
            delivery_mode=DeliveryMode.LOCKER,
            courier=CourierProvider.BLINK_LOGISTICS,
            bloq_ids=list(DEMO_BLOQ_IDS),
            pickup_bloq_id=DEMO_PICKUP_BLOQ_ID,
            blink_address=BlinkAddress(house_num="Plot#212", street="Rae Avenue road", area="SMCHS", city="Karachi"),
        ),
        # A delivery platform whose own riders collect its DELIVERY orders at the branch.
        Partner(
            partner_id=DEMO_PARTNER, name="Demo Delivery App", display_name="DemoApp", contact_phone="+351210000000"
        ),
        PartnerBranch(partner_id=DEMO_PARTNER, partner_branch_id="14589", merchant_id=DEMO_MERCHANT, branch_id="12345"),
        ItemMapping(
            partner_id=DEMO_PARTNER,
            merchant_id=DEMO_MERCHANT,
            kind="item",
            partner_item_id="1",
            product_id="prod-burger",
            blink_id="257327",
            name="Burger",
        ),
        ItemMapping(
            partner_id=DEMO_PARTNER,
            merchant_id=DEMO_MERCHANT,
            kind="item",
            partner_item_id="2",
            product_id="prod-fries",
            blink_id="257328",
            name="Fries",
        ),
        ItemMapping(
            partner_id=DEMO_PARTNER,
            merchant_id=DEMO_MERCHANT,
            kind="option",
            partner_item_id="1",
            product_id="prod-cheese",
            blink_id="596996",
            name="Extra cheese",
        ),
    ]


def app_settings(environments: list[dict[str, str]]) -> Settings:
    """The application's settings as the deployed functions see them (the first function whose
    environment names the config table; they all share the template's Globals)."""
    for env in environments:
        if "CONFIG_TABLE" in env:
            return Settings.from_env(env)
    return Settings.from_env(environments[0] if environments else {})


def seed(
    settings: Settings,
    *,
    dynamodb: Any,
    secretsmanager: Any,
    dev: DevSecrets,
    vendor_credentials: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Write the demo configuration and the secrets; returns what was written (names only)."""
    records = demo_records()
    ConfigStore(dynamodb, settings.config_table).put(*records)
    _put_secret(
        secretsmanager,
        settings.webhook_secret_name,
        dev.webhook_secret(),
        "DEV-ONLY webhook tokens and Bloq.It signing secret of the local stack",
    )
    credentials_name = settings.vendors.credentials_secret_prefix + DEMO_MERCHANT
    _put_secret(
        secretsmanager,
        credentials_name,
        vendor_credentials or DEV_VENDOR_CREDENTIALS,
        "DEV-ONLY vendor credentials of the demo merchant (the local sandboxes)",
    )
    return {
        "config_table": settings.config_table,
        "records": len(records),
        "webhook_secret": settings.webhook_secret_name,
        "vendor_credentials_secret": credentials_name,
    }


def _put_secret(client: Any, name: str, value: Any, description: str) -> None:
    text = json.dumps(value)
    try:
        client.create_secret(Name=name, SecretString=text, Description=description)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=text)
