"""Action: reserve a Bloq.It locker for the order's delivery (a delivery rent)."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.reserve_locker)
