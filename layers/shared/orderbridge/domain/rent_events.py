"""What a Bloq.It event of a rent of ours writes: its record (``BLOQEVENT#<_id>``), the rent's new
expiry (``rent.extended``) and the order's timeline event keyed ``bloq:<_id>``.

Pure (no AWS): the write is ``OrderStore.record_bloq_rent_event``, the one every way a rent event
reaches us goes through — the webhook (``webhooks/bloqit.py``), the rent reconciliation
(``syncs/rents.py``) and the replay of an event that came before its rent (``workflow/unmatched.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderbridge.models.bloqit import EXTENDED_EVENT, EXTENDED_EXPIRY_KEY, BloqWebhookEvent
from orderbridge.models.order import TimelineEvent
from orderbridge.observability import logger

SOURCE = "bloqit"


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
