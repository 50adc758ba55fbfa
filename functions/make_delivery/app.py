"""Action: open the order's reserved locker for the drop-off (Bloq.It Make Delivery)."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.make_delivery)
