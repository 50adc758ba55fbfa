"""Stuck orders: find the open orders nothing is moving any more, show them as ``stuck`` in the
ops API with a reason a person can act on, and count them (``OrdersStuck``, alarmed).

An order is stuck when it is ``received`` or ``in_progress`` and

- **a wait is past its deadline**: ``in_progress`` past ``state_deadline`` while its execution
  still runs (the workflow did not react: a lost webhook, a courier that never came);
- **its execution ended** (SUCCEEDED, FAILED, TIMED_OUT, ABORTED) while the order is still open:
  nothing will move it any more (the workflow's last step never recorded its end);
- **it has no workflow**: no execution of its current name (the order id, or ``<id>-r<n>`` after a
  resume: ``OpenOrder.execution``) although its lifecycle has not moved for
  ``Settings.stuck_order_grace_seconds`` (``StuckOrderGraceSeconds``).

Only orders whose lifecycle has not moved for that grace (or whose wait is past its deadline) have
their execution looked at (``Workflow.status``: one DescribeExecution each). A stuck order is
marked once (``OrderStore.mark_stuck``, conditional on its lifecycle not having moved since it was
read): ``in_progress`` past a deadline — which is how the ops API reads ``stuck`` — with the reason
as its ``failure`` (``kind``: :data:`WAIT_PAST_DEADLINE`, :data:`WORKFLOW_ENDED`,
:data:`NO_WORKFLOW`) and an event on its timeline. The workflow moving on or a person resuming it
(``POST /ops/orders/{id}/resume``) sets its lifecycle again and clears the mark.

Idempotent: a marked order is counted and left alone; of two runs at once, one marks it. One scope
(``all``); the cursor is where a run that stopped for time goes on (``syncs.open_orders``).

Each run also measures the needs-attention queue (orders a person must act on): how many there
are (``NeedsAttentionOrders``) and how long the oldest has waited (``NeedsAttentionOldestSeconds``,
alarmed past ``NeedsAttentionMaxAgeMinutes`` in ``template.yaml``) — in the run's metric line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orderbridge.deps import Deps
from orderbridge.models.order import Failure, Lifecycle, OrderState, TimelineEvent
from orderbridge.observability import logger, metrics
from orderbridge.store.cursors import Cursor
from orderbridge.store.orders import OpenOrder
from orderbridge.syncs.open_orders import walk
from orderbridge.syncs.runner import SyncReport, SyncRun, run_sync

SYNC = "stuck_orders"
SCOPE = "all"
OPEN_STATES = (OrderState.RECEIVED, OrderState.IN_PROGRESS)
NEEDS_ATTENTION = (OrderState.NEEDS_ATTENTION,)
ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

WAIT_PAST_DEADLINE = "WaitPastDeadline"
WORKFLOW_ENDED = "WorkflowEnded"
NO_WORKFLOW = "NoWorkflow"
STUCK_KINDS = frozenset({WAIT_PAST_DEADLINE, WORKFLOW_ENDED, NO_WORKFLOW})


@dataclass
class Tally:
    """The stuck orders a run found (marked now or before) and the longest any has been stuck."""

    stuck: int = 0
    longest_seconds: float = 0.0


def find_stuck_orders(deps: Deps, context: LambdaContext) -> SyncReport:
    tally = Tally()
    report = run_sync(SYNC, deps, context, [SCOPE], lambda run, cursor: _walk(run, cursor, deps, tally))
    return report


def _walk(run: SyncRun, cursor: Cursor, deps: Deps, tally: Tally) -> None:
    orders = deps.orders.open_orders(OPEN_STATES, after=cursor.value)
    walk(run, cursor, orders, lambda order: _judged(deps, order, tally))
    # One figure per run, in the run's metric line (the runner adds the ``Sync`` dimension).
    metrics.add_metric(name="OrdersStuck", unit=MetricUnit.Count, value=tally.stuck)
    if tally.stuck:
        run.lag(tally.longest_seconds)
    _measure_needs_attention(run, deps)


def _measure_needs_attention(run: SyncRun, deps: Deps) -> None:
    """Count the ``needs_attention`` orders (the ``by_state`` index) and find how long the oldest
    has waited: since its lifecycle was set (an order without that time: since it was received).
    Read only, nothing marked; a run out of time stops counting and publishes what it saw."""
    now = deps.clock()
    waiting, oldest = 0, 0.0
    for order in deps.orders.open_orders(NEEDS_ATTENTION):
        if not run.time_left():
            break
        waiting += 1
        since = order.lifecycle.at or order.received_at
        oldest = max(oldest, (now - since).total_seconds())
    metrics.add_metric(name="NeedsAttentionOrders", unit=MetricUnit.Count, value=waiting)
    metrics.add_metric(name="NeedsAttentionOldestSeconds", unit=MetricUnit.Seconds, value=round(oldest, 3))


def _judged(deps: Deps, order: OpenOrder, tally: Tally) -> bool:
    now = deps.clock()
    marked = judge(deps, order, now)
    if marked is None:
        return False
    lifecycle, new = marked
    tally.stuck += 1
    if lifecycle.deadline is not None:
        tally.longest_seconds = max(tally.longest_seconds, (now - lifecycle.deadline).total_seconds())
    return new


def judge(deps: Deps, order: OpenOrder, now: datetime) -> tuple[Lifecycle, bool] | None:
    """None when the order is not stuck; else its stuck lifecycle and whether it was marked now
    (False: it was marked before, or another run marked it first)."""
    life = order.lifecycle
    if life.state is OrderState.IN_PROGRESS and life.failure is not None and life.failure.kind in STUCK_KINDS:
        return life, False
    grace = timedelta(seconds=deps.settings.stuck_order_grace_seconds)
    moved_at = life.at or order.received_at
    past_deadline = life.state is OrderState.IN_PROGRESS and life.deadline is not None and life.deadline < now
    if not past_deadline and now - moved_at <= grace:
        return None
    name = order.execution
    status = deps.workflow.status(name)
    step = life.step or "workflow_start"
    reason = _reason(order, status, step, moved_at, past_deadline)
    if reason is None:
        return None
    failure = Failure(step=step, kind=reason[0], message=reason[1])
    # Past this the order reads as stuck: its own deadline, or when the grace ran out (before now).
    deadline = life.deadline if past_deadline and life.deadline is not None else moved_at + grace
    stuck = Lifecycle(state=OrderState.IN_PROGRESS, step=step, deadline=deadline, failure=failure, at=now)
    if not deps.orders.mark_stuck(order, stuck):
        return stuck, False
    _record_stuck(deps, order, failure, status, moved_at, now)
    return stuck, True


def _reason(
    order: OpenOrder, status: str | None, step: str, moved_at: datetime, past_deadline: bool
) -> tuple[str, str] | None:
    """Why the order is stuck, by its execution's ``status``: the failure's kind and the message a
    person acts on; None when it is not stuck (its execution runs and no wait is past its deadline)."""
    life, name = order.lifecycle, order.execution
    if status is None:
        return NO_WORKFLOW, (
            f"no workflow execution {name} for this {life.state.value} order since "
            f"{_when(moved_at)}: resume it to start one"
        )
    if status in ENDED:
        return WORKFLOW_ENDED, (
            f"workflow execution {name} ended {status} while the order is still "
            f"{life.state.value} (at {step}): see its timeline, then resume it"
        )
    if past_deadline and life.deadline is not None:
        return WAIT_PAST_DEADLINE, (
            f"waiting on {step} past its deadline {_when(life.deadline)} while execution {name} "
            "still runs: check the vendor (a webhook may be lost); stop the execution to resume the order"
        )
    return None


def _record_stuck(
    deps: Deps, order: OpenOrder, failure: Failure, status: str | None, moved_at: datetime, now: datetime
) -> None:
    """Log the order marked stuck and put it on its timeline (once: the event's key)."""
    name, step = order.execution, failure.step
    logger.warning(
        "order stuck", extra={"order_id": order.order_id, "kind": failure.kind, "execution": name, "step": step}
    )
    event = TimelineEvent(
        event_key=f"orderbridge:stuck:{failure.kind}:{name}:{moved_at.isoformat()}",
        source="orderbridge",
        kind="stuck",
        received_at=now,
        summary=f"stuck: {failure.message}",
        detail={"reason": failure.kind, "execution": name, "execution_status": status, "step": step},
    )
    deps.orders.record_event(order.order_id, event, None)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
