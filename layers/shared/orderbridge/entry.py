"""Every Lambda's entry: one Powertools middleware and one factory per kind of function, so that a
``functions/<name>/app.py`` is one statement::

    lambda_handler = action_handler(lockers.reserve_locker)
    lambda_handler = webhook_handler("/webhooks/blink/orders", blink.receive_order)

:func:`orderbridge_middleware` gives every handler its logging (the Lambda context, state cleared
between invocations), tracing and metrics (with the cold-start metric). Errors keep their shape
per kind: an HTTP function answers through ``web.answers`` (domain errors → 4xx/5xx), an action
raises so the workflow's ``Retry``/``Catch`` match the error by name, a stream record that fails
is reported for Lambda's retry (partial batch response).

Each factory imports what its kind needs when it is called, so a webhook's cold start does not
load the actions' idempotency, the vendor clients or Powertools' resolver.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from aws_lambda_powertools.middleware_factory import lambda_handler_decorator
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from orderbridge.deps import Deps, get_deps
from orderbridge.errors import OrderbridgeError
from orderbridge.observability import logger, metrics, tracer
from orderbridge.web.answers import ErrorAnswer, ErrorShape, bug, proxy_response, refused
from orderbridge.web.request import WebhookRequest

# Powertools' event_handler (the ops API's and the console's resolver) and data classes are loaded by
# the functions that use them, not by a webhook's cold start (tests/unit/test_deps.py).
if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

Handler: TypeAlias = Callable[[dict[str, Any], LambdaContext], Any]
Receive: TypeAlias = Callable[[WebhookRequest, Deps], tuple[int, BaseModel]]


@lambda_handler_decorator
def orderbridge_middleware(handler: Handler, event: dict[str, Any], context: LambdaContext) -> Any:
    """Logging, tracing and metrics around one invocation of ``handler``."""
    observed = logger.inject_lambda_context(clear_state=True)(
        # capture_response=False: an answer can hold personal data or a token (issue 13 point 5)
        tracer.capture_lambda_handler(
            metrics.log_metrics(capture_cold_start_metric=True)(handler), capture_response=False
        )
    )
    return observed(event, context)


def _observed(run: Handler) -> Handler:
    handler: Handler = orderbridge_middleware(run)
    return handler


# -- actions and workflow steps --------------------------------------------------------------------


def action_handler(action: Callable[..., BaseModel]) -> Handler:
    """The Lambda of an action or a workflow step declared with ``actions.runtime.action``."""
    from orderbridge.actions.runtime import is_declared, run_action

    if not is_declared(action):
        raise TypeError(f"{action.__name__}: declare it with @action(idempotent=...)")

    def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return run_action(action, event, context)

    return _observed(run)


# -- HTTP: webhooks and the ops API ----------------------------------------------------------------


def webhook_handler(route: str, receive: Receive, *, error_shape: ErrorShape = "default") -> Handler:
    """The Lambda of a webhook: ``POST route`` reads the request, runs ``receive`` and answers
    with what it returns. Path parameters (``<partner>``) are read by the use case from the
    request. One route per function, so no resolver: another method or path is a 404, as API
    Gateway's own answer would be."""
    path = re.compile("^" + re.sub(r"<\w+>", "[^/]+", route) + "/?$")

    def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if event.get("httpMethod") != "POST" or not path.match(event.get("path") or ""):
            return proxy_response(ErrorAnswer(error="not_found", message="Not found"), 404)
        try:
            deps = get_deps()
            request = WebhookRequest.from_proxy_event(event, max_body_bytes=deps.settings.max_body_bytes)
            status_code, answer = receive(request, deps)
        except OrderbridgeError as error:
            status_code, answer = refused(error, error_shape)
        except Exception:
            status_code, answer = bug(error_shape)
        return proxy_response(answer, status_code)

    return _observed(run)


def ops_api_handler() -> Handler:
    """The ops API's Lambda (behind the ops authorizer: a signed-in person or an API key): its routes
    are in ``ops_api``."""
    from orderbridge.ops_api import ops_api_resolver

    return _resolved(ops_api_resolver())


def console_handler() -> Handler:
    """The ops console's Lambda: its page and assets (``ops_api.console_resolver``)."""
    from orderbridge.ops_api import console_resolver

    return _resolved(console_resolver())


def _resolved(app: APIGatewayRestResolver) -> Handler:
    def resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return _observed(resolve)


def authorizer_handler() -> Handler:
    """The ops API's Lambda REQUEST authorizer (``web.ops_auth``): a person's Cognito ID token or
    a machine's API key. The pool's JWKS (cached, refetched for an unknown key id) and the
    console's API key are read once per container, on first use."""
    import jwt

    from orderbridge import aws
    from orderbridge.store.api_keys import api_key_value
    from orderbridge.web.ops_auth import AuthSettings, AuthUnauthorized, OpsAuthorizer

    settings = AuthSettings.from_env()
    jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=3600, timeout=3)

    def signing_key(token: str) -> Any:
        return jwks.get_signing_key_from_jwt(token).key

    def console_key() -> str:
        return api_key_value(aws.client("apigateway"), settings.console_api_key_id)

    authorizer = OpsAuthorizer(settings, signing_key=signing_key, console_key=console_key)

    def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            return authorizer.authorize(event)
        except AuthUnauthorized as refused:  # API Gateway answers 401 for exactly "Unauthorized"
            logger.info("ops API request refused", extra={"reason": refused.reason, "path": event.get("path")})
            raise

    return _observed(run)


# -- the order stream and schedules ----------------------------------------------------------------


def stream_handler(handle_record: Callable[[DynamoDBRecord, Deps], str]) -> Handler:
    """The Lambda of a DynamoDB stream: each record through ``handle_record``, one by one, with
    partial batch failure reporting (a failed record is retried without replaying the rest)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def record_handler(record: DynamoDBRecord) -> str:
        return handle_record(record, get_deps())

    def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return dict(
            process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
        )

    return _observed(run)


def sync_handler(sync: Callable[[Deps, LambdaContext], BaseModel]) -> Handler:
    """The Lambda of a scheduled sync (``syncs/``): run it with the container's dependencies and
    the Lambda's context (its remaining time bounds the run); return its report."""

    def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return sync(get_deps(), context).model_dump(mode="json")

    return _observed(run)


def scheduled_handler(job: Callable[[Deps], BaseModel]) -> Handler:
    """The Lambda of a schedule: run ``job`` with the container's dependencies; return its report."""

    def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return job(get_deps()).model_dump()

    return _observed(run)
