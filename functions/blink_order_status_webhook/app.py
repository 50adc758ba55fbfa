"""POST /webhooks/blink/order-status — Blink's Order Status Webhook."""

from orderbridge.entry import webhook_handler
from orderbridge.webhooks import blink

lambda_handler = webhook_handler("/webhooks/blink/order-status", blink.receive_order_status)
