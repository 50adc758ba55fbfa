"""Workflow task (.waitForTaskToken): park the order's workflow on a wait until its tracks settle it."""

from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer
from orderbridge.workflow.steps import get_workflow_deps, register_wait


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return run_action(register_wait, event, context, idempotent=False, deps=get_workflow_deps())
