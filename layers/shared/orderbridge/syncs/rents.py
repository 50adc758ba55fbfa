"""Rent reconciliation: the Bloq.It events of open locker orders that no webhook brought.

Bloq.It's webhooks can be refused or missed, and a missed drop-off or pickup leaves the order's
workflow waiting until its deadline. Each run walks, per merchant (its Bloq.It account), the orders
in progress whose current rent has not finished (``OrderStore.open_rents``, oldest first), reads
each rent's history from Bloq.It (``GET /rents/<id>/history``: "anything that happens to the rent",
as the webhook's events) and applies every event of the types our webhook subscribes to
(``domain.rent_events.ACTED_ON_EVENTS``) we have no record of — a drop-off, pickup, expiry,
cancellation, extension — through the webhook's own
:func:`~orderbridge.webhooks.bloqit.apply_rent_event`: the same write, guarded by the same event
identity (``BLOQEVENT#<_id>``). So the webhook arriving later is a duplicate, and the order stream
resumes or fails the waiting workflow exactly as after the webhook (``domain/waits.py`` decides).

Why the rent history and not the event history (``GET /webhooks/history``): it is the whole story
of one rent, in one call, with no time window to keep (the event history's date filters and paging
are not documented beyond their names), and only the rents we still wait on are read.

- **Cursor** (per merchant): the ``created_key`` of the last open order reconciled; a run out of
  time stops there and the next one goes on behind it; a walk that reaches the end starts over.
- **Idempotent**: an event recorded before (by the webhook or an earlier run) is not applied again;
  a race with the webhook or another run ends in the event guard (one write wins, the other is a
  duplicate). Two runs at once: the second's cursor move is refused and it stops.
- **Per item**: one order's rent; a Bloq.It or DynamoDB hiccup is retried, what still fails is
  dead-lettered (``SyncRentsDeadLetterQueue``) and the walk goes on.
- **Bounded**: an event of the history is applied as the webhook would apply it, so it is held to
  the webhook's bounds — an event bigger as stored than a webhook body may be (``MAX_BODY_BYTES``)
  is refused alone (reported, dead-lettered, not written) and the rent's other events are applied;
  a history Bloq.It answers off its model (an overlong id, text over ``FreeText``) refuses that rent.
- **Lag**: how long after Bloq.It's event (its ``createdAt``) the run applied a missed one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orderbridge.deps import Deps
from orderbridge.domain.rent_events import acted_on
from orderbridge.models.bloqit import BloqitEvent
from orderbridge.models.bloqit_webhooks import BloqWebhookEvent
from orderbridge.models.rent import Rent
from orderbridge.observability import logger
from orderbridge.store.cursors import Cursor
from orderbridge.store.orders import OpenRent
from orderbridge.syncs.runner import SyncReport, SyncRun, run_sync
from orderbridge.webhooks.bloqit import apply_rent_event

SYNC = "sync_rents"
FOUND_BY = "rent reconciliation"


@dataclass(frozen=True)
class FoundEvent:
    """A rent event found in the rent's history: as the webhook would have received it, when
    Bloq.It says it happened (``createdAt``) and its body as the history gave it."""

    event: BloqWebhookEvent
    happened_at: datetime | None
    raw: str


def sync_rents(deps: Deps, context: LambdaContext | Any) -> SyncReport:
    """The scheduled run (``SyncRentsFunction``): every merchant's open locker orders."""
    return run_sync(SYNC, deps, context, deps.config.merchant_ids(), reconcile_merchant)


def reconcile_merchant(run: SyncRun, cursor: Cursor) -> None:
    """Walk the merchant's open locker orders from ``cursor``, moving it behind each one done."""
    at: Cursor | None = cursor
    for open_rent in run.deps.orders.open_rents(cursor.scope, after=cursor.value):
        if not run.time_left():
            return  # the next run goes on from the cursor
        run.item(f"{open_rent.order_id}:{open_rent.rent_id}", partial(_reconcile, run, cursor.scope, open_rent))
        at = run.advance(at, open_rent.position) if at is not None else None
        if at is None:
            return  # another run is walking this merchant
    if at is not None and at.value is not None:
        run.advance(at, None)  # the walk reached the end: the next run starts over


def _reconcile(run: SyncRun, merchant_id: str, open_rent: OpenRent) -> bool:
    logger.append_keys(order_id=open_rent.order_id, rent_id=open_rent.rent_id)
    try:
        return reconcile_rent(run, merchant_id, open_rent)
    finally:
        logger.remove_keys(["order_id", "rent_id", "correlation_id"])


def reconcile_rent(run: SyncRun, merchant_id: str, open_rent: OpenRent) -> bool:
    """Apply the rent's events we have no record of, oldest first; True if any was recorded."""
    deps = run.deps
    rent = deps.rents.get(open_rent.rent_id)
    if rent is None:  # the order names a rent we never recorded: nothing to apply it to
        logger.warning("the order's rent is not in the rents table: not reconciled")
        return False
    history = deps.vendors.bloqit(merchant_id).get_rent_history(rent.rent_id)
    events = rent_events(history, rent.rent_id)
    recorded = deps.rents.recorded_events(found.event.id for found in events) if events else set()
    changed = False
    for found in events:
        if found.event.id in recorded:
            continue
        size = len(found.raw.encode())
        if size > deps.settings.max_body_bytes:
            reason = (
                f"the event is {size:,} bytes as stored; a webhook body may be at most {deps.settings.max_body_bytes:,}"
            )
            run.refused(f"{open_rent.order_id}:{open_rent.rent_id}:{found.event.id}", reason)
            continue
        if _apply(found, rent, deps):
            changed = True
            if found.happened_at is not None:
                run.lag((deps.clock() - found.happened_at).total_seconds())
    return changed


def rent_events(history: Iterable[BloqitEvent], rent_id: str) -> list[FoundEvent]:
    """The events of ``rent_id`` in its history that our webhook subscribes to (the ones the product
    acts on: ``domain.rent_events.ACTED_ON_EVENTS``), as the webhook would have received them
    (an event without an ``_id`` cannot be matched with its webhook and is left out), oldest first:
    by ``createdAt`` when every event has one, else in the history's own order."""
    found: list[FoundEvent] = []
    for entry in history:
        if not entry.id or not acted_on(entry.code_name) or entry.rent not in (None, rent_id):
            continue
        body = {**entry.model_dump(by_alias=True, mode="json"), "rent": rent_id}
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        found.append(FoundEvent(BloqWebhookEvent.model_validate(body), entry.created_at, raw))
    if all(event.happened_at is not None for event in found):
        found.sort(key=lambda event: event.happened_at or datetime.min.replace(tzinfo=UTC))  # stable
    return found


def _apply(found: FoundEvent, rent: Rent, deps: Deps) -> bool:
    """One missed event through the webhook's path; False when it was recorded meanwhile."""
    outcome = apply_rent_event(
        found.event, rent, found.raw, deps.clock(), deps, found_by=FOUND_BY, happened_at=found.happened_at
    )
    return outcome.created
