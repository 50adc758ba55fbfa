"""Scheduled sync: push the stock and price changes set through the ops API to Blink
(syncStockAndPrice), marked pushed once Blink accepts them (``orderbridge.syncs.stock_and_price``)."""

from orderbridge.entry import sync_handler
from orderbridge.syncs import stock_and_price

lambda_handler = sync_handler(stock_and_price.push_stock_and_price)
