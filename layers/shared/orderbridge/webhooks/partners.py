"""The Blend ``order_created`` contract, sent by delivery platforms to
``/webhooks/partners/{partner}/orders``.

The answer is the contract's: ``{"order_id": "<ours>", "status": "success"}`` once the order is
stored; otherwise ``{"order_id": "", "status": "failed", "errors": [...]}`` with a 4xx when a
retry cannot help and a 5xx when it can (partners retry on non-200).
"""

from __future__ import annotations

from datetime import datetime

from orderbridge.deps import Deps
from orderbridge.domain import normalize
from orderbridge.domain.ids import order_id_for
from orderbridge.errors import FieldError, UnknownBranch, UnknownPartner
from orderbridge.models.blend import BlendAnswer, BlendOrderCreated
from orderbridge.models.config import Partner, PartnerBranch
from orderbridge.models.order import Order, OrderSource, TimelineEvent
from orderbridge.models.types import ID_MAX_LENGTH
from orderbridge.observability import logger
from orderbridge.store.orders import Written
from orderbridge.web.auth import verify_token
from orderbridge.web.request import WebhookRequest, parse_json, parse_model
from orderbridge.webhooks.new_order import store_new_order
from orderbridge.webhooks.report import report


def receive_order(request: WebhookRequest, deps: Deps) -> tuple[int, BlendAnswer]:
    partner_id = _verified_partner(request, deps)
    event = parse_model(BlendOrderCreated, parse_json(request.body))
    source = f"{OrderSource.PARTNER.value}:{partner_id}"
    order_id = order_id_for(source, event.payload.id)
    logger.set_correlation_id(order_id)
    logger.append_keys(order_id=order_id, partner=partner_id, partner_order_id=event.payload.id)

    found = deps.orders.find_with_partner(order_id, partner_id, event.branch_id, deps.config)
    answer = BlendAnswer(order_id=order_id, status="success")
    if found.stored:
        report(Written(order_id, duplicate=True), "partner order")
        return 200, answer
    partner, route = _enabled_route(found.partner, found.route, partner_id, event.branch_id)

    mappings = deps.config.mappings(partner_id, route.merchant_id, normalize.mapping_keys(event))
    received_at = deps.clock()
    order = normalize.partner_order(event, route, mappings, received_at=received_at)
    received = _order_received(event, order, source, partner.name, received_at)
    store_new_order(deps, order, received, request.body, "partner order", unmapped=len(order.unmapped))
    return 200, answer


def _verified_partner(request: WebhookRequest, deps: Deps) -> str:
    """The partner of the path, once its token is checked: a partner we have no tokens for is a 404."""
    partner_id = request.path.get("partner", "")
    tokens = deps.secrets.get().partners.get(partner_id)
    if not tokens and partner_id:
        # A partner with a tokens secret of its own (its configuration names it: docs/configuration.md)
        configured = deps.config.partner(partner_id) if len(partner_id) <= ID_MAX_LENGTH else None
        if configured is not None and configured.tokens_secret:
            tokens = deps.secrets.tokens_in(configured.tokens_secret)
    if not tokens:
        raise UnknownPartner(
            "no such delivery partner", errors=[FieldError("partner", f"partner {partner_id!r} is not configured")]
        )
    verify_token(request, tokens, source=f"partner {partner_id}")
    return partner_id


def _enabled_route(
    partner: Partner | None, route: PartnerBranch | None, partner_id: str, branch_id: str
) -> tuple[Partner, PartnerBranch]:
    """The partner and the merchant branch its ``branch_id`` routes to: refused when the partner is
    not enabled or the branch not routed."""
    if partner is None or not partner.enabled:
        raise UnknownPartner(
            "no such delivery partner", errors=[FieldError("partner", f"partner {partner_id!r} is not enabled")]
        )
    if route is None:
        raise UnknownBranch(
            "the order's branch is not routed to a merchant",
            errors=[FieldError("branch_id", f"branch {branch_id!r} is not configured for {partner_id!r}")],
        )
    return partner, route


def _order_received(
    event: BlendOrderCreated, order: Order, source: str, partner_name: str, received_at: datetime
) -> TimelineEvent:
    unmapped = f"; {len(order.unmapped)} item(s) without a product mapping" if order.unmapped else ""
    return TimelineEvent(
        event_key=f"{source}:order:{event.payload.id}",
        source=source,
        kind="order_received",
        at=event.event_time,
        received_at=received_at,
        summary=f"order received from {partner_name}{unmapped}",
        detail={
            "partner_order_id": event.payload.id,
            "branch_id": event.branch_id,
            "unmapped": [u.model_dump() for u in order.unmapped],
        },
    )
