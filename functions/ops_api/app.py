"""The ops API (API key enforced by API Gateway): GET /ops/orders/{order_id}, GET /ops/orders,
PATCH /ops/orders/{order_id}, POST /ops/orders/{order_id}/resume, POST /ops/orders/{order_id}/retry."""

from orderbridge.entry import ops_api_handler

lambda_handler = ops_api_handler()
