"""Scheduled sync: getOrder for open orders whose Blink status has not moved; a missed status is
recorded as if its webhook had come (``orderbridge.syncs.blink_statuses``)."""

from orderbridge.entry import sync_handler
from orderbridge.syncs import blink_statuses

lambda_handler = sync_handler(blink_statuses.sync_blink_statuses)
