"""The ops API: read an order with its lifecycle and timeline, list orders by lifecycle state,
status, branch or day, resume a failed order, retry one that needed a person after fixing it, and
fix what a person can fix on an order (the customer's delivery address, contact).

API Gateway enforces the API key (``X-Api-Key``, a usage plan in template.yaml) before these
run; the local stack enforces the same key.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator

from orderbridge.deps import Deps
from orderbridge.domain.ids import order_id_for
from orderbridge.domain.statuses import TrackUpdate, new_courier_job
from orderbridge.errors import BadRequest, Conflict, FieldError, NotFound, ServiceUnavailable
from orderbridge.models.base import OurModel
from orderbridge.models.config import BlinkAddress, Partner
from orderbridge.models.order import (
    FINAL_STATES,
    CancelRequest,
    Failure,
    Lifecycle,
    Order,
    OrderIdentity,
    OrderSource,
    OrderState,
    OrderStatus,
    TimelineEntry,
    TimelineEvent,
    Tracks,
)
from orderbridge.models.states import TaskEvent
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
    # what a person may do with it now (``POST /ops/orders/{id}/<action>``): see :func:`actions_for`
    actions: list[str] = Field(default_factory=list)


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


class OrderCounts(OurModel):
    """How many of a day's orders are in each lifecycle state (``GET /ops/orders/counts``)."""

    date: str
    states: dict[str, int]
    filters: dict[str, str] = Field(default_factory=dict)


def actions_for(state: OrderState) -> list[str]:
    """The ops actions that fit an order in ``state``: ``retry`` once a person fixed what it
    needed (needs attention), ``resume`` for one that failed, is stuck or never got going,
    ``cancel`` for every order that has not ended."""
    actions = ["retry"] if state is OrderState.NEEDS_ATTENTION else []
    if state in RESUMABLE and state is not OrderState.NEEDS_ATTENTION:
        actions.append("resume")
    if state not in FINAL_STATES:
        actions.append("cancel")
    return actions


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
        actions=actions_for(shown_state(life, deps.clock())),
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


class CancelAsked(OurModel):
    """``POST /ops/orders/{id}/cancel``'s body: why the order is cancelled (Blink's rejection
    comment, and the order's timeline)."""

    reason: str = Field(min_length=1, max_length=500)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the reason: Blink requires a comment when an order is rejected")
        return value.strip()


class OrderCancelling(OurModel):
    """The cancel is under way: ``execution`` takes the workflow's cancel path — the running one
    (its open wait ends at once, or its next wait does) or one ``started`` for it. ``courier``: a
    courier job to cancel at the courier by hand (neither courier's API offers a cancel)."""

    order_id: str
    execution: str
    started: bool
    courier: str | None = None


# Neither courier's API has a cancel: Blink Logistics offers create, update and status of a task,
# DispatchNINJA orders/add and orders/details (vendor docs; docs/vendor-assumptions.md).
_COURIER_GONE = frozenset({"TASK_CANCELLED", "TASK_FINISHED"})


