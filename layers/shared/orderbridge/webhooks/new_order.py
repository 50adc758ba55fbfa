"""The one way a webhook stores an order it has not seen before (Blink's and the partners')."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from orderbridge.deps import Deps
from orderbridge.models.order import Order, TimelineEvent
from orderbridge.observability import metrics
from orderbridge.store.orders import Written
from orderbridge.webhooks.report import report


def store_new_order(deps: Deps, order: Order, received: TimelineEvent, raw: str, what: str, **extra: object) -> Written:
    """Create ``order`` with its ``order_received`` event and the raw body (a repeat of the same
    delivery is a duplicate, not a second order); count it, with its unmapped items, and log it."""
    outcome = deps.orders.create(order, received, raw=raw)
    if outcome.created:
        metrics.add_metric(name="OrdersReceived", unit=MetricUnit.Count, value=1)
        if order.unmapped:
            metrics.add_metric(name="UnmappedItems", unit=MetricUnit.Count, value=len(order.unmapped))
    report(outcome, what, items=len(order.items), **extra)
    return outcome
