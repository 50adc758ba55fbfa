"""Action: create the order's DispatchNINJA delivery (orders/add)."""

from orderbridge.actions import courier
from orderbridge.actions.runtime import run_action
from orderbridge.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return run_action(courier.create_dispatchninja_order, event, context, idempotent=True)
