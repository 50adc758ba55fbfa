"""Workflow task: write how the order's workflow ended (or what needs a person) on its timeline."""

from orderbridge.entry import action_handler
from orderbridge.workflow.steps import record_outcome

lambda_handler = action_handler(record_outcome)
