"""POST /webhooks/partners/{partner}/orders — the Blend order_created contract from delivery platforms."""

from orderbridge.entry import webhook_handler
from orderbridge.webhooks import partners

lambda_handler = webhook_handler("/webhooks/partners/<partner>/orders", partners.receive_order, error_shape="blend")
