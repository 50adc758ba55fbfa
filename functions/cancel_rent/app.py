"""Action: cancel the order's Bloq.It rent."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.cancel_rent)
