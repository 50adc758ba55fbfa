"""POST /webhooks/partners/{partner}/orders — the Blend order_created contract from delivery platforms."""

from orderbridge.observability import logger, metrics, tracer
from orderbridge.web.resolver import handle_webhook, make_resolver
from orderbridge.webhooks import partners

app = make_resolver(error_shape="blend")


@app.post("/webhooks/partners/<partner>/orders")
def receive(partner: str):  # the path parameter; the use case reads it from the request
    return handle_webhook(app, partners.receive_order)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
