"""POST /webhooks/blink/logistics/task-status — Blink Logistics' Task Status Webhook."""

from orderbridge.entry import webhook_handler
from orderbridge.webhooks import blink_logistics

lambda_handler = webhook_handler("/webhooks/blink/logistics/task-status", blink_logistics.receive_task_status)
