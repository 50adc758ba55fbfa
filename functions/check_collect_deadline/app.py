"""Workflow task: the customer-pickup wait timed out — is the rent still running (extended)?"""

from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer
from orderbridge.workflow.steps import check_collect_deadline


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return run_action(check_collect_deadline, event, context, idempotent=False)
