"""Scheduled: poll the courier of every open courier wait and keep the wait alive (heartbeat)."""

from orderbridge.observability import logger, metrics, tracer
from orderbridge.workflow.keeper import keep_courier_waits
from orderbridge.workflow.steps import get_workflow_deps


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return keep_courier_waits(get_workflow_deps()).model_dump()
