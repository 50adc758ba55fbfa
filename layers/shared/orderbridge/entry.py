"""Every Lambda's entry: one Powertools middleware and one factory per kind of function, so that a
``functions/<name>/app.py`` is one statement::

    lambda_handler = action_handler(lockers.reserve_locker)
    lambda_handler = webhook_handler("/webhooks/blink/orders", blink.receive_order)

:func:`orderbridge_middleware` gives every handler its logging (the Lambda context, state cleared
between invocations), tracing and metrics (with the cold-start metric). Errors keep their shape
per kind: an HTTP function answers through ``web.resolver`` (domain errors → 4xx/5xx), an action
raises so the workflow's ``Retry``/``Catch`` match the error by name, a stream record that fails
is reported for Lambda's retry (partial batch response).

Each factory imports what its kind needs when it is called, so a webhook's cold start does not
load the actions' idempotency or the vendor clients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.middleware_factory import lambda_handler_decorator
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from orderbridge.deps import Deps, get_deps
from orderbridge.observability import logger, metrics, tracer
from orderbridge.web.path import path_id
from orderbridge.web.request import WebhookRequest, body_text
from orderbridge.web.resolver import ErrorShape, make_resolver, respond

Handler: TypeAlias = Callable[[dict[str, Any], LambdaContext], Any]
Receive: TypeAlias = Callable[[WebhookRequest, Deps], tuple[int, BaseModel]]


@lambda_handler_decorator
def orderbridge_middleware(handler: Handler, event: dict[str, Any], context: LambdaContext) -> Any:
    """Logging, tracing and metrics around one invocation of ``handler``."""
    observed = logger.inject_lambda_context(clear_state=True)(
        tracer.capture_lambda_handler(metrics.log_metrics(capture_cold_start_metric=True)(handler))
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
    request."""
    app = make_resolver(error_shape=error_shape)

    @app.post(route)
    def _receive(**_path: str) -> Response[str]:
        deps = get_deps()
        raw = app.current_event.raw_event
        request = WebhookRequest.from_proxy_event(raw, max_body_bytes=deps.settings.max_body_bytes)
        status_code, answer = receive(request, deps)
        return respond(answer, status_code)

    return _resolved(app)


def ops_api_handler() -> Handler:
    """The ops API's Lambda (API key enforced by API Gateway): the orders' routes
    (:func:`_order_routes`), the catalog's (:func:`_catalog_routes`) and the Blink records'
    (:func:`_record_routes`), one ``Router`` each."""
    app = make_resolver()
    for routes in (_order_routes(), _catalog_routes(), _record_routes()):
        app.include_router(routes)
    return _resolved(app)


def _router() -> APIGatewayRouter:
    router: APIGatewayRouter = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools: no annotations
    return router


def _query(router: APIGatewayRouter) -> dict[str, str]:
    return dict(router.current_event.query_string_parameters or {})


def _ops_body(router: APIGatewayRouter) -> str:
    """An ops request's body, held to the webhooks' size limit (413 beyond it)."""
    return body_text(router.current_event.raw_event, max_body_bytes=get_deps().settings.max_body_bytes)


def _order_routes() -> APIGatewayRouter:
    """``GET /ops/orders/{order_id}``, ``GET /ops/orders``, ``PATCH /ops/orders/{order_id}``,
    ``POST .../resume`` and ``.../retry`` (``ops``)."""
    from orderbridge import ops

    router = _router()

    @router.get("/ops/orders/<order_id>")
    def _get_order(order_id: str) -> Response[str]:
        include_raw = router.current_event.get_query_string_value("include", "") == "raw"
        order = path_id("order_id", order_id)
        return respond(ops.get_order(order, get_deps(), include_raw=include_raw), exclude_none=False)

    @router.patch("/ops/orders/<order_id>")
    def _edit_order(order_id: str) -> Response[str]:
        order = path_id("order_id", order_id)
        return respond(ops.edit_order(order, _ops_body(router), get_deps()))

    @router.post("/ops/orders/<order_id>/resume")
    def _resume(order_id: str) -> Response[str]:
        return respond(ops.resume_workflow(path_id("order_id", order_id), get_deps()), 202)

    @router.post("/ops/orders/<order_id>/retry")
    def _retry(order_id: str) -> Response[str]:
        return respond(ops.retry_order(path_id("order_id", order_id), get_deps()), 202)

    @router.get("/ops/orders")
    def _list_orders() -> Response[str]:
        return respond(ops.list_orders(_query(router), get_deps()), exclude_none=False)

    return router


