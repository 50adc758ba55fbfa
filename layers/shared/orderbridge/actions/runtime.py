"""How an action Lambda runs: parse the input, run (idempotently), return the output as JSON.

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
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

import httpx
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from orderbridge import aws
from orderbridge.config import Settings, get_settings
from orderbridge.models.types import utcnow
from orderbridge.observability import logger
from orderbridge.store.config import ConfigStore
from orderbridge.store.orders import OrderStore
from orderbridge.store.rents import RentStore
from orderbridge.vendors.blink import BlinkClient
from orderbridge.vendors.blink_logistics import BlinkLogisticsClient
from orderbridge.vendors.bloqit import BloqitClient
from orderbridge.vendors.credentials import VendorCredentials, get_vendor_credentials
from orderbridge.vendors.dispatchninja import DispatchNinjaClient
from orderbridge.vendors.http import Deadline, vendor_deadline

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)

# Kept free at the end of an invocation, after its last vendor call, for what the action does with
# the answer: its DynamoDB writes (order, timeline, idempotency record) and returning it.
DEADLINE_MARGIN_SECONDS = 3.0


class InvalidActionInput(Exception):
    """The action was called with an input that does not match its model."""


@dataclass
class VendorClients:
    """One client per vendor per merchant, kept for the container while its credentials hold.

    The credentials are looked up on every use (Powertools caches the secret for its max age), and
    a client whose credentials changed — a rotated API key — is replaced, so rotation does not
    wait for a cold start. ``transport`` replaces the network in tests (respx /
    httpx.MockTransport); ``credentials`` replaces the Secrets Manager lookup.
    """

    settings: Settings
    transport: httpx.BaseTransport | None = None
    credentials: Callable[[str], VendorCredentials] | None = None
    _clients: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)

    def _creds(self, merchant_id: str) -> VendorCredentials:
        if self.credentials is not None:
            return self.credentials(merchant_id)
        return get_vendor_credentials(merchant_id, self.settings.vendors)

    def _get(self, vendor: str, merchant_id: str, build: Callable[[Any], Any]) -> Any:
        creds = getattr(self._creds(merchant_id), f"require_{vendor}")()
        key = (vendor, merchant_id)
        held = self._clients.get(key)
        if held is not None and held[0] == creds:
            return held[1]
        if held is not None:
            held[1].close()
        client = build(creds)
        self._clients[key] = (creds, client)
        return client

    def blink(self, merchant_id: str) -> BlinkClient:
        return self._get(
            "blink", merchant_id, lambda c: BlinkClient.create(self.settings.vendors, c, transport=self.transport)
        )

    def blink_logistics(self, merchant_id: str) -> BlinkLogisticsClient:
        return self._get(
            "blink_logistics",
            merchant_id,
            lambda c: BlinkLogisticsClient.create(self.settings.vendors, c, transport=self.transport),
        )

    def bloqit(self, merchant_id: str) -> BloqitClient:
        return self._get(
            "bloqit", merchant_id, lambda c: BloqitClient.create(self.settings.vendors, c, transport=self.transport)
        )

    def dispatchninja(self, merchant_id: str) -> DispatchNinjaClient:
        return self._get(
            "dispatchninja",
            merchant_id,
            lambda c: DispatchNinjaClient.create(self.settings.vendors, c, transport=self.transport),
        )


@dataclass
class ActionDeps:
    settings: Settings
    orders: OrderStore
    config: ConfigStore
    rents: RentStore
    vendors: VendorClients
    idempotency_store: DynamoDBPersistenceLayer
    idempotency_config: IdempotencyConfig
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def build(cls, settings: Settings, *, dynamodb: Any, vendors: VendorClients | None = None) -> ActionDeps:
        return cls(
            settings=settings,
            orders=OrderStore(dynamodb, settings.orders_table),
            config=ConfigStore(dynamodb, settings.config_table),
            rents=RentStore(dynamodb, settings.rents_table),
            vendors=vendors or VendorClients(settings),
            idempotency_store=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
            # A Step Functions retry of the same task within a day gets the first answer.
            idempotency_config=IdempotencyConfig(expires_after_seconds=24 * 3600, raise_on_no_idempotency_key=True),
        )


@cache
def get_action_deps() -> ActionDeps:
    """The container's action dependencies (tests call ``get_action_deps.cache_clear()``)."""
    return ActionDeps.build(get_settings(), dynamodb=aws.client("dynamodb"))


def run_action(
    action: Callable[..., Out],
    event: dict[str, Any],
    context: LambdaContext,
    *,
    idempotent: bool,
    deps: ActionDeps | None = None,
) -> dict[str, Any]:
    """Run ``action(request=<input model>, deps=...)`` for a Lambda event; return its output as JSON.

    ``idempotent`` actions are keyed on their whole input: the same input within the expiry
    window returns the stored output without calling the vendor again. The in-progress record
    expires with the Lambda's remaining time (``register_lambda_context``), so a timed-out
    attempt does not block its retry.

    The vendor calls made while the action runs end :data:`DEADLINE_MARGIN_SECONDS` before the
    Lambda's remaining time runs out (see :func:`invocation_deadline`).
    """
    deps = deps or get_action_deps()
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
    if idempotent:
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
