"""Workflow task: decide how the order travels (locker or home, which courier, Blink first)."""

from orderbridge.entry import action_handler
from orderbridge.workflow.steps import plan_order

lambda_handler = action_handler(plan_order)
