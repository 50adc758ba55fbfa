"""Action: issue a Bloq.It courier token (nothing is created at Bloq.It: not idempotent, and the token is not kept)."""

from orderbridge.actions import bloqit_admin
from orderbridge.entry import action_handler

lambda_handler = action_handler(bloqit_admin.issue_courier_token)
