"""Action: register our webhook endpoint and signing secret with Bloq.It."""

from orderbridge.actions import bloqit_admin
from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return run_action(bloqit_admin.register_bloq_webhook, event, context, idempotent=True)
