"""Action: select the locker of the order's Bloq.It delivery rent."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.select_locker)
