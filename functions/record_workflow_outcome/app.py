"""Workflow task: write how the order's workflow ended (or what needs a person) on its timeline."""

from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer
from orderbridge.workflow.steps import record_outcome


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return run_action(record_outcome, event, context, idempotent=False)
