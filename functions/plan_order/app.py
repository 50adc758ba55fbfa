"""Workflow task: decide how the order travels (locker or home, which courier, Blink first)."""

from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer
from orderbridge.workflow.steps import plan_order


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return run_action(plan_order, event, context, idempotent=False)
