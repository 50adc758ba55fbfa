"""The Blend ``order_created`` contract, sent by delivery platforms to
``/webhooks/partners/{partner}/orders``.

The answer is the contract's: ``{"order_id": "<ours>", "status": "success"}`` once the order is
stored; otherwise ``{"order_id": "", "status": "failed", "errors": [...]}`` with a 4xx when a
retry cannot help and a 5xx when it can (partners retry on non-200).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from orderbridge.deps import Deps
from orderbridge.domain import normalize
from orderbridge.domain.ids import order_id_for
from orderbridge.errors import FieldError, UnknownBranch, UnknownPartner
from orderbridge.models.blend import BlendAnswer, BlendOrderCreated
from orderbridge.models.config import Partner, PartnerBranch
from orderbridge.models.order import OrderSource, TimelineEvent
from orderbridge.observability import logger, metrics
from orderbridge.store import config as config_keys
from orderbridge.store import orders as order_keys
from orderbridge.store.batch import batch_get
from orderbridge.store.orders import Written
from orderbridge.web.auth import verify_token
from orderbridge.web.request import WebhookRequest, parse_json, parse_model
from orderbridge.webhooks.report import report


def receive_order(request: WebhookRequest, deps: Deps) -> tuple[int, BlendAnswer]:
    partner_id = request.path.get("partner", "")
    tokens = deps.secrets.get().partners.get(partner_id)
    if not tokens:
        raise UnknownPartner(
            "no such delivery partner", errors=[FieldError("partner", f"partner {partner_id!r} is not configured")]
        )
    verify_token(request, tokens, source=f"partner {partner_id}")
    event = parse_model(BlendOrderCreated, parse_json(request.body))
    source = f"{OrderSource.PARTNER.value}:{partner_id}"
    order_id = order_id_for(source, event.payload.id)
    logger.set_correlation_id(order_id)
    logger.append_keys(order_id=order_id, partner=partner_id, partner_order_id=event.payload.id)

    orders_table, config_table = deps.settings.orders_table, deps.settings.config_table
    found = batch_get(
        deps.dynamodb,
        {
            orders_table: [order_keys.order_key(order_id)],
            config_table: [
                config_keys.partner_key(partner_id),
                config_keys.partner_branch_key(partner_id, event.branch_id),
            ],
        },
    )
    answer = BlendAnswer(order_id=order_id, status="success")
    if found[orders_table]:
        report(Written(order_id, duplicate=True), "partner order")
        return 200, answer
    partner: Partner | None = None
    route: PartnerBranch | None = None
    for item in found[config_table]:
        record = config_keys.parse(item)
        if isinstance(record, Partner):
            partner = record
        elif isinstance(record, PartnerBranch):
            route = record
    if partner is None or not partner.enabled:
        raise UnknownPartner(
            "no such delivery partner", errors=[FieldError("partner", f"partner {partner_id!r} is not enabled")]
        )
    if route is None:
        raise UnknownBranch(
            "the order's branch is not routed to a merchant",
            errors=[FieldError("branch_id", f"branch {event.branch_id!r} is not configured for {partner_id!r}")],
        )

    mappings = deps.config.mappings(partner_id, route.merchant_id, normalize.mapping_keys(event))
    received_at = deps.clock()
    order = normalize.partner_order(event, route, mappings, received_at=received_at)
    timeline = TimelineEvent(
        event_key=f"partner:{partner_id}:order:{event.payload.id}",
        source=source,
        kind="order_received",
        at=event.event_time,
        received_at=received_at,
        summary=f"order received from {partner.name}"
        + (f"; {len(order.unmapped)} item(s) without a product mapping" if order.unmapped else ""),
        detail={
            "partner_order_id": event.payload.id,
            "branch_id": event.branch_id,
            "unmapped": [u.model_dump() for u in order.unmapped],
        },
    )
    outcome = deps.orders.create(order, timeline, raw=request.body)
    if outcome.created:
        metrics.add_metric(name="OrdersReceived", unit=MetricUnit.Count, value=1)
        if order.unmapped:
            metrics.add_metric(name="UnmappedItems", unit=MetricUnit.Count, value=len(order.unmapped))
    report(outcome, "partner order", items=len(order.items), unmapped=len(order.unmapped))
    return 200, answer
