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

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ[str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        bloq_defaults = BloqSignatureSettings()
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
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, parsed on first use."""
    return Settings.from_env()
