"""The OrdersTable stream: what happens after a webhook or an action has written.

- a new order (INSERT of an order item) starts its workflow, named after the order;
- a change of an order's status tracks (MODIFY of an order item) re-judges the order's open
  waits and resumes the workflow where a wait is settled.

Timeline events, aliases and waits pass by untouched. Records are processed one by one with
partial batch failure reporting: a failed record is retried by Lambda without replaying the rest.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from orderbridge.observability import logger
from orderbridge.workflow.signals import start_workflow
from orderbridge.workflow.steps import WorkflowDeps

TRACKS = ("status", "courier_status", "rent_state")


def handle_record(record: DynamoDBRecord, deps: WorkflowDeps) -> str:
    """Returns what was done (for the log and the tests)."""
    change = record.dynamodb
    keys = change.keys if change else {}
    if not keys or keys.get("sk") != "META" or not str(keys.get("pk", "")).startswith("ORDER#"):
        return "ignored"
    order_id = str(keys["pk"]).removeprefix("ORDER#")
    logger.set_correlation_id(order_id)
    logger.append_keys(order_id=order_id)
    if record.event_name is DynamoDBRecordEventName.INSERT:
        started = start_workflow(deps.stepfunctions, deps.settings.order_workflow_arn, order_id)
        logger.info("workflow started" if started else "workflow already running")
        return "started" if started else "already started"
    if record.event_name is DynamoDBRecordEventName.MODIFY and _tracks_changed(change.old_image, change.new_image):
        settled = deps.signaller.settle(order_id)
        return f"settled {sorted(settled)}" if settled else "no wait settled"
    return "ignored"


def _tracks_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    old, new = old or {}, new or {}
    return any(old.get(track) != new.get(track) for track in TRACKS)
