"""Action: sync a merchant's stock and prices to Blink (POST /interface/v1/syncStockAndPrice)."""

from orderbridge.actions import blink
from orderbridge.entry import action_handler

lambda_handler = action_handler(blink.sync_stock_and_price)
