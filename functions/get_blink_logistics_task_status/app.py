"""Action: read the order's Blink Logistics task status (a read: not idempotent)."""

from orderbridge.actions import courier
from orderbridge.entry import action_handler

lambda_handler = action_handler(courier.get_blink_logistics_task_status)
