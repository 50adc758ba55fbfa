"""The ops API: read an order with its timeline, list orders by status, branch or day.

API Gateway enforces the API key (``X-Api-Key``, a usage plan in template.yaml) before these
run; the local stack enforces the same key.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from orderbridge.deps import Deps
from orderbridge.errors import BadRequest, Conflict, FieldError, NotFound, ServiceUnavailable
from orderbridge.models.base import OurModel
from orderbridge.models.order import Order, OrderStatus


class OrderDetail(OurModel):
    order_id: str
    status: str
    tracks: dict[str, Any]
    order: Order
    timeline: list[dict[str, Any]]


class OrderSummary(OurModel):
    order_id: str
    source: str
    source_order_id: str
    partner_id: str | None = None
    merchant_id: str
    branch_id: str
    status: str
    courier_status: str | None = None
    rent_state: str | None = None
    received_at: str
    updated_at: str | None = None


class OrderList(OurModel):
    orders: list[OrderSummary]
    next_cursor: str | None = None
    filters: dict[str, str] = Field(default_factory=dict)


def get_order(order_id: str, deps: Deps, *, include_raw: bool = False) -> OrderDetail:
    view = deps.orders.get(order_id, include_raw=include_raw)
    if view is None:
        raise NotFound(f"no order {order_id!r}", errors=[FieldError("order_id", "not found")])
    return OrderDetail(
        order_id=order_id,
        status=view.tracks["status"],
        tracks=view.tracks,
        order=view.order,
        timeline=view.timeline,
    )


class WorkflowResumed(OurModel):
    order_id: str
    execution: str


def resume_workflow(order_id: str, deps: Deps, stepfunctions: Any) -> WorkflowResumed:
    """Start the order's workflow again from the top, after a failure has been dealt with.

    Every vendor step is idempotent (a step that already succeeded returns its recorded answer),
    so the new execution walks quickly through what was done and carries on where the last one
    stopped. Refused (409) while an execution of the order is still running.
    """
    if deps.orders.load(order_id) is None:
        raise NotFound(f"no order {order_id!r}", errors=[FieldError("order_id", "not found")])
    arn = deps.settings.order_workflow_arn
    execution_prefix = arn.replace(":stateMachine:", ":execution:") + ":"
    try:
        resumes = deps.orders.count_resume(order_id)
        last = order_id if resumes == 1 else f"{order_id}-r{resumes - 1}"
        running = _status(stepfunctions, execution_prefix + last) == "RUNNING"
        if running:
            deps.orders.count_resume(order_id, undo=True)
            raise Conflict(f"the workflow of order {order_id!r} is still running", errors=[
                FieldError("order_id", f"execution {last} is running")])
        name = f"{order_id}-r{resumes}"
        stepfunctions.start_execution(stateMachineArn=arn, name=name, input=json.dumps({"order_id": order_id}))
    except (ClientError, BotoCoreError) as error:
        raise ServiceUnavailable("could not resume the workflow; please retry") from error
    return WorkflowResumed(order_id=order_id, execution=name)


def _status(stepfunctions: Any, execution_arn: str) -> str | None:
    try:
        return stepfunctions.describe_execution(executionArn=execution_arn)["status"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return None
        raise


def list_orders(query: dict[str, str], deps: Deps) -> OrderList:
    errors: list[FieldError] = []
    status = query.get("status") or None
    if status and status not in {s.value for s in OrderStatus}:
        errors.append(FieldError("status", f"one of {', '.join(s.value for s in OrderStatus)}"))
    day = query.get("date") or None
    if day:
        try:
            date.fromisoformat(day)
        except ValueError:
            errors.append(FieldError("date", "a date as YYYY-MM-DD"))
    try:
        limit = int(query.get("limit", "50"))
        if not 1 <= limit <= 200:
            raise ValueError
    except ValueError:
        errors.append(FieldError("limit", "a whole number from 1 to 200"))
        limit = 50
    cursor = _decode_cursor(query.get("cursor"), errors)
    if errors:
        raise BadRequest("invalid query", errors=errors)
    branch = query.get("branch") or None
    if not (status or branch):
        day = day or deps.clock().date().isoformat()
    rows, last_key = deps.orders.list(status=status, branch=branch, day=day, limit=limit, cursor=cursor)
    filters = {k: v for k, v in {"status": status, "branch": branch, "date": day}.items() if v}
    return OrderList(
        orders=[OrderSummary.model_validate(_strings(r)) for r in rows],
        next_cursor=_encode_cursor(last_key),
        filters=filters,
    )


def _strings(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if v is None or isinstance(v, str) else str(v)) for k, v in row.items()}


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str | None, errors: list[FieldError]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(key, dict):
            raise ValueError
        return key
    except (ValueError, binascii.Error):
        errors.append(FieldError("cursor", "not a cursor this API returned"))
        return None
