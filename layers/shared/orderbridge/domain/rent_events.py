"""What a Bloq.It event of a rent of ours writes: its record (``BLOQEVENT#<_id>``), the rent's new
expiry (``rent.extended``) and the order's timeline event keyed ``bloq:<_id>``.

Pure (no AWS): the write is ``OrderStore.record_bloq_rent_event``, the one every way a rent event
reaches us goes through — the webhook (``webhooks/bloqit.py``), the rent reconciliation
(``syncs/rents.py``) and the replay of an event that came before its rent (``workflow/unmatched.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderbridge.models.bloqit_webhooks import EVENT_TYPES, EXTENDED_EVENT, EXTENDED_EXPIRY_KEY, BloqWebhookEvent
from orderbridge.models.order import TimelineEvent
from orderbridge.observability import logger

SOURCE = "bloqit"

# The Bloq.It events the product acts on: what our webhook subscribes to (``enabledEvents``,
# actions/bloqit_admin.py; Bloq.It "sends the events that correspond to the subscribed events") and
# what the rent reconciliation applies from a rent's history (syncs/rents.py). Each moves a rent to
# a state some decision reads (a wait's verdict in domain/waits.py; an action's guard in
# actions/lockers.py: started keeps a locker mid-drop-off from being released; cancelled, expired
# and finished decide cancel/finish/return) or moves its expiry (rent.extended). Left out:
# - rent.created, rent.reserved: the answer of our own ReserveLocker call, recorded from that
#   answer; the lowest ranks of the rent track (they never move it) and no decision tells them apart;
# - rent.price_calculation: between collect_item (the customer took the goods: the pickup wait
#   ends there) and finished, sent right before finished; no decision differs from collect_item;
# - the other rent.* events (notification sent, drop-off confirmation / cancellation / code checks,
#   pin attempts, waiting offline sync): they move no state;
# - locker.* and bloq.* (nothing reads them) and customer.* (we keep no Bloq.It customers).
# A missed one is recovered by the scheduled rent reconciliation, which reads the same set.
ACTED_ON_EVENTS: tuple[str, ...] = tuple(
    code
    for code in EVENT_TYPES  # the doc's order
    if code
    in {
        "rent.started",
        "rent.in_progress",
        "rent.offline_dropoff",
        "rent.locker_opened",
        "rent.ready_for_pickup",
        "rent.in_transit",
        "rent.collect_item",
        "rent.finished",
        "rent.cancelled",
        "rent.expired",
        EXTENDED_EVENT,
    }
)


def acted_on(code_name: str | None) -> bool:
    """Whether the product acts on a Bloq.It event of this type (:data:`ACTED_ON_EVENTS`)."""
    return code_name in ACTED_ON_EVENTS


def event_key(event: BloqWebhookEvent) -> str:
    """The timeline key of a Bloq.It event: its ``_id`` (a redelivery is a duplicate)."""
    return f"bloq:{event.id}"


def event_ids(event: BloqWebhookEvent) -> dict[str, str | None]:
    """What the event is and what it is about: kept with every event, and in the order's timeline."""
    return {
        "event_id": event.id,
        "code_name": event.code_name,
        "rent_id": event.rent,
        "bloq_id": event.bloq,
        "locker_id": event.locker,
    }


def event_record(event: BloqWebhookEvent, raw: str, received_at: datetime) -> dict[str, Any]:
    """What is kept of a Bloq.It event (its ``BLOQEVENT#`` record): what it is about, when we got
    it and its body as received."""
    return {**event_ids(event), "received_at": received_at, "raw": raw}


def new_expiry(event: BloqWebhookEvent) -> datetime | None:
    """The rent's new expiry a ``rent.extended`` event carries; a warning when it carries none."""
    expiry = event.new_expiry
    if expiry is None and event.code_name == EXTENDED_EVENT:
        logger.warning(
            f"Bloq.It {EXTENDED_EVENT} without a readable metadata.{EXTENDED_EXPIRY_KEY}: "
            "the rent's expiry is left as it was"
        )
    return expiry


def rent_timeline_event(
    event: BloqWebhookEvent,
    rent_id: str,
    expiry: datetime | None,
    received_at: datetime,
    happened_at: datetime | None,
    found: dict[str, str],
) -> TimelineEvent:
    """The order's timeline event of a rent event (``found``: how it was found when no webhook
    brought it; ``happened_at``: Bloq.It's time of the event, when known)."""
    expires = f": expires {expiry.isoformat()}" if expiry else ""
    message = f": {event.message}" if event.message else ""
    initiated_by = event.action_initiated_by.model_dump() if event.action_initiated_by else None
    return TimelineEvent(
        event_key=event_key(event),
        source=SOURCE,
        kind="rent_event",
        at=happened_at,
        received_at=received_at,
        summary=f"locker rent {event.code_name.removeprefix('rent.')}{expires}{message}",
        detail={
            **event_ids(event),
            "rent_id": rent_id,
            "title": event.title,
            "initiated_by": initiated_by,
            **({"expires_at": expiry.isoformat()} if expiry else {}),
            **found,
        },
    )
