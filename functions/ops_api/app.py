"""The ops API (API key enforced by API Gateway): GET /ops/orders/{order_id}, GET /ops/orders,
PATCH /ops/orders/{order_id}, POST /ops/orders/{order_id}/resume, POST /ops/orders/{order_id}/retry."""

from orderbridge import aws, ops
from orderbridge.deps import get_deps
from orderbridge.observability import logger, metrics, tracer
from orderbridge.web.resolver import make_resolver, respond

app = make_resolver()


@app.get("/ops/orders/<order_id>")
def get_order(order_id: str):
    include_raw = app.current_event.get_query_string_value("include", "") == "raw"
    return respond(ops.get_order(order_id, get_deps(), include_raw=include_raw), exclude_none=False)


@app.patch("/ops/orders/<order_id>")
def edit_order(order_id: str):
    return respond(ops.edit_order(order_id, app.current_event.decoded_body or "", get_deps()))


@app.post("/ops/orders/<order_id>/resume")
def resume(order_id: str):
    return respond(ops.resume_workflow(order_id, get_deps(), aws.client("stepfunctions")), 202)


@app.post("/ops/orders/<order_id>/retry")
def retry(order_id: str):
    return respond(ops.retry_order(order_id, get_deps(), aws.client("stepfunctions")), 202)


@app.get("/ops/orders")
def list_orders():
    query = dict(app.current_event.query_string_parameters or {})
    return respond(ops.list_orders(query, get_deps()), exclude_none=False)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
