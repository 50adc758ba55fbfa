"""Bloq.It webhook events: where a rent event changes an order.

Every event is recorded once, keyed by its Bloq.It ``_id``. A ``rent.*`` event for a rent of
ours also moves the rent's state and the order's ``rent_state`` track (monotonic, see
``domain.statuses``; ``rent.offline_dropoff`` counts as the drop-off, see
``models.bloqit_webhooks.RENT_EVENT_STATE``) and lands in the order's timeline. ``rent.extended`` moves
the rent's expiry to the one the event carries (later only). :func:`apply_rent_event` does it,
for the webhook and for the rent reconciliation (``syncs/rents.py``) alike, through the one write
of a rent event (``OrderStore.record_bloq_rent_event``, also the replay's of an event that came
before its rent: ``workflow/unmatched.py``). Other events (locker, bloq, customer) and rents we do
not know are recorded for reconciliation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderbridge.deps import Deps
from orderbridge.domain.rent_events import SOURCE, event_ids, event_key, event_record
from orderbridge.models.bloqit_webhooks import BloqWebhookEvent
from orderbridge.models.order import TimelineEvent
from orderbridge.models.rent import Rent
from orderbridge.observability import logger
from orderbridge.store.orders import Written
from orderbridge.web.auth import verify_bloq_signature
from orderbridge.web.request import WebhookRequest, parse_json, parse_model
from orderbridge.webhooks.answers import WebhookAck
from orderbridge.webhooks.report import report


def receive_event(request: WebhookRequest, deps: Deps) -> tuple[int, WebhookAck]:
    verify_bloq_signature(request, deps.secrets.get().bloq, deps.settings.bloq)
    event = parse_model(BloqWebhookEvent, parse_json(request.body))
    logger.append_keys(bloq_event_id=event.id, bloq_event=event.code_name, rent_id=event.rent)
    received_at = deps.clock()

    rent = deps.rents.get(event.rent) if event.category == "rent" and event.rent else None
    if rent is None and event.category == "rent" and event.rent:
        return _record_unmatched(request, event, event.rent, received_at, deps)
    if rent is None:
        return _record_only(event, event_record(event, request.body, received_at), deps)
    apply_rent_event(event, rent, request.body, received_at, deps)
    return 200, WebhookAck(status="accepted", order_id=rent.order_id)


def _record_unmatched(
    request: WebhookRequest, event: BloqWebhookEvent, rent_id: str, received_at: datetime, deps: Deps
) -> tuple[int, WebhookAck]:
    """An event of a rent we do not know yet (it came before our record of the rent): kept as
    ``UNMATCHED#bloqit#<rent id>`` with its raw body, keyed ``bloq:<_id>`` (a redelivery is a
    duplicate), and applied through the webhook's own write (``OrderStore.record_bloq_rent_event``)
    when the order's rent becomes that rent (``workflow/unmatched.py``, run by the order stream)."""
    kept = TimelineEvent(
        event_key=event_key(event),
        source=SOURCE,
        kind="rent_event",
        received_at=received_at,
        summary=f"locker rent {event.code_name.removeprefix('rent.')} (rent not known yet)",
        detail=event_ids(event),
    )
    outcome = deps.orders.record_unmatched(SOURCE, rent_id, kept, request.body)
    # Our record of the rent may have been written between our lookup and this write, its replay
    # before this event was kept: look once more, and if the rent is ours now, apply the event now.
    if deps.rents.get(rent_id) is not None:
        deps.orders.forget_unmatched(SOURCE, rent_id, kept.event_key)
        return receive_event(request, deps)
    report(outcome, f"Bloq.It {event.code_name}")
    return 202, WebhookAck(status="unmatched")


def _record_only(event: BloqWebhookEvent, record: dict[str, Any], deps: Deps) -> tuple[int, WebhookAck]:
    """An event about no rent of ours (or about no rent at all): recorded once, for reconciliation."""
    created = deps.rents.record_event_only(event.id, record)
    if event.category == "rent":
        report(Written(None, created=created, duplicate=not created), f"Bloq.It {event.code_name}")
        return 202, WebhookAck(status="unmatched")
    logger.info(f"Bloq.It {event.code_name} {'recorded' if created else 'duplicate: already recorded'}")
    return 200, WebhookAck(status="accepted")


def apply_rent_event(
    event: BloqWebhookEvent,
    rent: Rent,
    raw: str,
    received_at: datetime,
    deps: Deps,
    *,
    found_by: str | None = None,
    happened_at: datetime | None = None,
) -> Written:
    """An event of one of our rents (``raw``: its body): the rent's state (and expiry), the order's
    rent track and its timeline move in one write, guarded by the event's id
    (``OrderStore.record_bloq_rent_event``).

    The webhook's, and the rent reconciliation's (``syncs/rents.py``) for an event it found in the
    rent's history that no webhook brought (``found_by``, kept on the event record and in the
    timeline; ``happened_at``: Bloq.It's time of the event). Whichever comes second is a duplicate
    and writes nothing."""
    logger.set_correlation_id(rent.order_id)
    logger.append_keys(order_id=rent.order_id)
    outcome = deps.orders.record_bloq_rent_event(
        event, rent, raw, received_at, deps.rents, found_by=found_by, happened_at=happened_at
    )
    report(outcome, f"Bloq.It {event.code_name}" + (f" (found by the {found_by})" if found_by else ""))
    return outcome
