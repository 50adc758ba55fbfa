"""Settings parsed once per container from the function's environment.

Logic never reads ``os.environ``: it receives a :class:`Settings` (or the part it needs).
The template sets these variables; the local stack sets them from the same template.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class BloqSignatureSettings(BaseModel):
    """How Bloq.It signs its webhooks (the docs do not name the headers, so they are settings)."""

    signature_header: str = "x-bloq-signature"
    timestamp_header: str = "x-bloq-timestamp"
    tolerance_seconds: int = Field(default=300, ge=1)


class VendorSettings(BaseModel):
    """Where the vendor APIs live and how long to wait for them.

    Switching between the local sandboxes, the vendors' own sandboxes (Blink staging, the Bloq.It
    demo server, a DispatchNINJA dev install) and production is only a change of these URLs and
    of the credentials in the vendor secret.
    """

    blink_base_url: str = "https://api.blinkco.io"
    blink_logistics_base_url: str = "https://api-delivery.blinkco.io"
    bloqit_base_url: str = "https://api.bloq.it"
    dispatchninja_base_url: str = "https://dev.dispatchninja.com/dn_api/1.1.0"
    connect_timeout_seconds: float = 3.0
    read_timeout_seconds: float = 10.0
    max_attempts: int = 4
    # Secrets Manager name prefix of the per-merchant vendor credentials: <prefix><merchant_id>.
    credentials_secret_prefix: str = "orderbridge/vendors/"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    orders_table: str = "orderbridge-orders"
    config_table: str = "orderbridge-config"
    rents_table: str = "orderbridge-rents"
    idempotency_table: str = "orderbridge-idempotency"
    webhook_secret_name: str = "orderbridge/webhooks"
    secrets_max_age_seconds: int = 300
    max_body_bytes: int = 256 * 1024
    bloq: BloqSignatureSettings = BloqSignatureSettings()
    vendors: VendorSettings = VendorSettings()

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ[str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        bloq_defaults = BloqSignatureSettings()
        vendor_defaults = VendorSettings()
        return cls(
            orders_table=env.get("ORDERS_TABLE", defaults.orders_table),
            config_table=env.get("CONFIG_TABLE", defaults.config_table),
            rents_table=env.get("RENTS_TABLE", defaults.rents_table),
            idempotency_table=env.get("IDEMPOTENCY_TABLE", defaults.idempotency_table),
            webhook_secret_name=env.get("WEBHOOK_SECRET_NAME", defaults.webhook_secret_name),
            secrets_max_age_seconds=int(env.get("SECRETS_MAX_AGE_SECONDS", defaults.secrets_max_age_seconds)),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", defaults.max_body_bytes)),
            bloq=BloqSignatureSettings(
                signature_header=env.get("BLOQ_SIGNATURE_HEADER", bloq_defaults.signature_header).lower(),
                timestamp_header=env.get("BLOQ_TIMESTAMP_HEADER", bloq_defaults.timestamp_header).lower(),
                tolerance_seconds=int(env.get("BLOQ_TIMESTAMP_TOLERANCE_SECONDS", bloq_defaults.tolerance_seconds)),
            ),
            vendors=VendorSettings(
                blink_base_url=env.get("BLINK_BASE_URL", vendor_defaults.blink_base_url),
                blink_logistics_base_url=env.get(
                    "BLINK_LOGISTICS_BASE_URL", vendor_defaults.blink_logistics_base_url
                ),
                bloqit_base_url=env.get("BLOQIT_BASE_URL", vendor_defaults.bloqit_base_url),
                dispatchninja_base_url=env.get("DISPATCHNINJA_BASE_URL", vendor_defaults.dispatchninja_base_url),
                connect_timeout_seconds=float(
                    env.get("VENDOR_CONNECT_TIMEOUT_SECONDS", vendor_defaults.connect_timeout_seconds)
                ),
                read_timeout_seconds=float(env.get("VENDOR_READ_TIMEOUT_SECONDS", vendor_defaults.read_timeout_seconds)),
                max_attempts=int(env.get("VENDOR_MAX_ATTEMPTS", vendor_defaults.max_attempts)),
                credentials_secret_prefix=env.get(
                    "VENDOR_CREDENTIALS_SECRET_PREFIX", vendor_defaults.credentials_secret_prefix
                ),
            ),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, parsed on first use."""
    return Settings.from_env()
