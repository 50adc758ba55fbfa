"""Blink status reconciliation: read back with ``getOrder`` the Blink status of every open order
whose status has not moved for a while, and record a change whose Order Status Webhook never came.

Blink gives its webhooks 5 s and never retries, so a status change can be lost for good. Every
run walks the open orders (not in a final state) from the ``by_state`` index, keeping only those
with a Blink order id whose Blink status is not final and has not moved for
``Settings.blink_status_stale_seconds`` (``BlinkStatusStaleSeconds``). For each, ``getOrder``; a
status that ranks above ours is recorded exactly as its webhook would have been
(``webhooks.blink.receive_order_status``): the same ``OrderStore.record_event`` with the same
rank-conditional track update — so the order stream resumes the workflow — under the event key
:func:`~orderbridge.domain.statuses.blink_status_identity`, which the webhook checks
(``OrderStore.record_blink_status``): the webhook arriving later is a duplicate.

- **idempotent**: the event key guards the write; a second run (or two at once) finds the event
  recorded or the status already moved, and changes nothing;
- **cursor**: one scope (``all``: the walk covers every merchant's open orders, each read with its
  merchant's credentials); the cursor is the position of the last order looked at when a run
  stopped for time, and goes back to the start once a walk is complete;
- **lag**: for each change recorded, how long the status had not moved here (an upper bound of how
  late the reconciliation found it).
"""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools.utilities.typing import LambdaContext

from orderbridge.deps import Deps
from orderbridge.domain.statuses import blink_status_identity, order_status_update
from orderbridge.models.order import OrderState, TimelineEvent
from orderbridge.observability import logger
from orderbridge.store.cursors import Cursor
from orderbridge.store.orders import OpenOrder
from orderbridge.syncs.open_orders import walk
from orderbridge.syncs.runner import SyncReport, SyncRun, run_sync
from orderbridge.webhooks.blink import SOURCE

SYNC = "blink_statuses"
SCOPE = "all"
# The lifecycle states an order can be in before its end (stuck is an in_progress order).
OPEN_STATES = (OrderState.RECEIVED, OrderState.IN_PROGRESS, OrderState.NEEDS_ATTENTION, OrderState.FAILED)


def sync_blink_statuses(deps: Deps, context: LambdaContext) -> SyncReport:
    return run_sync(SYNC, deps, context, [SCOPE], lambda run, cursor: _walk(run, cursor, deps))


def _walk(run: SyncRun, cursor: Cursor, deps: Deps) -> None:
    unmoved_since = deps.clock() - timedelta(seconds=deps.settings.blink_status_stale_seconds)
    orders = deps.orders.open_orders(OPEN_STATES, after=cursor.value, blink_status_unmoved_since=unmoved_since)
    walk(run, cursor, orders, lambda order: _reconciled(run, deps, order))


def _reconciled(run: SyncRun, deps: Deps, order: OpenOrder) -> bool:
    changed = reconcile(deps, order)
    if changed:
        run.lag((deps.clock() - order.status_at).total_seconds())
    return changed


def reconcile(deps: Deps, order: OpenOrder) -> bool:
    """Read the order's Blink status; record it if it is ahead of ours. True: something changed."""
    if order.blink_order_id is None:
        return False
    found = deps.vendors.blink(order.merchant_id).get_order(order.blink_order_id)
    status = found.order_status
    if status is None:
        logger.warning("getOrder gave a status the Blink doc does not list", extra={"blink_status": found.status})
        return False
    update = order_status_update(status)
    if update.rank <= order.status_rank:
        return False
    now = deps.clock()
    event = TimelineEvent(
        event_key=blink_status_identity(order.blink_order_id, status),
        source=SOURCE,
        kind="blink_status",
        at=None,  # getOrder does not say when the status changed
        received_at=now,
        summary=f"Blink status {int(status)} {status.name.title()} (read with getOrder: its webhook never came)",
        detail={
            "status": int(status),
            "status_text": status.name.title(),
            "comment": found.reject_reason or None,
            "action_by": None,
            "branch_id": None,
            "via": "reconciliation",
        },
    )
    raw = found.model_dump_json(by_alias=True, exclude_none=True)
    if len(raw.encode()) > deps.settings.max_body_bytes:
        # Its text is capped (models.blink) but not its number of items: the status is what counts,
        # so Blink's answer is kept without them (and says so) rather than refused.
        logger.warning(
            "getOrder's answer is too big to keep whole: kept without its items",
            extra={"order_id": order.order_id, "bytes": len(raw.encode()), "items": len(found.items)},
        )
        raw = found.model_copy(update={"items": []}).model_dump_json(by_alias=True, exclude_none=True)
        raw = raw[:-1] + f',"items_left_out":{len(found.items)}}}'
    written = deps.orders.record_event(order.order_id, event, update, raw=raw)
    changed = written.created and not written.stale
    outcome = "recorded" if changed else "already recorded" if written.duplicate else "kept as late"
    logger.info(f"missed Blink status {outcome}", extra={"order_id": order.order_id, "blink_status": status.name})
    return changed
