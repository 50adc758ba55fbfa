"""Blink Logistics' Task Status Webhook: a courier task moved on.

The webhook names only the task; the task → order alias is written when we create the task.
The payload has no event id or time, so a delivery's identity is its task, event and a digest
of the canonical JSON of its payload (``web.request.canonical_digest``: the same event resent, even
re-serialised, is a duplicate; a reassignment to another rider is not).

An event for a task we do not know yet (it came before the task → order alias was written) is kept
as ``UNMATCHED#blink_logistics#<task id>`` (202) and applied when the order's courier job becomes
that task (``workflow/unmatched.py``, run by the order stream).
"""

from __future__ import annotations

from orderbridge.deps import Deps
from orderbridge.domain.statuses import courier_status_update
from orderbridge.models.blink_logistics import TaskStatusWebhook
from orderbridge.models.order import TimelineEvent
from orderbridge.observability import logger
from orderbridge.web.auth import verify_token
from orderbridge.web.request import WebhookRequest, canonical_digest, parse_json, parse_model
from orderbridge.webhooks.answers import WebhookAck
from orderbridge.webhooks.report import report

SOURCE = "blink_logistics"


def receive_task_status(request: WebhookRequest, deps: Deps) -> tuple[int, WebhookAck]:
    verify_token(request, deps.secrets.get().blink_logistics, source="Blink Logistics")
    data = parse_json(request.body)
    payload = parse_model(TaskStatusWebhook, data)
    task_id = payload.data.task_id
    logger.append_keys(task_id=task_id)

    order_id = deps.orders.order_for(SOURCE, task_id)

    digest = canonical_digest(data)
    event = TimelineEvent(
        event_key=f"logistics:{task_id}:{payload.event_id}:{digest}",
        source=SOURCE,
        kind="task_status",
        received_at=deps.clock(),
        summary=payload.summary(),
        detail=payload.timeline_detail(),
    )
    if order_id is None:
        outcome = deps.orders.record_unmatched(SOURCE, task_id, event, request.body)
        # The task may have been linked between our lookup and this write, its replay before this
        # event was kept: look once more, and if it is linked now, apply the event now.
        if deps.orders.order_for(SOURCE, task_id) is not None:
            deps.orders.forget_unmatched(SOURCE, task_id, event.event_key)
            return receive_task_status(request, deps)
        report(outcome, "courier task event", event=payload.task_event.name)
        return 202, WebhookAck(status="unmatched")

    logger.set_correlation_id(order_id)
    logger.append_keys(order_id=order_id)
    update = courier_status_update(payload.task_event)
    # Only the order's current courier job moves its courier track (a replaced task's late events
    # are kept in the timeline).
    outcome = deps.orders.record_event(order_id, event, update.of(task_id) if update else None, raw=request.body)
    report(outcome, "courier task event", event=payload.task_event.name)
    return 200, WebhookAck(status="accepted", order_id=order_id)
