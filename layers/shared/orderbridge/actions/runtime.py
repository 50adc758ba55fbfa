"""How an action Lambda runs: parse the input, run (idempotently when the action is declared so
with :func:`action`), return the output as JSON.

Vendor failures are re-raised unchanged, so the workflow's ``Retry``/``Catch`` match them by
name: ``RetryableVendorError`` (retry with backoff) or ``PermanentVendorError`` and its
subclasses (``VendorAuthError``, ``VendorNotFound``, ``VendorConflict``: do not retry).
A malformed input is ``InvalidActionInput``: a bug in the caller, never retried.

Every vendor call of the invocation ends :data:`DEADLINE_MARGIN_SECONDS` before the Lambda's own
timeout (``vendor_deadline``): a retry that does not fit is left to the workflow's ``Retry``
instead of being cut off by the Lambda timeout (a 429 asking for longer than is left ends as
``VendorRateLimited``), and the margin is kept for recording the answer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from orderbridge.deps import Deps, get_deps
from orderbridge.observability import logger
from orderbridge.vendors.http import Deadline, vendor_deadline

Out = TypeVar("Out", bound=BaseModel)
Action = TypeVar("Action", bound=Callable[..., BaseModel])

# Kept free at the end of an invocation, after its last vendor call, for what the action does with
# the answer: its DynamoDB writes (order, timeline, idempotency record) and returning it.
DEADLINE_MARGIN_SECONDS = 3.0

# The attribute :func:`action` sets on the function it declares.
_IDEMPOTENT = "orderbridge_idempotent"


class InvalidActionInput(Exception):
    """The action was called with an input that does not match its model."""


def action(*, idempotent: bool) -> Callable[[Action], Action]:
    """Declare a function ``(*, request: <input model>, deps: Deps) -> <output model>`` an action.

    ``idempotent=True`` for an action that changes something at a vendor: the same input within
    the expiry window returns the stored output instead of calling the vendor again. Reads, and
    answers that must not be replayed (a fresh token), say ``idempotent=False``.
    """

    def declare(function: Action) -> Action:
        setattr(function, _IDEMPOTENT, idempotent)
        return function

    return declare


def is_declared(function: Callable[..., Any]) -> bool:
    return hasattr(function, _IDEMPOTENT)


def is_idempotent(function: Callable[..., Any]) -> bool:
    """What :func:`action` declared (an undeclared function is not idempotent)."""
    return bool(getattr(function, _IDEMPOTENT, False))


def run_action(
    action: Callable[..., Out],
    event: dict[str, Any],
    context: LambdaContext,
    *,
    deps: Deps | None = None,
) -> dict[str, Any]:
    """Run ``action(request=<input model>, deps=...)`` for a Lambda event; return its output as JSON.

    Idempotent actions (declared with :func:`action`) are keyed on their whole input: the same
    input within the expiry window returns the stored output without calling the vendor again. The in-progress record
    expires with the Lambda's remaining time (``register_lambda_context``), so a timed-out
    attempt does not block its retry.

    The vendor calls made while the action runs end :data:`DEADLINE_MARGIN_SECONDS` before the
    Lambda's remaining time runs out (see :func:`invocation_deadline`).
    """
    deps = deps or get_deps()
    model = _input_model(action)
    try:
        request = model.model_validate(event)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise InvalidActionInput(f"{model.__name__}: {reasons}") from exc
    order_id = getattr(request, "order_id", None)
    if order_id:
        logger.set_correlation_id(order_id)
        logger.append_keys(order_id=order_id)
    logger.append_keys(action=action.__name__)

    def call(*, request: BaseModel) -> Out:
        return action(request=request, deps=deps)

    call.__name__ = call.__qualname__ = action.__name__  # the idempotency key names the action
    call.__annotations__ = {"request": model, "return": _output_model(action)}  # for PydanticSerializer
    if is_idempotent(action):
        deps.idempotency_config.register_lambda_context(context)
        call = idempotent_function(
            data_keyword_argument="request",
            persistence_store=deps.idempotency_store,
            config=deps.idempotency_config,
            output_serializer=PydanticSerializer,
        )(call)
    with vendor_deadline(invocation_deadline(context)):
        result = call(request=request)
    logger.info("action done")
    return result.model_dump(mode="json")


def invocation_deadline(context: LambdaContext | None) -> Deadline | None:
    """When this invocation's vendor calls must be over: the Lambda's remaining time less
    :data:`DEADLINE_MARGIN_SECONDS`. None without a context that knows its remaining time."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return Deadline.after(remaining() / 1000 - DEADLINE_MARGIN_SECONDS)


def _input_model(action: Callable[..., Any]) -> type[BaseModel]:
    return _model(action, inspect.signature(action, eval_str=True).parameters["request"].annotation, "request")


def _output_model(action: Callable[..., Any]) -> type[BaseModel]:
    return _model(action, inspect.signature(action, eval_str=True).return_annotation, "return")


def _model(action: Callable[..., Any], annotation: Any, what: str) -> type[BaseModel]:
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        raise TypeError(f"{action.__name__}: its {what} must be annotated with a pydantic model")
    return annotation
