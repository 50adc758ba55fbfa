"""Action: turn the order's expired Bloq.It delivery into a return."""

from orderbridge.actions import lockers
from orderbridge.entry import action_handler

lambda_handler = action_handler(lockers.return_expired_delivery)
