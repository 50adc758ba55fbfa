"""Workflow task: the customer-pickup wait timed out — is the rent still running (extended)?"""

from orderbridge.entry import action_handler
from orderbridge.workflow.steps import check_collect_deadline

lambda_handler = action_handler(check_collect_deadline)
