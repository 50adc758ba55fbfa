"""Action: create the order's Blink Logistics delivery task."""

from orderbridge.actions import courier
from orderbridge.entry import action_handler

lambda_handler = action_handler(courier.create_blink_logistics_task)
