"""Scheduled: poll the courier of every open courier wait and keep the wait alive (heartbeat)."""

from orderbridge.entry import scheduled_handler
from orderbridge.workflow.keeper import keep_courier_waits

lambda_handler = scheduled_handler(keep_courier_waits)
