"""What every outbound action shares: its refusal error, reading the order, building a vendor
request from order data without echoing it, and timeline events written by Orderbridge itself.

The errors an action ends with reach Step Functions by class name (``ErrorEquals`` in
``Retry``/``Catch`` matches names exactly, not subclasses): :data:`RETRYABLE_ERRORS` and
:data:`PERMANENT_ERRORS` list them for the workflow.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from orderbridge.actions.runtime import ActionDeps
from orderbridge.errors import OrderbridgeError
from orderbridge.models.base import OurModel
from orderbridge.models.order import Customer, Order, TimelineEvent

SOURCE = "orderbridge"

M = TypeVar("M", bound=BaseModel)


class ActionRefused(OrderbridgeError):
    """The action cannot be done with what Orderbridge knows (no such order, items without a Blink
    id, no customer phone, no courier task yet, ...). Permanent: retrying cannot help, a person or
    an earlier step has to supply what is missing. Nothing was sent to the vendor."""

    status_code = 422
    code = "action_refused"


class NoLockerAvailable(ActionRefused):
    """No Bloq near the customer (or configured for the branch) has a free locker of the size
    asked for. A separate name so the workflow can fall back to home delivery on it alone."""

    code = "no_locker_available"


# For the workflow's Retry/Catch: the errors an action may end with, by class name.
RETRYABLE_ERRORS = (
    "RetryableVendorError",  # vendor 429/5xx/timeout, after the client's own retries
    "ServiceUnavailable",  # DynamoDB or Secrets Manager could not be reached
    "IdempotencyAlreadyInProgressError",  # the same input is running right now
)
PERMANENT_ERRORS = (
    "PermanentVendorError",
    "VendorAuthError",
    "VendorNotFound",
    "VendorConflict",
    "InvalidActionInput",
    "ActionRefused",
    "NoLockerAvailable",
    "NotFound",
    "VendorCredentialsError",
    "MissingVendorCredentials",
)


class OrderInput(OurModel):
    """Base of every order-related action input."""

    order_id: str = Field(min_length=1)


class CustomerDetails(OurModel):
    """Customer details given to an action, each one taking precedence over the order's own
    (a delivery-partner order carries none: the Blend contract has no customer)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    latitude: Decimal | None = Field(default=None, ge=-90, le=90)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180)


def customer_of(order: Order, override: CustomerDetails | None) -> Customer:
    """The order's customer with ``override``'s non-empty fields on top."""
    given = override.model_dump(exclude_none=True) if override else {}
    return order.customer.model_copy(update={k: v for k, v in given.items() if v != ""})


def require_order(deps: ActionDeps, order_id: str) -> tuple[Order, dict[str, Any]]:
    """The order and its status tracks; :class:`ActionRefused` when there is no such order."""
    found = deps.orders.load(order_id)
    if found is None:
        raise ActionRefused(f"there is no order {order_id!r}")
    return found


def missing(what: str, fields: dict[str, Any]) -> None:
    """Refuse, naming the fields, when any of ``fields`` is empty."""
    absent = [name for name, value in fields.items() if value is None or value == ""]
    if absent:
        raise ActionRefused(f"{what}: missing {', '.join(absent)}")


def build(model: type[M], what: str, **data: Any) -> M:
    """``model(**data)``; a validation failure is :class:`ActionRefused` naming the fields and
    the rules they break, never the values (those are phones, addresses)."""
    try:
        return model(**data)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or model.__name__}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise ActionRefused(f"{what}: {reasons}") from None


def our_event(
    deps: ActionDeps,
    key: str,
    kind: str,
    summary: str,
    *,
    detail: dict[str, Any] | None = None,
    source: str = SOURCE,
    at: datetime | None = None,
    applied: bool = True,
) -> TimelineEvent:
    """A timeline event for something an action did (``source`` "orderbridge") or read."""
    return TimelineEvent(
        event_key=key,
        source=source,
        kind=kind,
        at=at,
        received_at=deps.clock(),
        applied=applied,
        summary=summary,
        detail=detail or {},
    )
