"""Scheduled: rent reconciliation — the Bloq.It rent events of open locker orders that no webhook brought."""

from orderbridge.entry import sync_handler
from orderbridge.syncs.rents import sync_rents

lambda_handler = sync_handler(sync_rents)
