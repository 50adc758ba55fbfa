"""Action: notify the customer that the delivery is ready for pick-up (Bloq.It)."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.notify_locker_customer)