def _catalog_routes() -> APIGatewayRouter:
    """``GET /ops/catalog/{merchant_id}`` (``/history``, ``/flags``), ``DELETE .../flags/{flag_id}``,
    ``PUT .../items/{item_id}`` (``ops_catalog``)."""
    from orderbridge import ops_catalog

    router = _router()

    @router.get("/ops/catalog/<merchant_id>")
    def _get_catalog(merchant_id: str) -> Response[str]:
        removed = router.current_event.get_query_string_value("include", "") == "removed"
        merchant = path_id("merchant_id", merchant_id)
        return respond(ops_catalog.get_catalog(merchant, get_deps(), include_removed=removed))

    @router.get("/ops/catalog/<merchant_id>/history")
    def _catalog_history(merchant_id: str) -> Response[str]:
        item_id = router.current_event.get_query_string_value("item_id", "") or None
        merchant, item_id = path_id("merchant_id", merchant_id), item_id and path_id("item_id", item_id)
        return respond(ops_catalog.get_history(merchant, get_deps(), item_id=item_id))

    @router.get("/ops/catalog/<merchant_id>/flags")
    def _catalog_flags(merchant_id: str) -> Response[str]:
        return respond(ops_catalog.get_flags(path_id("merchant_id", merchant_id), get_deps()))

    @router.delete("/ops/catalog/<merchant_id>/flags/<flag_id>")
    def _clear_catalog_flag(merchant_id: str, flag_id: str) -> Response[str]:
        merchant, flag = path_id("merchant_id", merchant_id), path_id("flag_id", flag_id)
        return respond(ops_catalog.clear_flag(merchant, flag, get_deps()))

    @router.put("/ops/catalog/<merchant_id>/items/<item_id>")
    def _set_stock_and_price(merchant_id: str, item_id: str) -> Response[str]:
        merchant, item = path_id("merchant_id", merchant_id), path_id("item_id", item_id)
        body = _ops_body(router)
        who = router.current_event.headers.get("X-Ops-User") or None
        return respond(ops_catalog.set_stock_and_price(merchant, item, body, get_deps(), set_by=who), 202)

    return router


def _record_routes() -> APIGatewayRouter:
    """``GET /ops/branches``, ``GET /ops/abandoned-carts`` (``.csv`` or ``?format=csv``) (``ops_records``)."""
    from orderbridge import ops_records

    router = _router()

    def _carts_csv(query: dict[str, str]) -> Response[str]:
        export = ops_records.export_abandoned_carts(query, get_deps())
        disposition = f'attachment; filename="{export.filename}"'
        headers = {"Content-Disposition": disposition}
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body=export.text, headers=headers)

    @router.get("/ops/branches")
    def _list_branches() -> Response[str]:
        return respond(ops_records.list_branches(_query(router), get_deps()), exclude_none=False)

    @router.get("/ops/abandoned-carts")
    def _list_abandoned_carts() -> Response[str]:
        if _query(router).get("format") == "csv":
            return _carts_csv(_query(router))
        return respond(ops_records.list_abandoned_carts(_query(router), get_deps()), exclude_none=False)

    @router.get("/ops/abandoned-carts.csv")
    def _export_abandoned_carts() -> Response[str]:
        return _carts_csv(_query(router))

    return router


def _resolved(app: APIGatewayRestResolver) -> Handler:
    def resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return _observed(resolve)


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
