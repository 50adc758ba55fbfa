"""Scheduled sync: Blink's branches kept in step with ours (vanished / unconfigured flagged)."""

from orderbridge.entry import sync_handler
from orderbridge.syncs import branches

lambda_handler = sync_handler(branches.sync_branches)
