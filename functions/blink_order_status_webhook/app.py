"""POST /webhooks/blink/order-status — Blink's Order Status Webhook."""

from orderbridge.observability import logger, metrics, tracer
from orderbridge.web.resolver import handle_webhook, make_resolver
from orderbridge.webhooks import blink

app = make_resolver()


@app.post("/webhooks/blink/order-status")
def receive():
    return handle_webhook(app, blink.receive_order_status)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
