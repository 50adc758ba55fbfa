"""POST /webhooks/blink/orders — Blink's Order Webhook (a new order)."""

from orderbridge.entry import webhook_handler
from orderbridge.webhooks import blink

lambda_handler = webhook_handler("/webhooks/blink/orders", blink.receive_order)
