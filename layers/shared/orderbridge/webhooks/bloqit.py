"""Bloq.It webhook events: where a rent event changes an order.

Every event is recorded once, keyed by its Bloq.It ``_id``. A ``rent.*`` event for a rent of
ours also moves the rent's state and the order's ``rent_state`` track (monotonic, see
``domain.statuses``; ``rent.offline_dropoff`` counts as the drop-off, see
``models.bloqit.RENT_EVENT_STATE``) and lands in the order's timeline. ``rent.extended`` moves
the rent's expiry to the one the event carries (later only). Other events (locker, bloq, customer)
and rents we do not know are recorded for reconciliation.
"""

from __future__ import annotations

from orderbridge.deps import Deps
from orderbridge.domain.statuses import rent_state_update
from orderbridge.models.bloqit import EXTENDED_EVENT, EXTENDED_EXPIRY_KEY, BloqWebhookEvent
from orderbridge.models.order import TimelineEvent
from orderbridge.observability import logger
from orderbridge.store.orders import Written
from orderbridge.web.auth import verify_bloq_signature
from orderbridge.web.request import WebhookRequest, parse_json, parse_model
from orderbridge.webhooks.answers import WebhookAck
from orderbridge.webhooks.report import report

SOURCE = "bloqit"


def receive_event(request: WebhookRequest, deps: Deps) -> tuple[int, WebhookAck]:
    verify_bloq_signature(request, deps.secrets.get().bloq, deps.settings.bloq)
    event = parse_model(BloqWebhookEvent, parse_json(request.body))
    logger.append_keys(bloq_event_id=event.id, bloq_event=event.code_name, rent_id=event.rent)
    received_at = deps.clock()
    record = {
        "event_id": event.id,
        "code_name": event.code_name,
        "rent_id": event.rent,
        "bloq_id": event.bloq,
        "locker_id": event.locker,
        "received_at": received_at,
        "raw": request.body,
    }

    rent = deps.rents.get(event.rent) if event.category == "rent" and event.rent else None
    if rent is None:
        created = deps.rents.record_event_only(event.id, record)
        if event.category == "rent":
            report(Written(None, created=created, duplicate=not created), f"Bloq.It {event.code_name}")
            return 202, WebhookAck(status="unmatched")
        logger.info(f"Bloq.It {event.code_name} {'recorded' if created else 'duplicate: already recorded'}")
        return 200, WebhookAck(status="accepted")

    logger.set_correlation_id(rent.order_id)
    logger.append_keys(order_id=rent.order_id)
    update = rent_state_update(event.rent_state)
    ranked = [deps.rents.state_update(rent.rent_id, update, received_at)] if update else []
    expiry = event.new_expiry
    if expiry is not None:
        # rent.extended: the rent's expiry follows (later only), in the same write as the event.
        ranked.append(deps.rents.expiry_update(rent.rent_id, expiry, received_at))
    elif event.code_name == EXTENDED_EVENT:
        logger.warning(
            f"Bloq.It {EXTENDED_EVENT} without a readable metadata.{EXTENDED_EXPIRY_KEY}: "
            "the rent's expiry is left as it was"
        )
    timeline = TimelineEvent(
        event_key=f"bloq:{event.id}",
        source=SOURCE,
        kind="rent_event",
        received_at=received_at,
        summary=f"locker rent {event.code_name.removeprefix('rent.')}"
        + (f": expires {expiry.isoformat()}" if expiry else "")
        + (f": {event.message}" if event.message else ""),
        detail={
            "event_id": event.id,
            "code_name": event.code_name,
            "rent_id": rent.rent_id,
            "bloq_id": event.bloq,
            "locker_id": event.locker,
            "title": event.title,
            "initiated_by": event.action_initiated_by.model_dump() if event.action_initiated_by else None,
            **({"expires_at": expiry.isoformat()} if expiry else {}),
        },
    )
    outcome = deps.orders.record_event(
        rent.order_id,
        timeline,
        update.of(rent.rent_id) if update else None,  # the order's rent track follows its current rent only
        ranked=ranked,
        guards=[deps.rents.event_guard(event.id, {**record, "order_id": rent.order_id})],
    )
    report(outcome, f"Bloq.It {event.code_name}")
    return 200, WebhookAck(status="accepted", order_id=rent.order_id)
