"""POST /webhooks/blink/logistics/task-status — Blink Logistics' Task Status Webhook."""

from orderbridge.observability import logger, metrics, tracer
from orderbridge.web.resolver import handle_webhook, make_resolver
from orderbridge.webhooks import blink_logistics

app = make_resolver()


@app.post("/webhooks/blink/logistics/task-status")
def receive():
    return handle_webhook(app, blink_logistics.receive_task_status)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
