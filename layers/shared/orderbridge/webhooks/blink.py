"""Blink's Order Webhook and Order Status Webhook.

Blink gives a webhook 5 s and never retries, so each answer is one read (a BatchGetItem for the
order, the branch and the marks of an order Orderbridge itself submitted) and one transactional
write. An order Orderbridge submitted (a partner order) is announced on the Order Webhook too (an
assumption: docs/vendor-assumptions.md): it is recognised by its Blink id, or — when it arrives
before submitOrder's answer was recorded — by the branch and the customer name we gave it, and
lands on that order. A webhook Blink could not deliver is recovered by the order catch-up
(``syncs/orders.py``: ``getOrderList`` since the highest Blink order id seen), which enters the
order through :func:`record_order` — the same lookup, order id, idempotency and timeline event key
— so a late webhook after it is a duplicate.

A status for an order we do not know yet is kept as ``UNMATCHED#blink#<blink order id>`` (202) and
applied when the order arrives (``workflow/unmatched.py``, run by the order stream).
"""

from __future__ import annotations

from datetime import datetime

from orderbridge.deps import Deps
from orderbridge.domain import normalize
from orderbridge.domain.ids import order_id_for
from orderbridge.domain.statuses import blink_status_event_key
from orderbridge.errors import FieldError, InvalidPayload, UnknownBranch
from orderbridge.models.blink_webhooks import BlinkOrderStatusWebhook, BlinkOrderWebhook
from orderbridge.models.order import OrderSource, TimelineEvent
from orderbridge.models.states import BlinkOrderStatus
from orderbridge.observability import logger
from orderbridge.store.orders import Written
from orderbridge.web.auth import verify_token
from orderbridge.web.request import WebhookRequest, parse_json, parse_model
from orderbridge.webhooks.answers import WebhookAck
from orderbridge.webhooks.new_order import store_new_order
from orderbridge.webhooks.report import report

SOURCE = OrderSource.BLINK.value


def receive_order(request: WebhookRequest, deps: Deps) -> tuple[int, WebhookAck]:
    verify_token(request, deps.secrets.get().blink, source="Blink")
    payload = parse_model(BlinkOrderWebhook, parse_json(request.body))
    outcome = record_order(payload, request.body, deps)
    return 200, WebhookAck(status="accepted", order_id=outcome.order_id)


def record_order(payload: BlinkOrderWebhook, raw: str, deps: Deps, *, via: str = "webhook") -> Written:
    """Enter a Blink order (the Order Webhook's, or the catch-up's read of ``getOrderList`` /
    ``getOrder`` as that payload): a duplicate when stored; the announcement of an order we
    submitted when its Blink id or submission mark names one; else a new order (its workflow starts
    on insert). ``via`` says how it came, in its timeline event (whose key is the same either way)."""
    order_id = order_id_for(SOURCE, payload.blink_order_id)
    logger.set_correlation_id(order_id)
    logger.append_keys(order_id=order_id, blink_order_id=payload.blink_order_id)

    ours = (
        (payload.blink_branch_id, payload.customer_name) if payload.blink_branch_id and payload.customer_name else None
    )
    found = deps.orders.find_with_branch(
        order_id, payload.branch_id, deps.config, alias=(SOURCE, payload.blink_order_id), submitted=ours
    )
    if found.stored:
        duplicate = Written(order_id, duplicate=True)
        report(duplicate, "Blink order", via=via)
        return duplicate
    if found.order_id is not None:
        return _announced(payload, found.order_id, deps, via=via)
    if found.branch is None:
        raise UnknownBranch(
            "the order's branch is not configured in Orderbridge",
            errors=[FieldError("branch_id", f"branch {payload.branch_id!r} is not configured")],
        )

    received_at = deps.clock()
    order = normalize.blink_order(payload, found.branch, received_at=received_at)
    status = payload.status_text or order.status.value
    how = "" if via == "webhook" else f" (by the {via}: its webhook never came)"
    summary = f"order received from Blink{how}, status {payload.status} ({status})"
    event = _order_event(payload, "order_received", summary, received_at, via)
    return store_new_order(deps, order, event, raw, "Blink order", via=via)


def _order_event(payload: BlinkOrderWebhook, kind: str, summary: str, received_at: datetime, via: str) -> TimelineEvent:
    """The timeline event of one Blink order's arrival, keyed by Blink's order id: one event per
    order, whether it arrived as a new order or as the announcement of one we submitted, by its
    webhook or by the catch-up."""
    return TimelineEvent(
        event_key=f"blink:order:{payload.blink_order_id}",
        source=SOURCE,
        kind=kind,
        at=payload.created_at,
        received_at=received_at,
        summary=summary,
        detail={
            "blink_order_id": payload.blink_order_id,
            "blink_status": payload.status,
            "channel": payload.channel,
            "via": via,
        },
    )


