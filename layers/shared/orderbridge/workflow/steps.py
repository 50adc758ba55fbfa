"""The workflow's own steps (no vendor calls): plan the order, park on a wait, check the collect
deadline, record how the order's workflow ended. Each runs in its own Lambda
(functions/plan_order, register_wait, check_collect_deadline, record_workflow_outcome) through
``entry.action_handler``, so inputs and outputs are models like every action's.

Each step also keeps the order's lifecycle (``state``, ``step``, ``deadline``, ``failure``) that
the ops API shows a person: planning and every wait put it ``in_progress`` with what it waits on,
the outcome puts it in its end state, ``failed`` or ``needs_attention`` with a one-line failure.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ConfigDict, Field

from orderbridge.actions.common import ActionRefused, OrderCancelled, OrderInput, our_event, require_order
from orderbridge.actions.runtime import action
from orderbridge.deps import Deps
from orderbridge.domain import locker_rules
from orderbridge.domain.plan import FINAL_STATE, OrderPath, OrderPlan, PlanRefused, plan
from orderbridge.domain.waits import WaitKind
from orderbridge.models.base import OurModel
from orderbridge.models.order import FINAL_STATES, Failure, Lifecycle, Order, OrderSource, OrderState, Tracks
from orderbridge.observability import logger, metrics
from orderbridge.workflow.signals import Signaller
from orderbridge.workflow.unmatched import replay_for

# A wait still open this long after its deadline means the workflow did not react: stuck.
STUCK_GRACE = timedelta(seconds=30)
# How long after a rent's expiry the workflow waits for Bloq.It's rent.expired before it gives up.
EXPIRY_GRACE = timedelta(minutes=10)


def _in_progress(deps: Deps, order_id: str, step: str, seconds: float) -> None:
    """The order is being worked on, waiting on ``step`` for at most ``seconds``."""
    now = deps.clock()
    deps.orders.set_state(
        order_id,
        Lifecycle(
            state=OrderState.IN_PROGRESS, step=step, at=now, deadline=now + timedelta(seconds=seconds) + STUCK_GRACE
        ),
        unless=FINAL_STATES,
    )


# -- plan ----------------------------------------------------------------------------------------


@action(idempotent=False)
def plan_order(*, request: OrderInput, deps: Deps) -> OrderPlan:
    """Decide the order's path (``domain.plan``). What cannot be planned needs a person; an order
    a person asked to cancel goes to the cancel path (an execution started by ``ops.cancel_order``
    for an order that had none running)."""
    order, tracks = require_order(deps, request.order_id)
    if tracks.cancel_request is not None:
        raise OrderCancelled(f"order {order.order_id} was cancelled by a person: taking the cancel path")
    branch = deps.config.branch(order.branch_id)
    if branch is None:
        raise ActionRefused(f"branch {order.branch_id!r} is not configured")
    partner = None
    if order.source is OrderSource.PARTNER and order.partner_id:
        partner = deps.config.partner(order.partner_id)
        if partner is None:
            raise ActionRefused(f"partner {order.partner_id!r} is not configured")
    now = deps.clock()
    try:
        decided = plan(order, branch, partner, deps.settings.workflow, now=now)
    except PlanRefused as refused:
        raise ActionRefused(str(refused)) from None
    if decided.start_at is not None:
        _in_progress(deps, order.order_id, "due_time", (decided.start_at - now).total_seconds())
    else:
        _in_progress(deps, order.order_id, "starting", 15 * 60)
    logger.info("order planned", extra={"path": decided.path, "courier": decided.courier, "start_at": decided.start_at})
    return decided


# -- wait ----------------------------------------------------------------------------------------


class WaitInput(OrderInput):
    wait: WaitKind
    token: str = Field(min_length=1)
    timeout_seconds: int = Field(ge=1)


class WaitRegistered(OurModel):
    order_id: str
    wait: WaitKind
    settled_now: bool


@action(idempotent=False)
def register_wait(*, request: WaitInput, deps: Deps) -> WaitRegistered:
    """Park on the task token — or settle the wait at once when the order's tracks already do.

    Events kept before the order was known by a vendor id (``workflow/unmatched.py``) are applied
    first: the order stream applies them when an id is set the first time, and this catches an id
    that changed since (a second courier job, a rent booked again), whose change the stream's
    filter does not pass."""
    _in_progress(deps, request.order_id, request.wait.value, request.timeout_seconds)
    replay_for(deps, request.order_id, None, deps.waits.vendor_ids(request.order_id))
    settled = Signaller.of(deps).register(
        request.order_id, request.wait, request.token, timeout_seconds=request.timeout_seconds
    )
    return WaitRegistered(order_id=request.order_id, wait=request.wait, settled_now=settled is not None)


# -- collect deadline ------------------------------------------------------------------------------


class CollectDeadline(OurModel):
    order_id: str
    extended: bool  # the rent runs longer than the wait did: wait again
    timeout_seconds: int  # until the rent's expiry


@action(idempotent=False)
def check_collect_deadline(*, request: OrderInput, deps: Deps) -> CollectDeadline:
    """The customer-pickup wait timed out: wait again while the rent still runs — Bloq.It's
    ``rent.extended`` moved its expiry, or it has passed but Bloq.It has not said ``rent.expired``
    yet (a grace period: a delivery can only be returned once expired). Otherwise: return it."""
    order, _ = require_order(deps, request.order_id)
    rent = locker_rules.current_rent(deps.rents.for_order(order.order_id))
    now = deps.clock()
    if rent is None or rent.expires_at is None or rent.state == "expired":
        return CollectDeadline(order_id=order.order_id, extended=False, timeout_seconds=1)
    until = rent.expires_at if rent.expires_at > now + timedelta(seconds=1) else rent.expires_at + EXPIRY_GRACE
    if until <= now:
        return CollectDeadline(order_id=order.order_id, extended=False, timeout_seconds=1)
    seconds = int((until - now).total_seconds()) + 1
    logger.info("the rent still runs: waiting again", extra={"timeout_seconds": seconds, "rent_state": rent.state})
    return CollectDeadline(order_id=order.order_id, extended=True, timeout_seconds=seconds)


# -- outcome -------------------------------------------------------------------------------------

WorkflowEnding = Literal[
    "completed", "delivered", "collected", "rejected", "cancelled", "uncollected", "failed", "alert", "needs_attention"
]
_END_STATE: dict[str, OrderState] = {
    "delivered": OrderState.DELIVERED,
    "collected": OrderState.COLLECTED,
    "rejected": OrderState.REJECTED,
    "cancelled": OrderState.CANCELLED,
    "uncollected": OrderState.FAILED,
    "failed": OrderState.FAILED,
    "needs_attention": OrderState.NEEDS_ATTENTION,
}


class StepError(OurModel):
    """What a Step Functions ``Catch`` puts at its ResultPath."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")  # a Lambda error's JSON; kept in the logs only


