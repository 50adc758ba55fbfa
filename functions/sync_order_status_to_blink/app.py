"""Action: sync an order's status to Blink (POST /interface/v1/syncOrderStatus)."""

from orderbridge.actions import blink
from orderbridge.entry import action_handler

lambda_handler = action_handler(blink.sync_order_status_to_blink)
