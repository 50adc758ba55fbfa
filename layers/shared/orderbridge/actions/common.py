"""What every outbound action shares: its refusal error, reading the order, building a vendor
request from order data without echoing it, and timeline events written by Orderbridge itself.

The errors an action ends with reach Step Functions by class name (``ErrorEquals`` in
``Retry``/``Catch`` matches names exactly, not subclasses). Each one is in exactly one of
:data:`RETRYABLE_ERRORS`, :data:`RATE_LIMITED_ERRORS` (the workflow's two ``Retry`` policies,
``statemachine/order_workflow.py``) and :data:`PERMANENT_ERRORS` (retried by neither);
``tests/unit/test_order_workflow_definition.py`` fails when an exception is in none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from orderbridge.deps import Deps
from orderbridge.errors import OrderbridgeError
from orderbridge.models.base import OurModel
from orderbridge.models.order import Customer, Order, TimelineEvent, Tracks
from orderbridge.vendors.http import VendorError, VendorOutcomeUnknown

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


class OrderCancelled(OrderbridgeError):
    """A person cancelled the order (``POST /ops/orders/{id}/cancel``): the workflow takes its
    cancel path. Raised by ``PlanOrder`` for an order whose cancel was asked before its execution
    started; a wait ends with the same name (``domain.waits``). Permanent: the Catch handles it."""

    status_code = 409
    code = "order_cancelled"


# For the workflow's Retry/Catch, by exact name: every error an action task may end with that is
# worth trying again later. Our own and Powertools' errors arrive under their class name; Lambda's
# own failures under the names Step Functions gives them (AWS docs: "Handle Lambda service
# exceptions" in the Step Functions guide, and "Troubleshoot invocation issues" in Lambda's).
RETRYABLE_ERRORS = (
    # Vendor 429/5xx/timeout/dropped connection after the client's own retries, or left to this
    # retry by the invocation's deadline (a 429 whose Retry-After is longer than the function has
    # left is VendorRateLimited instead: RATE_LIMITED_ERRORS).
    "RetryableVendorError",
    "ServiceUnavailable",  # DynamoDB or Secrets Manager could not be reached
    "WorkflowUnavailable",  # Step Functions did not take a wait's verdict (RegisterWait settling it)
    # Powertools idempotency: the same input is running right now; the idempotency table could
    # not be read or written; the record changed between two reads (a concurrent run or expiry).
    "IdempotencyPersistenceLayerError",
    "IdempotencyInconsistentStateError",
    # Lambda's transient service errors when invoking the function (a 500 from the Invoke API).
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    # The function's concurrency (reserved or the account's) is used up: throttled.
    "Lambda.TooManyRequestsException",
    # An unhandled failure of the function itself: Step Functions reports a function timeout and
    # an out-of-memory end as Lambda.Unknown; the invoke answer names a timeout Sandbox.Timedout.
    # Retried like a RetryableVendorError that timed out: whether a request may have reached the
    # vendor before the end is for the action to find out on its next run.
    "Lambda.Unknown",
    "Sandbox.Timedout",
    # The function's process ended mid-invocation (killed, crashed): Lambda's Runtime.ExitError.
    "Runtime.ExitError",
    # Not here: States.Timeout. It is a Task's own TimeoutSeconds/HeartbeatSeconds running out,
    # which in this workflow is a wait for a vendor (a courier, a rent) passing its deadline: the
    # order is stuck, and waiting again from the start would hide it. Give action tasks no
    # TimeoutSeconds shorter than the function's Timeout, so their timeouts stay Lambda's.
)
# Errors retrying cannot fix: the request, the credentials or what Orderbridge knows is wrong. No
# Retry names them: they go to the task's Catch (needs attention, a fallback, or the failure path).
PERMANENT_ERRORS = (
    "PermanentVendorError",
    "VendorAuthError",
    "VendorNotFound",
    "TaskNotFound",  # Blink Logistics has no task for the order (VendorNotFound's documented case)
    "VendorConflict",
    "VendorOutcomeUnknown",
    "InvalidActionInput",
    "ActionRefused",
    "NoLockerAvailable",
    "NotFound",
    "VendorCredentialsError",
    "MissingVendorCredentials",
    "OrderCancelled",  # caught: the cancel path
)


# A vendor answered 429 and asked us to come back later than the function can wait: the workflow
# waits longer between these tries than between other retryable errors.
RATE_LIMITED_ERRORS = ("VendorRateLimited",)
# Powertools idempotency: a run of the same input is recorded "in progress". After a crash that
# record stays until the crashed invocation's deadline (the function's timeout): the workflow waits
# past it before trying again (``RETRY_IN_PROGRESS``), instead of spending its retries at once.
IN_PROGRESS_ERRORS = ("IdempotencyAlreadyInProgressError",)
# What a retry cannot fix and a person can: the order goes to "needs attention" (refused
# submissions, unmapped items, an order that cannot be planned), where they fix it and retry.
NEEDS_ATTENTION_ERRORS = (
    "ActionRefused",
    "InvalidActionInput",
    "PermanentVendorError",
    "VendorConflict",
    "VendorNotFound",
    "VendorOutcomeUnknown",  # a call that may have reached the vendor: a person checks there
)


class OrderInput(OurModel):
    """Base of every order-related action input.

    ``execution`` is the workflow execution that asks (the state machine passes its name). It is
    part of the idempotency key: a Step Functions retry within one execution gets the first
    answer, while a resumed execution runs the action again, and the action looks at what the
    order and the vendor already have (adopting it) instead of replaying an old answer.
    """

    order_id: str = Field(min_length=1)
    execution: str | None = Field(default=None, max_length=80)


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


def require_order(deps: Deps, order_id: str) -> tuple[Order, Tracks]:
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
    deps: Deps,
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


@contextmanager
def sent_once(deps: Deps, order_id: str, call: str, attempt: int, *, vendor: str, what: str) -> Iterator[None]:
    """Around a vendor call the vendor offers no lookup for (a new order, a new delivery): it is
    marked on the order before it is sent, so a run after a crash or a lost answer finds the mark
    and stops (``VendorOutcomeUnknown``: needs attention, a person checks at the vendor — see
    ``PATCH /ops/orders/{id}`` ``checked_at_vendor``) instead of sending it a second time. The mark
    is taken back when the vendor provably did not act (no connection, 429/503, a refusal)."""
    if not deps.orders.claim_send(order_id, call, attempt, deps.clock()):
        raise VendorOutcomeUnknown(
            vendor,
            f"{what} may exist already: an earlier attempt was sent and its answer not recorded; "
            f"check at {vendor}, record what you found (checked_at_vendor) and retry",
        )
    try:
        yield
    except VendorOutcomeUnknown:
        raise
    except VendorError as error:
        if not error.unreadable_answer:
            deps.orders.clear_send(order_id, call)
        raise
