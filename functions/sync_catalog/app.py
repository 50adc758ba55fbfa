"""Scheduled sync: Blink's menu (fetchMenu, every page) into each merchant's catalog and its history;
partner item mappings to a vanished or re-priced item flagged (``orderbridge.syncs.catalog``)."""

from orderbridge.entry import sync_handler
from orderbridge.syncs import catalog

lambda_handler = sync_handler(catalog.sync_catalog)
