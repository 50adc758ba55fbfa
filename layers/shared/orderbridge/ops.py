"""The ops API: read an order with its lifecycle and timeline, list orders by lifecycle state,
status, branch or day, resume a failed order, retry one that needed a person after fixing it, and
fix what a person can fix on an order (the customer's delivery address, contact).

API Gateway enforces the API key (``X-Api-Key``, a usage plan in template.yaml) before these
run; the local stack enforces the same key.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from orderbridge.deps import Deps
from orderbridge.errors import BadRequest, Conflict, FieldError, NotFound, ServiceUnavailable
from orderbridge.models.base import OurModel
from orderbridge.models.config import BlinkAddress
from orderbridge.models.order import (
    FINAL_STATES,
    Failure,
    Lifecycle,
    Order,
    OrderIdentity,
    OrderState,
    OrderStatus,
    TimelineEntry,
    TimelineEvent,
    Tracks,
)
from orderbridge.store.orders import shown_state
from orderbridge.web.paging import decode_cursor, encode_cursor, of_index, page_limit
from orderbridge.web.request import parse_json, parse_model


class OrderDetail(OurModel):
    order_id: str
    state: OrderState  # the lifecycle a person reads (see models.order.OrderState)
    step: str | None = None  # in_progress / stuck: what the workflow waits on
    deadline: str | None = None
    # failed / needs_attention / stuck (syncs.stuck_orders): step, error kind, vendor, HTTP status, message
    failure: Failure | None = None
    status: str
    tracks: Tracks
    order: Order
    timeline: list[TimelineEntry]


class OrderSummary(OrderIdentity):
    """One row of the order list: the order's identity, its lifecycle and its tracks."""

    state: OrderState
    step: str | None = None
    failure: Failure | None = None
    order_type: str | None = None
    blink_order_id: str | None = None
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
    life = view.lifecycle
    return OrderDetail(
        order_id=order_id,
        state=shown_state(life, deps.clock()),
        step=life.step,
        deadline=life.deadline.isoformat() if life.deadline else None,
        failure=life.failure,
        status=view.tracks.status,
        tracks=view.tracks,
        order=view.order,
        timeline=view.timeline,
    )


class WorkflowResumed(OurModel):
    order_id: str
    execution: str


RESUMABLE = frozenset(
    {OrderState.FAILED, OrderState.STUCK, OrderState.NEEDS_ATTENTION, OrderState.IN_PROGRESS, OrderState.RECEIVED}
)


def resume_workflow(
    order_id: str, deps: Deps, *, only_from: frozenset[OrderState] = RESUMABLE, why: str = "resumed"
) -> WorkflowResumed:
    """Start the order's workflow again from the top, after a failure has been dealt with.

    The new execution continues from the order's real state: every step looks at what the order
    and the vendors already have (a rent, a courier job, Blink's status) and adopts it, books again
    what was released, and sends nothing twice. Refused (409) while an execution of the order is
    still running, and for an order that has ended.
    """
    view = deps.orders.get(order_id)
    if view is None:
        raise NotFound(f"no order {order_id!r}", errors=[FieldError("order_id", "not found")])
    state = shown_state(view.lifecycle, deps.clock())
    if state not in only_from:
        raise Conflict(
            f"order {order_id!r} is {state.value}",
            errors=[
                FieldError(
                    "state", f"is {state.value}; this needs one of {', '.join(sorted(s.value for s in only_from))}"
                )
            ],
        )
    try:
        resumes = deps.orders.count_resume(order_id)
        last = order_id if resumes == 1 else f"{order_id}-r{resumes - 1}"
        running = deps.workflow.status(last) == "RUNNING"
        if running:
            deps.orders.count_resume(order_id, undo=True)
            raise Conflict(
                f"the workflow of order {order_id!r} is still running",
                errors=[FieldError("order_id", f"execution {last} is running")],
            )
        name = f"{order_id}-r{resumes}"
        now = deps.clock()
        deps.orders.set_state(order_id, Lifecycle(state=OrderState.IN_PROGRESS, step=why, at=now), unless=FINAL_STATES)
        if not deps.workflow.start(order_id, name=name):
            raise ServiceUnavailable(f"execution {name} already exists")
    except ServiceUnavailable as error:  # DynamoDB or Step Functions, as the store and its gateway say
        raise ServiceUnavailable("could not resume the workflow; please retry") from error
    return WorkflowResumed(order_id=order_id, execution=name)


