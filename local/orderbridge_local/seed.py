"""Demo data, so that every sample payload of the vendor docs (``tests/samples/``) is accepted as
it stands: the configuration ``tests/conftest.py::seeded`` writes (``local/demo-config.yaml``,
applied through the config API's apply path), the webhook secret, and the demo merchant's vendor
credentials pointing at the sandboxes.

Where it goes comes from the deployed functions' own settings (``orderbridge.config.Settings``
parsed from their environment): the config table, the webhook secret's name, the vendor
credentials prefix — no second list of names.

Every token, key and password here is a DEV-ONLY value: generated per run (:class:`DevSecrets`)
or a constant named ``DEV_…``, and only ever stored in the local emulator.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orderbridge import ops_config
from orderbridge.config import Settings
from orderbridge.deps import Deps
from orderbridge.models.config import ConfigDocument
from orderbridge_cli import config_file

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "demo-config.yaml"
SEED_CALLER = "local-stack seed"  # "who" in the audit trail of the demo configuration

# Ids of local/demo-config.yaml the e2e tests name (tests/unit/local/test_demo_config.py checks them).
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


def demo_document() -> ConfigDocument:
    """The demo configuration: ``local/demo-config.yaml`` (Blink branch 12345 with blink id 50220,
    branches 63 and 64, partner demo-partner routing its branch 14589 to 12345, item mappings for
    partner items 1 and 2 and option 1 — what ``tests/conftest.py::seeded`` writes too)."""
    loaded = config_file.read(DEMO_CONFIG)
    if loaded.document is None:
        shown = "\n".join(error.show(str(DEMO_CONFIG)) for error in loaded.errors)
        raise ValueError(f"{DEMO_CONFIG} is not a valid configuration:\n{shown}")
    return loaded.document


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
    """Apply the demo configuration (``local/demo-config.yaml``) through the config API's apply
    path — the one a merchant's file takes — and write the secrets; returns what was written
    (names and counts only)."""
    clients = {"dynamodb": dynamodb, "secretsmanager": secretsmanager}
    deps = Deps(settings, client=lambda service: clients[service])
    began = time.monotonic()
    applied = ops_config.apply_document(demo_document(), deps, who=SEED_CALLER)
    config_ms = round((time.monotonic() - began) * 1000)
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
        "records": len(applied.changes),
        "config_apply": {**applied.counts, "transactions": applied.transactions, "milliseconds": config_ms},
        "webhook_secret": settings.webhook_secret_name,
        "vendor_credentials_secret": credentials_name,
    }


def _put_secret(client: Any, name: str, value: Any, description: str) -> None:
    text = json.dumps(value)
    try:
        client.create_secret(Name=name, SecretString=text, Description=description)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=text)