def cancel_order(order_id: str, body: str, deps: Deps, *, who: str) -> OrderCancelling:
    """Cancel an order that has not ended (``POST /ops/orders/{id}/cancel``), by the workflow.

    The request is recorded on the order (``cancel_request``, with the reason and ``who``, and on
    its timeline): an open wait settles with ``OrderCancelled`` (the order stream judges it like a
    track's move; a wait registered later judges it at once) and the workflow's cancel path tells
    Blink rejected (4) with the reason, releases the locker and ends the order ``cancelled``. When
    no execution runs (failed, needs attention, stuck after its execution ended), one is started
    (``<order id>-r<n>``) whose plan goes straight to that path. 409 for an order that has ended.
    """
    asked = parse_model(CancelAsked, parse_json(body))
    view = deps.orders.get(order_id)
    if view is None:
        raise NotFound(f"no order {order_id!r}", errors=[FieldError("order_id", "not found")])
    now = deps.clock()
    state = shown_state(view.lifecycle, now)
    if state in FINAL_STATES:
        raise Conflict(f"order {order_id!r} is {state.value}", errors=[FieldError("state", _ENDED.format(state.value))])
    event = TimelineEvent(
        event_key=f"ops:cancel:{now.isoformat()}",
        source="ops",
        kind="cancel_requested",
        received_at=now,
        summary=f"cancel asked by {who}: {asked.reason}",
        detail={"reason": asked.reason, "by": who},
    )
    request = CancelRequest(reason=asked.reason, by=who, at=now)
    try:
        if not deps.orders.request_cancel(order_id, request, event, ended=FINAL_STATES):
            raise Conflict(f"order {order_id!r} has ended", errors=[FieldError("state", _ENDED.format("ended"))])
        execution, started = _cancelling_execution(order_id, deps, pre_order=view.lifecycle.step == "due_time")
    except ServiceUnavailable as error:  # DynamoDB or Step Functions, as the store and its gateway say
        raise ServiceUnavailable("could not cancel the order; please retry (asking again is safe)") from error
    courier = None
    job = view.order.blink_logistics_task_id or view.order.dispatchninja_order_id
    if job and view.tracks.courier_status not in _COURIER_GONE:
        name = "Blink Logistics" if view.order.blink_logistics_task_id else "DispatchNINJA"
        courier = f"courier job {job}: {name}'s API offers no cancel; cancel it in its portal"
    return OrderCancelling(order_id=order_id, execution=execution, started=started, courier=courier)


_ENDED = "is {}: an order that has ended cannot be cancelled"


def _cancelling_execution(order_id: str, deps: Deps, *, pre_order: bool) -> tuple[str, bool]:
    """The execution that takes the cancel path: the order's running one, else a new one. A
    pre-order's execution waiting for its start time (a ``Wait`` state: no wait of ours to settle,
    and at its end it would book a locker and a courier first) is stopped and a new one started."""
    resumes = deps.orders.count_resume(order_id)
    last = order_id if resumes == 1 else f"{order_id}-r{resumes - 1}"
    if deps.workflow.status(last) == "RUNNING":
        if not pre_order:
            deps.orders.count_resume(order_id, undo=True)
            return last, False
        deps.workflow.stop(last, error="OrderCancelled", cause="cancelled by a person before its start time")
    name = f"{order_id}-r{resumes}"
    lifecycle = Lifecycle(state=OrderState.IN_PROGRESS, step="cancelling", at=deps.clock())
    deps.orders.set_state(order_id, lifecycle, unless=FINAL_STATES)
    if not deps.workflow.start(order_id, name=name):
        raise ServiceUnavailable(f"execution {name} already exists")
    return name, True


class OrderEdit(OurModel):
    """What a person may fix on an order before retrying it."""

    delivery_address: BlinkAddress | None = None
    customer_name: str | None = Field(default=None, min_length=1, max_length=200)
    customer_phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 \-]{5,30}$")
    customer_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    checked_at_vendor: VendorCheck | None = None


class VendorCheck(OurModel):
    """What a person found at a vendor about a call whose outcome was unknown (the order's failure
    names it: DispatchNINJA's ``orders/add``, Blink's ``submitOrder``): ``found_id`` is the vendor's
    id of what the call made (it is linked to the order), absent when the vendor has nothing (the
    call may be sent again on retry)."""

    call: Literal["dispatchninja_add", "blink_submit"]
    found_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")


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
    if not fields and edit.checked_at_vendor is None:
        raise BadRequest("nothing to change", errors=[FieldError("body", "give at least one field to change")])
    changed = sorted(
        [*(["delivery_address"] if "delivery_address" in fields else []), *(f"customer.{k}" for k in customer)]
    )
    alias, follow = None, None
    if edit.checked_at_vendor is not None:
        alias, follow = _checked_at_vendor(order_id, edit.checked_at_vendor, fields, deps)
        changed.append(f"checked_at_vendor.{edit.checked_at_vendor.call}")
    now = deps.clock()
    event = TimelineEvent(
        event_key=f"ops:edit:{now.isoformat()}",
        source="ops",
        kind="order_edited",
        received_at=now,
        summary="edited by a person: " + ", ".join(changed),
        detail={"changed": changed},
    )
    deps.orders.link_vendor(order_id, event, fields=fields, alias=alias, follow=follow)
    return OrderEdited(order_id=order_id, changed=changed)


