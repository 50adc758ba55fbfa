"""Settings parsed once per container from the function's environment.

Logic never reads ``os.environ``: it receives a :class:`Settings` (or the part it needs).
The template sets these variables; the local stack sets them from the same template.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class BloqSignatureSettings(BaseModel):
    """How Bloq.It signs its webhooks (the docs do not name the headers, so they are settings)."""

    signature_header: Annotated[str, AfterValidator(str.lower)] = "x-bloq-signature"
    timestamp_header: Annotated[str, AfterValidator(str.lower)] = "x-bloq-timestamp"
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


class WorkflowSettings(BaseModel):
    """What the order workflow's plan step decides with (the plan function's environment). How long
    the workflow's waits last is not here: those limits are template parameters the state machine
    reads itself (``DefinitionSubstitutions``, ``statemachine/order_workflow.py``)."""

    # A pre-order starts booking (locker, courier) this long (seconds) before it is due.
    pre_order_lead: int = Field(default=45 * 60, ge=0)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    orders_table: str = "orderbridge-orders"
    config_table: str = "orderbridge-config"
    rents_table: str = "orderbridge-rents"
    idempotency_table: str = "orderbridge-idempotency"
    order_workflow_arn: str = ""
    webhook_secret_name: str = "orderbridge/webhooks"
    secrets_max_age_seconds: int = 300
    max_body_bytes: int = 256 * 1024
    sync_dead_letter_queue_url: str | None = None  # a scheduled sync's dead-letter queue
    # Blink status reconciliation: an open order whose Blink status has not moved this long (seconds)
    # is read back with getOrder.
    blink_status_stale_seconds: int = Field(default=600, ge=1)
    # Stuck orders: an open order whose lifecycle has not moved this long (seconds) has its workflow
    # execution looked at (none at all, or one that ended, makes it stuck).
    stuck_order_grace_seconds: int = Field(default=600, ge=1)
    aws_connect_timeout_seconds: float = Field(default=1.0, gt=0, le=60)
    aws_read_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    bloq: BloqSignatureSettings = BloqSignatureSettings()
    vendors: VendorSettings = VendorSettings()
    workflow: WorkflowSettings = WorkflowSettings()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from environment variables (names in :data:`ENVIRONMENT`); unset → default."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for var, path in ENVIRONMENT.items():
            if var in env:
                *parents, leaf = path.split(".")
                target = values
                for part in parents:
                    target = target.setdefault(part, {})
                target[leaf] = env[var]
        return cls.model_validate(values)


# Environment variable → settings field (dotted for nested groups). template.yaml sets these.
ENVIRONMENT: dict[str, str] = {
    "ORDERS_TABLE": "orders_table",
    "CONFIG_TABLE": "config_table",
    "RENTS_TABLE": "rents_table",
    "IDEMPOTENCY_TABLE": "idempotency_table",
    "ORDER_WORKFLOW_ARN": "order_workflow_arn",
    "WEBHOOK_SECRET_NAME": "webhook_secret_name",
    "SECRETS_MAX_AGE_SECONDS": "secrets_max_age_seconds",
    "MAX_BODY_BYTES": "max_body_bytes",
    "SYNC_DEAD_LETTER_QUEUE_URL": "sync_dead_letter_queue_url",
    "BLINK_STATUS_STALE_SECONDS": "blink_status_stale_seconds",
    "STUCK_ORDER_GRACE_SECONDS": "stuck_order_grace_seconds",
    "AWS_CONNECT_TIMEOUT_SECONDS": "aws_connect_timeout_seconds",
    "AWS_READ_TIMEOUT_SECONDS": "aws_read_timeout_seconds",
    "BLOQ_SIGNATURE_HEADER": "bloq.signature_header",
    "BLOQ_TIMESTAMP_HEADER": "bloq.timestamp_header",
    "BLOQ_TIMESTAMP_TOLERANCE_SECONDS": "bloq.tolerance_seconds",
    "BLINK_BASE_URL": "vendors.blink_base_url",
    "BLINK_LOGISTICS_BASE_URL": "vendors.blink_logistics_base_url",
    "BLOQIT_BASE_URL": "vendors.bloqit_base_url",
    "DISPATCHNINJA_BASE_URL": "vendors.dispatchninja_base_url",
    "VENDOR_CONNECT_TIMEOUT_SECONDS": "vendors.connect_timeout_seconds",
    "VENDOR_READ_TIMEOUT_SECONDS": "vendors.read_timeout_seconds",
    "VENDOR_MAX_ATTEMPTS": "vendors.max_attempts",
    "VENDOR_CREDENTIALS_SECRET_PREFIX": "vendors.credentials_secret_prefix",
    "PRE_ORDER_LEAD_SECONDS": "workflow.pre_order_lead",
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, parsed on first use."""
    return Settings.from_env()
