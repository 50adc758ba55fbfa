"""Action: issue a Bloq.It courier token (nothing is created at Bloq.It: not idempotent, and the token is not kept)."""

from orderbridge.actions import bloqit_admin
from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return run_action(bloqit_admin.issue_courier_token, event, context, idempotent=False)