class OutcomeInput(OrderInput):
    outcome: WorkflowEnding  # "completed": the order's path ended as it should (``path`` says how)
    path: OrderPath | None = None
    reason: str | None = None
    error: StepError | None = None  # for failures
    step: str | None = None  # the workflow step that failed


class OutcomeRecorded(OurModel):
    order_id: str
    outcome: str
    state: str | None = None


@action(idempotent=False)
def record_outcome(*, request: OutcomeInput, deps: Deps) -> OutcomeRecorded:
    """Write how the workflow ended (or what needs a person) on the order's timeline and as the
    order's lifecycle state."""
    order, tracks = require_order(deps, request.order_id)
    if request.outcome == "cancelled" and tracks.cancel_request is not None:
        request = request.model_copy(update={"reason": _cancelled_text(order, tracks)})
    if request.outcome == "completed":
        if request.path is None:
            raise ActionRefused("a completed outcome needs the order's path")
        request = request.model_copy(update={"outcome": FINAL_STATE[request.path]})
    failure = describe_failure(request) if request.error or request.outcome in {"failed", "needs_attention"} else None
    text = (failure.message if failure else None) or request.reason or request.outcome
    error_name = request.error.error if request.error else "-"
    # A retried task records it once; a resumed execution that fails again records it again.
    key = f"workflow:{request.execution or '-'}:{request.outcome}:{error_name}:{request.step or '-'}"
    detail = {"outcome": request.outcome, **({"failure": failure.model_dump()} if failure else {})}
    summary = f"workflow {request.outcome}" + (f": {text}" if text != request.outcome else "")
    event = our_event(deps, key, "workflow", summary, detail=detail)
    deps.orders.record_event(order.order_id, event, None)
    state = _END_STATE.get(request.outcome)
    if state is not None:
        deps.orders.set_state(order.order_id, Lifecycle(state=state, failure=failure, at=deps.clock()))
    metric = {
        "failed": "WorkflowsFailed",
        "uncollected": "WorkflowsFailed",
        "alert": "WorkflowAlerts",
        "needs_attention": "OrdersNeedingAttention",
    }.get(request.outcome, "WorkflowsEnded")
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    log = logger.error if request.outcome in {"failed", "alert", "needs_attention", "uncollected"} else logger.info
    log(
        "workflow outcome recorded",
        extra={
            "outcome": request.outcome,
            "step": request.step,
            "error": error_name,
            "cause": request.error.cause if request.error else None,
        },
    )
    return OutcomeRecorded(order_id=order.order_id, outcome=request.outcome, state=state.value if state else None)


