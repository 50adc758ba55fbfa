"""Action: register our webhook endpoint and signing secret with Bloq.It."""

from orderbridge.actions import bloqit_admin
from orderbridge.entry import action_handler

lambda_handler = action_handler(bloqit_admin.register_bloq_webhook)