# A call in doubt → the order's field and the alias source its vendor id is kept under.
_FOUND_AT_VENDOR = {
    "dispatchninja_add": ("dispatchninja_order_id", "dispatchninja"),
    "blink_submit": ("blink_order_id", "blink"),
}


def _checked_at_vendor(
    order_id: str, check: VendorCheck, fields: dict[str, Any], deps: Deps
) -> tuple[tuple[str, str] | None, TrackUpdate | None]:
    """Apply what a person found at the vendor: nothing there → the call's mark is cleared (a retry
    sends it); found → its id joins ``fields`` (with the alias, and for a delivery the courier job)."""
    if check.found_id is None:
        deps.orders.clear_send(order_id, check.call)
        return None, None
    field, source = _FOUND_AT_VENDOR[check.call]
    fields[field] = check.found_id
    follow = new_courier_job(check.found_id, TaskEvent.TASK_CREATED) if check.call == "dispatchninja_add" else None
    return (source, check.found_id), follow


MAX_SEARCH = 100


def find_orders(text: str, deps: Deps) -> OrderList:
    """The orders any id names (``GET /ops/orders?q=``): ours, Blink's order id (a Blink order,
    or a partner order we submitted to Blink), a partner's order id (any configured partner), a
    Blink Logistics task, a DispatchNINJA order, a Bloq.It rent."""
    text = text.strip()
    if not text or len(text) > MAX_SEARCH:
        raise BadRequest("invalid query", errors=[FieldError("q", f"an id of 1 to {MAX_SEARCH} characters")])
    partners = [partner.partner_id for partner in deps.config.records(Partner)]
    order_ids = [text, order_id_for(OrderSource.BLINK.value, text)]
    order_ids += [order_id_for(f"{OrderSource.PARTNER.value}:{partner}", text) for partner in partners]
    aliases = [(source, text) for source in (OrderSource.BLINK.value, "blink_logistics", "dispatchninja")]
    rows = deps.orders.find(order_ids, aliases, rents=deps.rents, rent_id=text, now=deps.clock())
    return OrderList(orders=[OrderSummary.model_validate(_strings(r)) for r in rows], filters={"q": text})


def count_orders(query: dict[str, str], deps: Deps) -> OrderCounts:
    """How many of a day's orders (``date``, default today) are in each state, of one ``branch``
    or ``source`` when given."""
    errors: list[FieldError] = []
    day = _day(query, errors) or deps.clock().date().isoformat()
    source = _source(query, errors)
    if errors:
        raise BadRequest("invalid query", errors=errors)
    branch = query.get("branch") or None
    counts = deps.orders.count_states(day, deps.clock(), branch=branch, source=source)
    filters = {k: v for k, v in {"branch": branch, "source": source}.items() if v}
    return OrderCounts(date=day, states={state.value: n for state, n in counts.items()}, filters=filters)


def _day(query: dict[str, str], errors: list[FieldError]) -> str | None:
    day = query.get("date") or None
    if day:
        try:
            date.fromisoformat(day)
        except ValueError:
            errors.append(FieldError("date", "a date as YYYY-MM-DD"))
            return None
    return day


def _source(query: dict[str, str], errors: list[FieldError]) -> str | None:
    source = query.get("source") or None
    if source and source not in {s.value for s in OrderSource}:
        errors.append(FieldError("source", f"one of {', '.join(s.value for s in OrderSource)}"))
    return source


def list_orders(query: dict[str, str], deps: Deps) -> OrderList:
    if query.get("q") is not None:
        return find_orders(query["q"], deps)
    errors: list[FieldError] = []
    state = query.get("state") or None
    if state and state not in {s.value for s in OrderState}:
        errors.append(FieldError("state", f"one of {', '.join(s.value for s in OrderState)}"))
    status = query.get("status") or None
    if status and status not in {s.value for s in OrderStatus}:
        errors.append(FieldError("status", f"one of {', '.join(s.value for s in OrderStatus)}"))
    day = _day(query, errors)
    source = _source(query, errors)
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
        source=source,
        limit=limit,
        cursor=cursor,
    )
    shown = {"state": state, "status": status, "branch": branch, "date": day, "source": source}
    filters = {k: v for k, v in shown.items() if v}
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
