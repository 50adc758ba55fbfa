"""Action: after a failed workflow, free the order's locker if nothing was dropped off."""

from orderbridge.actions import lockers
from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return run_action(lockers.release_empty_locker, event, context, idempotent=True)
