"""Action: collect the item of the order's Bloq.It rent (opens the locker)."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.collect_rent)
