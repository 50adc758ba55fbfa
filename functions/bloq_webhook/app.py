"""POST /webhooks/bloq — Bloq.It webhook events (signed)."""

from orderbridge.observability import logger, metrics, tracer
from orderbridge.web.resolver import handle_webhook, make_resolver
from orderbridge.webhooks import bloqit

app = make_resolver()


@app.post("/webhooks/bloq")
def receive():
    return handle_webhook(app, bloqit.receive_event)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
