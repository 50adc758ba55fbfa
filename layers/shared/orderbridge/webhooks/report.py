"""One way to log and count what a webhook's write did."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from orderbridge.observability import logger, metrics
from orderbridge.store.orders import Written


def report(outcome: Written, what: str, **extra: object) -> None:
    if outcome.duplicate:
        metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
        logger.info(f"duplicate {what}: already recorded, answered as before", extra=extra)
    elif outcome.stale:
        metrics.add_metric(name="StaleEvents", unit=MetricUnit.Count, value=1)
        logger.info(f"{what} is older than the current state: kept in the timeline only", extra=extra)
    elif outcome.order_id is None:
        metrics.add_metric(name="UnmatchedEvents", unit=MetricUnit.Count, value=1)
        logger.warning(f"{what} for nothing we know yet: kept for reconciliation", extra=extra)
    else:
        logger.info(f"{what} recorded", extra=extra)
