"""The courier keeper: a schedule that walks every open courier wait, asks the courier where the
order is, and keeps the wait alive.

Blink Logistics does not resend a missed webhook and DispatchNINJA sends none, so the keeper reads
each courier's state (the read actions record what changed on the order; the order stream then
resumes the workflow) and sends the wait's heartbeat. A wait whose keeper stops is failed by
Step Functions after ``CourierHeartbeatSeconds`` instead of silently waiting out its timeout.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from orderbridge.actions import courier
from orderbridge.actions.common import OrderInput
from orderbridge.deps import Deps
from orderbridge.errors import ServiceUnavailable
from orderbridge.models.base import OurModel
from orderbridge.observability import logger, metrics
from orderbridge.vendors.http import VendorError


class KeeperRun(OurModel):
    waits: int
    polled: int
    heartbeats: int
    closed: int
    errors: int


def keep_courier_waits(deps: Deps) -> KeeperRun:
    waits = deps.waits.kept("courier")
    polled = heartbeats = closed = errors = 0
    for index, wait in enumerate(waits, start=1):
        logger.append_keys(order_id=wait.order_id)
        try:
            polled += _poll_courier(wait.order_id, deps)
        except (VendorError, ServiceUnavailable) as error:  # the courier (or AWS) is down: keep the wait
            errors += 1
            logger.warning("courier not reachable; the wait is kept", extra={"error": type(error).__name__})
        if deps.workflow.heartbeat(wait.token):
            heartbeats += 1
        else:
            deps.waits.close(wait)  # the execution moved on or ended: nothing to keep
            closed += 1
        if index % 50 == 0:
            logger.info("keeper progress", extra={"done": index, "of": len(waits)})
    logger.remove_keys(["order_id"])
    run = KeeperRun(waits=len(waits), polled=polled, heartbeats=heartbeats, closed=closed, errors=errors)
    metrics.add_metric(name="CourierWaitsKept", unit=MetricUnit.Count, value=heartbeats)
    logger.info("courier waits kept", extra=run.model_dump())
    return run


def _poll_courier(order_id: str, deps: Deps) -> int:
    order, _ = deps.orders.load(order_id) or (None, None)
    if order is None:
        return 0
    request = OrderInput(order_id=order_id)
    if order.dispatchninja_order_id:
        courier.get_dispatchninja_order_details(request=request, deps=deps)
        return 1
    if order.blink_logistics_task_id:
        courier.get_blink_logistics_task_status(request=request, deps=deps)
        return 1
    return 0
