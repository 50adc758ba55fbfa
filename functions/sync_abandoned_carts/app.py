"""Scheduled sync: Blink's abandoned carts by date range, for the ops API's list and CSV export."""

from orderbridge.entry import sync_handler
from orderbridge.syncs import abandoned_carts

lambda_handler = sync_handler(abandoned_carts.sync_abandoned_carts)
