"""Action: create the order's DispatchNINJA delivery (orders/add)."""

from orderbridge.actions import courier
from orderbridge.entry import action_handler

lambda_handler = action_handler(courier.create_dispatchninja_order)
