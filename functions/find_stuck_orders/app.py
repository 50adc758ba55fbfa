"""Scheduled sync: find stuck orders (waits past their deadline, ended executions of open orders,
orders without a workflow), show them as stuck and count them (``orderbridge.syncs.stuck_orders``)."""

from orderbridge.entry import sync_handler
from orderbridge.syncs import stuck_orders

lambda_handler = sync_handler(stuck_orders.find_stuck_orders)
