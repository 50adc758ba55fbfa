"""Action: submit a delivery-partner order to Blink (POST /interface/v1/submitOrder)."""

from orderbridge.actions import blink
from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return run_action(blink.submit_order_to_blink, event, context, idempotent=True)