def retry_order(order_id: str, deps: Deps) -> WorkflowResumed:
    """Retry an order that needed a person, once they fixed what its failure said (mapped the item,
    entered the address): its workflow starts again and re-reads the configuration."""
    return resume_workflow(order_id, deps, only_from=frozenset({OrderState.NEEDS_ATTENTION}), why="retried")


class OrderEdit(OurModel):
    """What a person may fix on an order before retrying it."""

    delivery_address: BlinkAddress | None = None
    customer_name: str | None = Field(default=None, min_length=1, max_length=200)
    customer_phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 \-]{5,30}$")
    customer_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class OrderEdited(OurModel):
    order_id: str
    changed: list[str]


def edit_order(order_id: str, body: str, deps: Deps) -> OrderEdited:
    """Fix fields of an order (``PATCH /ops/orders/{id}``); kept on its timeline (which fields,
    never the values: they are personal data)."""
    edit = parse_model(OrderEdit, parse_json(body))
    found = deps.orders.load(order_id)
    if found is None:
        raise NotFound(f"no order {order_id!r}", errors=[FieldError("order_id", "not found")])
    order, _ = found
    fields: dict[str, Any] = {}
    if edit.delivery_address is not None:
        fields["delivery_address"] = edit.delivery_address.model_dump()
    customer = {
        k: v
        for k, v in {"name": edit.customer_name, "phone": edit.customer_phone, "email": edit.customer_email}.items()
        if v is not None
    }
    if customer:
        fields["customer"] = order.customer.model_copy(update=customer).model_dump()
    if not fields:
        raise BadRequest("nothing to change", errors=[FieldError("body", "give at least one field to change")])
    changed = sorted(
        [*(["delivery_address"] if "delivery_address" in fields else []), *(f"customer.{k}" for k in customer)]
    )
    now = deps.clock()
    event = TimelineEvent(
        event_key=f"ops:edit:{now.isoformat()}",
        source="ops",
        kind="order_edited",
        received_at=now,
        summary="edited by a person: " + ", ".join(changed),
        detail={"changed": changed},
    )
    deps.orders.link_vendor(order_id, event, fields=fields)
    return OrderEdited(order_id=order_id, changed=changed)


def list_orders(query: dict[str, str], deps: Deps) -> OrderList:
    errors: list[FieldError] = []
    state = query.get("state") or None
    if state and state not in {s.value for s in OrderState}:
        errors.append(FieldError("state", f"one of {', '.join(s.value for s in OrderState)}"))
    status = query.get("status") or None
    if status and status not in {s.value for s in OrderStatus}:
        errors.append(FieldError("status", f"one of {', '.join(s.value for s in OrderStatus)}"))
    day = query.get("date") or None
    if day:
        try:
            date.fromisoformat(day)
        except ValueError:
            errors.append(FieldError("date", "a date as YYYY-MM-DD"))
    limit = page_limit(query, errors)
    cursor = decode_cursor(query.get("cursor"), errors)
    if errors:
        raise BadRequest("invalid query", errors=errors)
    branch = query.get("branch") or None
    if not (status or branch or state):
        day = day or deps.clock().date().isoformat()
    if cursor is not None and not of_index(cursor, *_listed_index(state, branch, status, day), "created_key"):
        raise BadRequest("invalid query", errors=[FieldError("cursor", "not a cursor of this listing")])
    rows, last_key = deps.orders.list(
        state=OrderState(state) if state else None,
        now=deps.clock(),
        status=status,
        branch=branch,
        day=day,
        limit=limit,
        cursor=cursor,
    )
    filters = {k: v for k, v in {"state": state, "status": status, "branch": branch, "date": day}.items() if v}
    return OrderList(
        orders=[OrderSummary.model_validate(_strings(r)) for r in rows],
        next_cursor=encode_cursor(last_key),
        filters=filters,
    )


def _listed_index(state: str | None, branch: str | None, status: str | None, day: str | None) -> tuple[str, str]:
    """The partition of the index a listing reads (as ``store.orders._list_query`` chooses it)."""
    if state:
        running = state in (OrderState.STUCK.value, OrderState.IN_PROGRESS.value)
        return "state", OrderState.IN_PROGRESS.value if running else state
    if branch:
        return "branch_id", branch
    if status:
        return "status", status
    return "created_day", day or ""


def _strings(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if v is None or isinstance(v, str | dict | Failure) else str(v)) for k, v in row.items()}
