"""Action: finish the order's cancelled or expired Bloq.It rent (frees the locker)."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.finish_rent)
