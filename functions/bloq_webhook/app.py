"""POST /webhooks/bloq — Bloq.It webhook events (signed)."""

from orderbridge.entry import webhook_handler
from orderbridge.webhooks import bloqit

lambda_handler = webhook_handler("/webhooks/bloq", bloqit.receive_event)
