"""Action: after a failed workflow, free the order's locker if nothing was dropped off."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.release_empty_locker)
