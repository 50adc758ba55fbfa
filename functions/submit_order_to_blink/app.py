"""Action: submit a delivery-partner order to Blink (POST /interface/v1/submitOrder)."""

from orderbridge.actions import blink
from orderbridge.entry import action_handler

lambda_handler = action_handler(blink.submit_order_to_blink)
