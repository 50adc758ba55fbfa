"""Workflow task (.waitForTaskToken): park the order's workflow on a wait until its tracks settle it."""

from orderbridge.entry import action_handler
from orderbridge.workflow.steps import register_wait

lambda_handler = action_handler(register_wait)