def _announced(payload: BlinkOrderWebhook, order_id: str, deps: Deps, *, via: str) -> Written:
    """Blink announced an order Orderbridge itself submitted (a partner order): one sale, one
    order — the announcement lands on that order's timeline (and links Blink's id to it, should it
    come before submitOrder's answer was recorded); no second order, no second workflow."""
    logger.set_correlation_id(order_id)
    logger.append_keys(order_id=order_id)
    summary = f"Blink announced order {payload.blink_order_id}, which Orderbridge submitted"
    event = _order_event(payload, "blink_order_announced", summary, deps.clock(), via)
    outcome = deps.orders.link_vendor(
        order_id,
        event,
        fields={"blink_order_id": payload.blink_order_id, "blink_unique_code": payload.order_key},
        alias=(SOURCE, payload.blink_order_id),
    )
    report(outcome, "Blink order (ours)", via=via)
    return outcome


def _same_branch(status_branch_id: str | None, order_id: str, order_branch_id: str | None, deps: Deps) -> None:
    """A status naming a branch must name the order's (422 otherwise, nothing written). The order's
    branch is read only when the lookup did not bring it (an order found by its Blink id alias)."""
    if not status_branch_id:
        return
    if order_branch_id is None:
        loaded = deps.orders.load(order_id)
        order_branch_id = loaded[0].branch_id if loaded else None
    if order_branch_id is not None and order_branch_id != status_branch_id:
        raise InvalidPayload(
            "the status names another branch than the order's",
            errors=[FieldError("branch_id", f"branch {status_branch_id!r} is not the order's branch")],
        )


def receive_order_status(request: WebhookRequest, deps: Deps) -> tuple[int, WebhookAck]:
    verify_token(request, deps.secrets.get().blink, source="Blink")
    payload = parse_model(BlinkOrderStatusWebhook, parse_json(request.body))
    candidate = order_id_for(SOURCE, payload.blink_order_id)
    logger.append_keys(blink_order_id=payload.blink_order_id)

    found = deps.orders.find_with_branch(
        candidate, payload.branch_id or None, deps.config, alias=(SOURCE, payload.blink_order_id)
    )
    order_id = found.order_id

    status = BlinkOrderStatus(payload.status)
    event = _status_event(payload, status, deps.clock())
    if order_id is None:
        if payload.branch_id and found.branch is None:
            raise UnknownBranch(
                "the status names a branch that is not configured in Orderbridge",
                errors=[FieldError("branch_id", f"branch {payload.branch_id!r} is not configured")],
            )
        outcome = deps.orders.record_unmatched(SOURCE, payload.blink_order_id, event, request.body)
        # The order may have arrived between our lookup and this write, its replay (on its insert)
        # before this event was kept: look once more, and if it is there, apply the event now.
        if deps.orders.find_with_branch(candidate, None, deps.config, alias=(SOURCE, payload.blink_order_id)).order_id:
            deps.orders.forget_unmatched(SOURCE, payload.blink_order_id, event.event_key)
            return receive_order_status(request, deps)
        report(outcome, "Blink status", status=status.name)
        return 202, WebhookAck(status="unmatched")

    logger.set_correlation_id(order_id)
    logger.append_keys(order_id=order_id)
    _same_branch(payload.branch_id, order_id, found.order_branch_id if found.stored else None, deps)
    outcome = deps.orders.record_blink_status(order_id, event, payload.blink_order_id, status, request.body)
    report(outcome, "Blink status", status=status.name)
    return 200, WebhookAck(status="accepted", order_id=order_id)


def _status_event(payload: BlinkOrderStatusWebhook, status: BlinkOrderStatus, received_at: datetime) -> TimelineEvent:
    """The timeline event of one Order Status Webhook, keyed by the status and Blink's time of it."""
    return TimelineEvent(
        event_key=blink_status_event_key(payload.blink_order_id, status, payload.created_at),
        source=SOURCE,
        kind="blink_status",
        at=payload.created_at,
        received_at=received_at,
        summary=f"Blink status {status.value} {payload.status_text or status.name.title()}"
        + (f" by {payload.action_by}" if payload.action_by else ""),
        detail={
            "status": payload.status,
            "status_text": payload.status_text,
            "comment": payload.comment,
            "action_by": payload.action_by,
            "branch_id": payload.branch_id,
        },
    )
