"""Action: read the order's DispatchNINJA delivery (orders/details; a read: not idempotent)."""

from orderbridge.actions import courier
from orderbridge.entry import action_handler

lambda_handler = action_handler(courier.get_dispatchninja_order_details)
