"""The inbound API as an OpenAPI 3.1 document (``docs/openapi.json``), generated from the models the
handlers validate with — the vendors' webhook payloads and the ops API's bodies — and the routes
``template.yaml`` gives API Gateway.

    .venv/bin/python -m orderbridge_local.openapi        # rewrite docs/openapi.json

``tests/unit/test_openapi.py`` fails when the file is not this module's output, or when a route of
the template is not in it; the reliability suite fuzzes every operation from it
(``tests/reliability/test_fuzz_openapi.py``, schemathesis).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orderbridge.domain.config_changes import KIND_MODELS
from orderbridge.models.blend import BlendAnswer, BlendOrderCreated
from orderbridge.models.blink_logistics import TaskStatusWebhook
from orderbridge.models.blink_webhooks import BlinkOrderStatusWebhook, BlinkOrderWebhook
from orderbridge.models.bloqit_webhooks import BloqWebhookEvent
from orderbridge.models.catalog import StockAndPriceChange
from orderbridge.models.config import ConfigDocument
from orderbridge.ops import (
    CancelAsked,
    OrderCancelling,
    OrderCounts,
    OrderDetail,
    OrderEdit,
    OrderEdited,
    OrderList,
    WorkflowResumed,
)
from orderbridge.web.answers import ErrorAnswer
from orderbridge.webhooks.answers import WebhookAck
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "openapi.json"
TEMPLATE = ROOT / "template.yaml"


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers, beyond its path: its body's model, its answer's model,
    its query parameters (name → description) and how the caller is authenticated."""

    summary: str
    body: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    query: dict[str, str] = field(default_factory=dict)
    security: str = "ops"
    body_schema: dict[str, Any] | None = None  # when the body is one of several models


_WEBHOOK = "webhookToken"
_PAGING = {"limit": "page size (1-100)", "cursor": "the previous page's next_cursor"}
_RECORD = {"oneOf": [{"$ref": f"#/components/schemas/{m.__name__}"} for m in KIND_MODELS.values()]}

# Every route of the API (template.yaml's Api events; the console's own assets are not API).
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("post", "/webhooks/blink/orders"): Operation("Blink's Order Webhook", BlinkOrderWebhook, WebhookAck, {}, _WEBHOOK),
    ("post", "/webhooks/blink/order-status"): Operation(
        "Blink's Order Status Webhook", BlinkOrderStatusWebhook, WebhookAck, {}, _WEBHOOK
    ),
    ("post", "/webhooks/blink/logistics/task-status"): Operation(
        "Blink Logistics' task status webhook", TaskStatusWebhook, WebhookAck, {}, _WEBHOOK
    ),
    ("post", "/webhooks/partners/{partner}/orders"): Operation(
        "A delivery partner's order (Blend order_created)", BlendOrderCreated, BlendAnswer, {}, _WEBHOOK
    ),
    ("post", "/webhooks/bloq"): Operation(
        "Bloq.It's webhook callback", BloqWebhookEvent, WebhookAck, {}, "bloqSignature"
    ),
    ("get", "/ops/orders"): Operation(
        "List orders, newest first, or find them by any id",
        answer=OrderList,
        query={
            "q": "any id: ours, Blink's, the partner's, a courier task, a rent",
            "state": "lifecycle state",
            "status": "Blink's status",
            "branch": "our branch id",
            "date": "the day (YYYY-MM-DD, UTC)",
            "source": "blink or partner",
            **_PAGING,
        },
    ),
    ("get", "/ops/orders/counts"): Operation(
        "Orders per lifecycle state", answer=OrderCounts, query={"date": "the day", "branch": "", "source": ""}
    ),
    ("get", "/ops/orders/{order_id}"): Operation("One order", answer=OrderDetail, query={"include": "raw"}),
    ("patch", "/ops/orders/{order_id}"): Operation("Fix an order before a retry", OrderEdit, OrderEdited),
    ("post", "/ops/orders/{order_id}/resume"): Operation("Resume a failed or stuck order", answer=WorkflowResumed),
    ("post", "/ops/orders/{order_id}/retry"): Operation("Retry an order that needed attention", answer=WorkflowResumed),
    ("post", "/ops/orders/{order_id}/cancel"): Operation("Cancel an order", CancelAsked, OrderCancelling),
    ("get", "/ops/branches"): Operation("Branches", query={"merchant": "", "flag": "", **_PAGING}),
    ("get", "/ops/abandoned-carts"): Operation(
        "Abandoned carts", query={"merchant": "", "from": "", "to": "", "format": "csv", **_PAGING}
    ),
    ("get", "/ops/abandoned-carts.csv"): Operation(
        "Abandoned carts as CSV", query={"merchant": "", "from": "", "to": ""}
    ),
    ("get", "/ops/catalog/{merchant_id}"): Operation("The merchant's catalog", query={"include": "removed"}),
    ("get", "/ops/catalog/{merchant_id}/history"): Operation("The catalog's history", query={"item_id": "", **_PAGING}),
    ("get", "/ops/catalog/{merchant_id}/flags"): Operation("Mappings to look at"),
    ("delete", "/ops/catalog/{merchant_id}/flags/{flag_id}"): Operation("Clear a flag"),
    ("put", "/ops/catalog/{merchant_id}/items/{item_id}"): Operation("Change stock and price", StockAndPriceChange),
    ("get", "/ops/config"): Operation("The whole configuration", answer=ConfigDocument),
    ("put", "/ops/config"): Operation("Apply a configuration document", ConfigDocument, query={"dry_run": "true"}),
    ("get", "/ops/config/audit"): Operation("Who changed what, when", query=_PAGING),
    ("get", "/ops/config/{kind}"): Operation("The records of one kind"),
    ("get", "/ops/config/{kind}/{id}"): Operation("One record"),
    ("put", "/ops/config/{kind}/{id}"): Operation(
        "Add or change one record", query={"dry_run": "true"}, body_schema=_RECORD
    ),
}


