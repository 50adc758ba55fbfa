"""Scheduled sync: the order catch-up — Blink orders whose Order Webhook never came (getOrderList)."""

from orderbridge.entry import sync_handler
from orderbridge.syncs import orders

lambda_handler = sync_handler(orders.sync_orders)
