"""Events that came before their order: applied when the order becomes known by the vendor's id.

A webhook that names an order we do not know yet keeps its event as ``UNMATCHED#<source>#<ref>``
(``store.orders.record_unmatched``): a Blink status under the Blink order id, a Blink Logistics
task event under the task id, a Bloq.It rent event under the rent id. An order becomes known by
such an id when its item is inserted (a Blink order, by webhook or by the order catch-up) or when a
write links the id to it (a partner order's Blink id once submitted, a courier task, a rent the
order's rent track follows). The order stream sees both on the order item (INSERT / MODIFY) and
calls :func:`replay_for` with its old and new images.

Why the order stream and not the webhook that creates the order: one place sees every way an
order becomes known (the webhook, the catch-up, and the actions that link a Blink id, a task or a
rent), and the stream retries a record until it is processed, so a crash after the order was
written never leaves its events behind. A webhook that keeps an event while the order is being
written closes the remaining gap itself: it looks for the order once more after keeping the event
and applies it then (see ``webhooks/blink.py``).

Each kept event goes through the webhook's own write (``record_blink_status``, ``record_event``,
``record_bloq_rent_event``: ranks and monotonic tracks hold, a later status never moves back), in
the order the events happened, and is deleted once applied. The write is conditional on the event's key not being on
the order's timeline: a replay interrupted between the write and the delete, or two replays at
once, apply nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderbridge.deps import Deps
from orderbridge.domain.statuses import courier_status_update
from orderbridge.models.blink_logistics import TaskStatusWebhook
from orderbridge.models.blink_webhooks import BlinkOrderStatusWebhook
from orderbridge.models.bloqit_webhooks import BloqWebhookEvent
from orderbridge.models.states import BlinkOrderStatus
from orderbridge.observability import logger
from orderbridge.store.orders import UnmatchedEvent, Written

BLINK = "blink"
BLINK_LOGISTICS = "blink_logistics"
BLOQIT = "bloqit"

# The vendor ids on an order item by which webhooks name it: (unmatched source, order attribute).
ORDER_REFS: tuple[tuple[str, str], ...] = (
    (BLINK, "blink_order_id"),
    (BLINK_LOGISTICS, "courier_job"),
    (BLOQIT, "rent_id"),
)


def new_refs(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The (source, vendor id) pairs the order became known by between ``old`` and ``new``."""
    old, new = old or {}, new or {}
    return [
        (source, str(new[attr]))
        for source, attr in ORDER_REFS
        if new.get(attr) not in (None, "") and new.get(attr) != old.get(attr)
    ]


def replay_for(deps: Deps, order_id: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> int:
    """Apply the events kept for every vendor id the order became known by; the number applied."""
    return sum(replay(deps, order_id, source, ref) for source, ref in new_refs(old, new))


def replay(deps: Deps, order_id: str, source: str, ref: str) -> int:
    """Apply the events kept under ``(source, ref)`` to ``order_id`` in their order, deleting each
    once applied (or found applied before); the number that changed the order's timeline."""
    kept = deps.orders.unmatched(source, ref)
    applied = 0
    for one in kept:
        outcome = _apply(deps, order_id, source, ref, one)
        if outcome is None:
            continue  # not applicable yet (a rent event whose rent we have not recorded): kept
        applied += int(outcome.created)
        deps.orders.forget_unmatched(source, ref, one.event.event_key)
    if kept:
        logger.info(
            "events kept before the order was known are applied",
            extra={"source": source, "kept": len(kept), "applied": applied},
        )
    return applied


def _apply(deps: Deps, order_id: str, source: str, ref: str, kept: UnmatchedEvent) -> Written | None:
    event, raw = kept.event, kept.raw
    if source == BLINK:
        payload = BlinkOrderStatusWebhook.model_validate_json(raw)
        if _names_another_branch(deps, order_id, payload.branch_id):
            return Written(order_id)  # dropped: see _names_another_branch
        return deps.orders.record_blink_status(order_id, event, ref, BlinkOrderStatus(payload.status), raw)
    if source == BLINK_LOGISTICS:
        task = TaskStatusWebhook.model_validate_json(raw)
        update = courier_status_update(task.task_event)
        return deps.orders.record_event(order_id, event, update.of(ref) if update else None, raw=raw)
    if source == BLOQIT:
        return _apply_rent_event(deps, ref, kept)
    raise ValueError(f"no replay for events of {source!r}")


def _names_another_branch(deps: Deps, order_id: str, status_branch_id: str | None) -> bool:
    """A kept Blink status naming another branch than its order's is dropped (logged, its kept item
    deleted), as its webhook refuses it when the order is known (``webhooks.blink._same_branch``:
    422, nothing written). Dropped rather than recorded as not applied: the same delivery writes
    nothing whether it came before or after its order, and a status for another branch's order is
    not this order's history (a wrong or forged id), so it does not belong on its timeline."""
    if not status_branch_id:
        return False
    loaded = deps.orders.load(order_id)
    order_branch_id = loaded[0].branch_id if loaded else None
    if order_branch_id is None or order_branch_id == status_branch_id:
        return False
    logger.warning(
        "a kept Blink status names another branch than its order's: dropped, not applied",
        extra={"order_id": order_id, "status_branch_id": status_branch_id, "order_branch_id": order_branch_id},
    )
    return True


def _apply_rent_event(deps: Deps, rent_id: str, kept: UnmatchedEvent) -> Written | None:
    """A Bloq.It rent event, through the webhook's write (``OrderStore.record_bloq_rent_event``):
    the rent's state (and expiry), the order's rent track and timeline in one transaction guarded
    by the event's ``_id``. None while we have no record of the rent."""
    rent = deps.rents.get(rent_id)
    if rent is None:
        return None
    event = BloqWebhookEvent.model_validate_json(kept.raw)
    return deps.orders.record_bloq_rent_event(event, rent, kept.raw, kept.event.received_at, deps.rents)