def template_routes() -> set[tuple[str, str]]:
    """(method, path) of every Api event of the template, except the console's assets."""
    resources = yaml_parse(TEMPLATE.read_text())["Resources"]
    routes = set()
    for resource in resources.values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            props = event.get("Properties", {})
            if event.get("Type") == "Api" and not str(props.get("Path", "")).startswith("/console"):
                routes.add((str(props["Method"]).lower(), str(props["Path"])))
    return routes


def _schemas() -> dict[str, Any]:
    models = {op.body for op in OPERATIONS.values() if op.body} | {op.answer for op in OPERATIONS.values() if op.answer}
    models |= {ErrorAnswer, *KIND_MODELS.values()}
    ordered = sorted(models, key=lambda m: m.__name__)
    _, definitions = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    return dict(sorted(definitions.get("$defs", {}).items()))


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(method: str, path: str, op: Operation) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 128}}
        for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
        for name, text in op.query.items()
    ]
    errors = {"content": {"application/json": {"schema": _ref(ErrorAnswer)}}}
    answers: dict[str, Any] = {
        "200": {
            "description": "done",
            **({"content": {"application/json": {"schema": _ref(op.answer)}}} if op.answer else {}),
        },
        "400": {"description": "the request cannot be read (field-level reasons)", **errors},
        "404": {"description": "not found", **errors},
        "422": {"description": "the request is read but refused (field-level reasons)", **errors},
        "503": {"description": "our side failed: retry", **errors},
    }
    if op.security != "ops":
        answers["401"] = {"description": "not authenticated"}
    out: dict[str, Any] = {
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "summary": op.summary,
        "security": [{op.security: []}] if op.security != "ops" else [{"opsApiKey": []}, {"opsBearer": []}],
        "responses": answers,
    }
    if params:
        out["parameters"] = params
    schema = op.body_schema or (_ref(op.body) if op.body else None)
    if schema is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return out


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in sorted(OPERATIONS.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        paths.setdefault(path, {})[method] = _operation(method, path, op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Orderbridge inbound API",
            "version": "1",
            "description": "The vendors' webhooks and the ops API, generated from the models the handlers validate "
            "with (local/orderbridge_local/openapi.py). Webhooks authenticate with the sender's token (X-Webhook-Token "
            "or ?token=), Bloq.It with its signature; the ops API with an API key (machines) or a Cognito ID token.",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "webhookToken": {"type": "apiKey", "in": "header", "name": "X-Webhook-Token"},
                "bloqSignature": {"type": "apiKey", "in": "header", "name": "x-bloq-signature"},
                "opsApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "opsBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT} ({len(OPERATIONS)} operations)")
