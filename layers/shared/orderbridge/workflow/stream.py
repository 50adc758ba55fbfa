"""The OrdersTable stream: what happens after a webhook or an action has written.

- a new order (INSERT of an order item) starts its workflow, named after the order;
- an order that became known by a vendor's id (INSERT, or a MODIFY that set its Blink order id,
  courier task or rent) has the events kept for that id before it existed applied, in their order
  (``workflow/unmatched.py``: why here and not in the webhook is said there);
- a change of an order's status tracks (MODIFY of an order item) re-judges the order's open
  waits and resumes the workflow where a wait is settled.

Timeline events, aliases and waits pass by untouched — most never reach the function: the event
source mapping's filter (template.yaml, ``OrderChanges``) passes a new order, a vendor id set for
the first time, and a change while a wait is open (``store/waits.py``: ``waiting_for``). Records
are processed one by one with partial batch failure reporting: a failed record is retried by
Lambda without replaying the rest.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from orderbridge.deps import Deps
from orderbridge.observability import logger
from orderbridge.store.orders import order_id_of
from orderbridge.workflow.signals import Signaller, start_workflow
from orderbridge.workflow.unmatched import replay_for

# What settles a wait: the three status tracks, and a person's request to cancel (ops.cancel_order).
TRACKS = ("status", "courier_status", "rent_state", "cancel_request")


def handle_record(record: DynamoDBRecord, deps: Deps) -> str:
    """Returns what was done (for the log and the tests)."""
    change = record.dynamodb
    order_id = order_id_of(change.keys) if change else None
    if change is None or order_id is None:
        return "ignored"
    logger.set_correlation_id(order_id)
    logger.append_keys(order_id=order_id)
    if record.event_name is DynamoDBRecordEventName.INSERT:
        started = start_workflow(deps.workflow, order_id)
        logger.info("workflow started" if started else "workflow already running")
        replayed = replay_for(deps, order_id, None, change.new_image)
        return ("started" if started else "already started") + _replayed(replayed)
    if record.event_name is DynamoDBRecordEventName.MODIFY:
        # Applied events change the tracks again: their own MODIFY records settle the waits.
        replayed = replay_for(deps, order_id, change.old_image, change.new_image)
        if _tracks_changed(change.old_image, change.new_image):
            settled = Signaller.of(deps).settle(order_id)
            logger.info("order tracks judged", extra={"settled": sorted(settled), "replayed": replayed})
            return (f"settled {sorted(settled)}" if settled else "no wait settled") + _replayed(replayed)
        if replayed:
            return _replayed(replayed).lstrip("; ")
    return "ignored"


def _replayed(count: int) -> str:
    return f"; replayed {count}" if count else ""


def _tracks_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    old, new = old or {}, new or {}
    return any(old.get(track) != new.get(track) for track in TRACKS)