def _cancelled_text(order: Order, tracks: Tracks) -> str:
    """Why and by whom the order was cancelled, and a courier job that is still the courier's to
    cancel: neither Blink Logistics (create, update, status) nor DispatchNINJA (add, details)
    offers a cancel in its API."""
    asked = tracks.cancel_request
    assert asked is not None
    text = f"{asked.reason} (cancelled by {asked.by})"
    job = order.blink_logistics_task_id or order.dispatchninja_order_id
    if job and tracks.courier_status not in {"TASK_CANCELLED", "TASK_FINISHED"}:
        courier = "Blink Logistics" if order.blink_logistics_task_id else "DispatchNINJA"
        text += f"; courier job {job} not cancelled: {courier}'s API offers no cancel, cancel it in its portal"
    return text


# VendorError's text (vendors/http.py): "<vendor> HTTP <status> [<code>]: <message>".
_VENDOR_TEXT = re.compile(r"^(?P<vendor>[a-z_]+)(?: HTTP (?P<status>\d{3}))?(?: \[[^\]]*\])?: (?P<message>.+)$", re.S)
_STATES_ERRORS = {
    "States.Timeout": "the wait passed its deadline",
    "States.HeartbeatTimeout": "no heartbeat from the courier keeper",
    "States.TaskFailed": "the step failed",
}
MAX_FAILURE_TEXT = 300


def describe_failure(request: OutcomeInput) -> Failure:
    """One line a person can act on, from Step Functions' error name and cause (the Lambda error's
    JSON: ``errorType``, ``errorMessage``, ``stackTrace`` — the trace is dropped)."""
    kind = request.error.error if request.error else request.outcome
    raw = request.error.cause if request.error else None
    message = request.reason or _STATES_ERRORS.get(kind, "")
    try:
        cause = json.loads(raw) if raw else {}
    except ValueError:
        cause = {"errorMessage": raw}
    if not isinstance(cause, dict):
        cause = {"errorMessage": str(cause)}
    text = str(cause.get("errorMessage") or "").strip()
    vendor, status = None, None
    found = _VENDOR_TEXT.match(text)
    if found and "Vendor" in str(cause.get("errorType") or kind):
        vendor, status, text = found["vendor"], found["status"], found["message"]
    if text and not request.reason:
        message = text
    line = " ".join(message.split())[:MAX_FAILURE_TEXT] or kind
    return Failure(
        step=request.step,
        kind=str(cause.get("errorType") or kind),
        vendor=vendor,
        http_status=int(status) if status else None,
        message=line,
    )
