"""The workflow's own steps (no vendor calls): plan the delivery, park on a wait, record how the
order's workflow ended. Each is run by functions/workflow_step or functions/workflow_wait through
``actions.runtime.run_action``, so inputs and outputs are models like every action's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field

from orderbridge import aws
from orderbridge.actions.common import ActionRefused, OrderInput, our_event, require_order
from orderbridge.actions.runtime import ActionDeps, get_action_deps
from orderbridge.config import Settings, get_settings
from orderbridge.domain.delivery import DeliveryPlan, plan
from orderbridge.domain.waits import WaitKind
from orderbridge.models.base import OurModel
from orderbridge.models.config import Branch
from orderbridge.models.types import utcnow
from orderbridge.observability import logger, metrics
from orderbridge.store import config as config_keys
from orderbridge.store.batch import batch_get
from orderbridge.store.waits import WaitStore
from orderbridge.workflow.signals import Signaller


@dataclass
class WorkflowDeps:
    settings: Settings
    actions: ActionDeps
    waits: WaitStore
    signaller: Signaller
    stepfunctions: Any
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def build(cls, settings: Settings, actions: ActionDeps, *, dynamodb: Any, stepfunctions: Any) -> WorkflowDeps:
        waits = WaitStore(dynamodb, settings.orders_table)
        return cls(settings, actions, waits, Signaller(waits, stepfunctions, actions.clock), stepfunctions,
                   actions.clock)


@cache
def get_workflow_deps() -> WorkflowDeps:
    return WorkflowDeps.build(get_settings(), get_action_deps(), dynamodb=aws.client("dynamodb"),
                              stepfunctions=aws.client("stepfunctions"))


# -- plan ----------------------------------------------------------------------------------------


def plan_delivery(*, request: OrderInput, deps: ActionDeps) -> DeliveryPlan:
    order, _ = require_order(deps, request.order_id)
    table = deps.settings.config_table
    found = batch_get(deps.orders.client, {table: [config_keys.branch_key(order.branch_id)]})[table]
    if not found:
        raise ActionRefused(f"order {order.order_id}: branch {order.branch_id!r} is not configured")
    branch = config_keys.parse(found[0])
    assert isinstance(branch, Branch)
    decided = plan(order, branch, deps.settings.workflow)
    logger.info("delivery planned", extra={"mode": decided.delivery_mode, "courier": decided.courier})
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


def register_wait(*, request: WaitInput, deps: WorkflowDeps) -> WaitRegistered:
    settled = deps.signaller.register(request.order_id, request.wait, request.token,
                                      timeout_seconds=request.timeout_seconds)
    return WaitRegistered(order_id=request.order_id, wait=request.wait, settled_now=settled is not None)


# -- outcome -------------------------------------------------------------------------------------


class OutcomeInput(OrderInput):
    outcome: Literal["delivered", "rejected", "cancelled", "uncollected", "failed", "alert"]
    reason: str | None = None
    error: str | None = None  # the Step Functions error name, for failures
    cause: str | None = None


class OutcomeRecorded(OurModel):
    order_id: str
    outcome: str


def record_outcome(*, request: OutcomeInput, deps: ActionDeps) -> OutcomeRecorded:
    """Write how the workflow ended (or what needs a person) on the order's timeline."""
    order, _ = require_order(deps, request.order_id)
    text = request.reason or request.error or request.outcome
    key = f"workflow:{request.outcome}:{request.error or '-'}"  # a retried task records it once
    detail = {"outcome": request.outcome, "error": request.error, "cause": (request.cause or "")[:1000]}
    event = our_event(deps, key, "workflow", f"workflow {request.outcome}: {text}", detail=detail)
    deps.orders.record_event(order.order_id, event, None)
    metric = {"failed": "WorkflowsFailed", "alert": "WorkflowAlerts"}.get(request.outcome, "WorkflowsEnded")
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    log = logger.error if request.outcome in {"failed", "alert"} else logger.info
    log("workflow outcome recorded", extra={"outcome": request.outcome, "error": request.error})
    return OutcomeRecorded(order_id=order.order_id, outcome=request.outcome)
