"""The ops API's and the ops console's routes: many routes in one function each, so Powertools'
resolver (``web.resolver``) dispatches them — loaded by those two functions only, never by a webhook
(``entry``)."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from orderbridge.deps import get_deps
from orderbridge.web.path import path_id
from orderbridge.web.request import body_text
from orderbridge.web.resolver import make_resolver, respond


def ops_api_resolver() -> APIGatewayRestResolver:
    """The ops API (behind the ops authorizer: a signed-in person or an API key): the orders' routes
    (:func:`_order_routes`), the catalog's (:func:`_catalog_routes`) and the Blink records'
    (:func:`_record_routes`) and the configuration's (:func:`_config_routes`), one ``Router`` each."""
    app = make_resolver()
    for routes in (_order_routes(), _catalog_routes(), _record_routes(), _config_routes()):
        app.include_router(routes)
    return app


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
    ``POST .../resume``, ``.../retry`` and ``.../cancel`` (``ops``)."""
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

    @router.post("/ops/orders/<order_id>/cancel")
    def _cancel(order_id: str) -> Response[str]:
        from orderbridge.ops_config import caller

        order, body = path_id("order_id", order_id), _ops_body(router)
        return respond(ops.cancel_order(order, body, get_deps(), who=caller(router.current_event.raw_event)), 202)

    @router.get("/ops/orders")
    def _list_orders() -> Response[str]:
        return respond(ops.list_orders(_query(router), get_deps()), exclude_none=False)

    @router.get("/ops/orders/counts")
    def _count_orders() -> Response[str]:
        return respond(ops.count_orders(_query(router), get_deps()))

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


def _config_routes() -> APIGatewayRouter:
    """``GET|PUT /ops/config``, ``GET /ops/config/audit``, ``GET /ops/config/{kind}``,
    ``GET|PUT /ops/config/{kind}/{id}`` (``ops_config``)."""
    from orderbridge import ops_config

    router = _router()

    def _who() -> str:
        return ops_config.caller(router.current_event.raw_event)

    @router.get("/ops/config")
    def _get_config() -> Response[str]:
        return respond(ops_config.get_document(get_deps()))

    @router.put("/ops/config")
    def _put_config() -> Response[str]:
        dry_run = ops_config.dry_run_of(_query(router))
        return respond(ops_config.put_document(_ops_body(router), get_deps(), who=_who(), dry_run=dry_run))

    @router.get("/ops/config/audit")
    def _config_audit() -> Response[str]:
        return respond(ops_config.get_audit(_query(router), get_deps()), exclude_none=False)

    @router.get("/ops/config/<kind>")
    def _list_config(kind: str) -> Response[str]:
        return respond(ops_config.list_records(path_id("kind", kind), get_deps()))

    @router.get("/ops/config/<kind>/<record_id>")
    def _get_config_record(kind: str, record_id: str) -> Response[str]:
        found = ops_config.get_record(path_id("kind", kind), path_id("id", unquote(record_id)), get_deps())
        return respond(found)

    @router.put("/ops/config/<kind>/<record_id>")
    def _put_config_record(kind: str, record_id: str) -> Response[str]:
        dry_run = ops_config.dry_run_of(_query(router))
        kind, record_id = path_id("kind", kind), path_id("id", unquote(record_id))
        body = _ops_body(router)
        return respond(ops_config.put_record(kind, record_id, body, get_deps(), who=_who(), dry_run=dry_run))

    return router


def console_resolver() -> APIGatewayRestResolver:
    """The ops console's page and assets (``web.console``), public — the data comes from the ops
    API with the person's token."""
    from orderbridge.web import console

    app = make_resolver()

    def _answer(found: console.ConsoleAnswer) -> Response[str]:
        return Response(found.status_code, found.content_type, found.body, found.headers)

    @app.get("/console")  # and "/console/": Powertools matches a path with or without its trailing slash
    def _page() -> Response[str]:
        return _answer(console.page(app.current_event.raw_event))

    @app.get("/console/config.json")  # before <name>: the first route that matches answers
    def _config() -> Response[str]:
        from orderbridge.web.console_config import config_response

        return config_response(app.current_event.raw_event)

    @app.get("/console/<name>")
    def _file(name: str) -> Response[str]:
        version = app.current_event.get_query_string_value("v", "") or None
        if_none_match = app.current_event.headers.get("If-None-Match") or app.current_event.headers.get("if-none-match")
        return _answer(console.file(name, version=version, if_none_match=if_none_match))

    return app
