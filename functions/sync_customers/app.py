"""Scheduled sync: the Blink customers created since the cursor, stored per merchant."""

from orderbridge.entry import sync_handler
from orderbridge.syncs import customers

lambda_handler = sync_handler(customers.sync_customers)
