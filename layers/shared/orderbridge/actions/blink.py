"""Actions at Blink's interface API: submit a delivery-partner order, sync an order's status.
(Stock and prices are pushed by a scheduled sync: ``syncs.stock_and_price``.)

Both change something at Blink, so they are declared idempotent
(``@action(idempotent=True)``): a retried task gets the first answer instead of a second Blink
order; and each looks at what Blink already has before acting (an order already submitted, a status already
at or past the one to send), so a resumed workflow does nothing twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from orderbridge.actions.common import (
    ActionRefused,
    CustomerDetails,
    OrderInput,
    build,
    customer_of,
    our_event,
    require_order,
    sent_once,
)
from orderbridge.actions.runtime import action
from orderbridge.deps import Deps
from orderbridge.domain import blink_submit
from orderbridge.domain.statuses import ORDER_STATUS_RANK, order_status_update
from orderbridge.models.base import OurModel
from orderbridge.models.blink import BlinkSubmitOrderDelivery, BlinkSubmitOrderRequest, BlinkSubmittedOrder
from orderbridge.models.config import Branch, Partner, PartnerDelivery
from orderbridge.models.order import Customer, Order, OrderSource, TimelineEvent
from orderbridge.models.states import BlinkOrderStatus
from orderbridge.observability import logger
from orderbridge.vendors.http import RetryableVendorError, VendorError, VendorOutcomeUnknown

if TYPE_CHECKING:
    from orderbridge.vendors.blink import BlinkClient

ALIAS_SOURCE = OrderSource.BLINK.value  # the Blink status webhook looks orders up by this alias

# --------------------------------------------------------------------------------------------------
# Submit an order
# --------------------------------------------------------------------------------------------------


class SubmitOrderToBlinkInput(OrderInput):
    """Submit an order (a delivery-partner order) to Blink.

    The Blend contract carries no customer and no address, so they come in here; anything given
    here takes precedence over the order's own.
    """

    customer: CustomerDetails | None = None
    delivery: BlinkSubmitOrderDelivery | None = None  # required for a delivery order
    delivery_type: Literal["dinein", "pickup", "delivery"] | None = None  # default: from the order type
    payment_method: Literal["Cash", "Online"] | None = None  # default: from the order's payment
    delivery_eta: int | None = Field(default=None, ge=0)  # minutes
    instructions: str | None = None  # default: the order's note
    scheduled_delivery_time: str | None = None  # "22-05-2025 08:00 PM", branch local time


class SubmitOrderToBlinkOutput(OurModel):
    order_id: str
    blink_order_id: str
    blink_unique_code: str | None = None
    already_submitted: bool = False  # the order had a Blink id already: nothing was sent


@action(idempotent=True)
def submit_order_to_blink(*, request: SubmitOrderToBlinkInput, deps: Deps) -> SubmitOrderToBlinkOutput:
    """Submit a delivery-partner order to Blink, under the partner's identity.

    The Blend contract carries no customer: Blink's customer is the partner (its display name with
    the partner's order id, its contact phone), and the ``delivery`` block is the branch's address
    unless the merchant's own courier takes the order to the customer's door (then it is the
    customer's address, which a person enters on the order). Before sending, the submission is
    remembered under what Blink's Order Webhook will carry back (branch and customer name), so its
    announcement of the order lands on this order even before the answer is recorded.
    """
    order, _ = require_order(deps, request.order_id)
    if order.blink_order_id:
        logger.info("the order is in Blink already: not submitted again")
        return SubmitOrderToBlinkOutput(
            order_id=order.order_id,
            blink_order_id=order.blink_order_id,
            blink_unique_code=order.blink_unique_code,
            already_submitted=True,
        )
    branch = deps.config.branch(order.branch_id)
    partner = deps.config.partner(order.partner_id) if order.partner_id else None
    if order.unmapped or blink_submit.unmapped_keys(order):
        order = _with_current_mappings(deps, order)
    submission = _submission(request, order, branch, partner)
    deps.orders.expect_submission(submission.blink_branch_id, submission.customer_name, order.order_id)
    with sent_once(deps, order.order_id, "blink_submit", 1, vendor="blink", what="the order in Blink"):
        submitted = deps.vendors.blink(order.merchant_id).submit_order(submission)
    logger.append_keys(blink_order_id=submitted.id)
    deps.orders.link_vendor(
        order.order_id,
        _submitted_event(deps, submission, submitted),
        fields={
            "blink_order_id": submitted.id,
            "blink_unique_code": submitted.unique_code,
            "blink_branch_id": submission.blink_branch_id,
        },
        alias=(ALIAS_SOURCE, submitted.id),
    )
    return SubmitOrderToBlinkOutput(
        order_id=order.order_id, blink_order_id=submitted.id, blink_unique_code=submitted.unique_code
    )


def _submitted_event(deps: Deps, submission: BlinkSubmitOrderRequest, submitted: BlinkSubmittedOrder) -> TimelineEvent:
    code = f" ({submitted.unique_code})" if submitted.unique_code else ""
    return our_event(
        deps,
        f"orderbridge:blink_submitted:{submitted.id}",
        "blink_submitted",
        f"submitted to Blink as order {submitted.id}{code}",
        detail={
            "blink_order_id": submitted.id,
            "unique_code": submitted.unique_code,
            "blink_branch_id": submission.blink_branch_id,
            "items": len(submission.items),
            "delivery_type": submission.delivery_type,
        },
    )


def _with_current_mappings(deps: Deps, order: Order) -> Order:
    """The order with the item mappings that exist now (one may have been added since it arrived),
    kept on the order so the ops API shows what will be sent."""
    if not order.partner_id:
        return order
    mappings = deps.config.mappings(order.partner_id, order.merchant_id, blink_submit.unmapped_keys(order))
    if not mappings:
        return order
    mapped = blink_submit.apply_mappings(order, mappings)
    event = our_event(
        deps,
        f"orderbridge:mapped:{len(order.unmapped)}:{len(mapped.unmapped)}",
        "items_mapped",
        f"{len(order.unmapped) - len(mapped.unmapped)} item(s) mapped since the order arrived",
        detail={"still_unmapped": [u.model_dump() for u in mapped.unmapped]},
    )
    deps.orders.link_vendor(
        order.order_id,
        event,
        fields={
            "items": [item.model_dump() for item in mapped.items],
            "unmapped": [u.model_dump() for u in mapped.unmapped],
        },
    )
    return mapped


def _submission(
    request: SubmitOrderToBlinkInput, order: Order, branch: Branch | None, partner: Partner | None
) -> BlinkSubmitOrderRequest:
    """Blink's submitOrder request for the order; every reason it cannot be made, in plain words
    (``ActionRefused``: the order needs a person)."""
    problems: list[str] = []
    unmapped = blink_submit.unmapped_for_blink(order)
    if unmapped:
        problems.append("no Blink item is mapped for " + ", ".join(unmapped) + ": add the item mapping, then retry")
    blink_branch_id = order.blink_branch_id or (branch.blink_id if branch else None)
    if not blink_branch_id:
        problems.append(f"branch {order.branch_id} has no Blink branch id (blink_id) in its configuration")
    customer = _partner_identity(request, order, partner, problems)
    delivery_type = request.delivery_type or blink_submit.delivery_type(order.order_type or "DELIVERY")
    merchant_delivers = partner is not None and partner.delivered_by is PartnerDelivery.MERCHANT
    to_the_door = delivery_type == "delivery" and merchant_delivers
    address = request.delivery
    if address is None:
        address = _delivery_block(order, branch, to_the_door, problems)
    if delivery_type is None:
        problems.append(f"order type {order.order_type!r} is not one Blink knows")
    if problems:
        raise ActionRefused(f"order {order.order_id} cannot be submitted to Blink: " + "; ".join(problems))
    scheduled = request.scheduled_delivery_time
    return build(
        BlinkSubmitOrderRequest,
        "the order does not make a valid Blink order",
        blink_branch_id=blink_branch_id,
        delivery=address,
        customer_name=customer.name,
        customer_phone=customer.phone,
        customer_email=customer.email,
        is_scheduled=1 if scheduled else 0,
        scheduled_delivery_time=scheduled,
        delivery_type=delivery_type,
        payment_method=request.payment_method or blink_submit.payment_method(order),
        tax_amount=order.amounts.tax,
        subtotal=blink_submit.subtotal(order),
        total=blink_submit.total(order),
        delivery_charges=order.amounts.delivery_charges or 0,
        delivery_eta=request.delivery_eta,
        instructions=request.instructions or _instructions(order, partner, to_the_door),
        items=blink_submit.blink_items(order),
    )


def _partner_identity(
    request: SubmitOrderToBlinkInput, order: Order, partner: Partner | None, problems: list[str]
) -> Customer:
    """Blink's customer for a partner order: the partner's display name with its order id and its
    contact phone, under what the request gives; what is still missing goes to ``problems``."""
    identity = CustomerDetails(
        name=f"{partner.blink_name} {order.source_order_id}" if partner else None,
        phone=partner.contact_phone if partner else None,
    )
    customer = customer_of(
        order, identity.model_copy(update=(request.customer or CustomerDetails()).model_dump(exclude_none=True))
    )
    if not customer.name:
        problems.append("no customer name (the partner's display_name)")
    if not customer.phone:
        problems.append("no customer phone (the partner's contact_phone)")
    return customer


def _delivery_block(
    order: Order, branch: Branch | None, to_the_door: bool, problems: list[str]
) -> BlinkSubmitOrderDelivery | None:
    """The address Blink gets: the customer's when the merchant's courier goes to the door (a
    person enters it: the platform sends none), else the branch's; when missing, ``problems`` says so."""
    if to_the_door:
        if order.delivery_address is None:
            problems.append(
                "no delivery address for the customer (the delivery platform sends none): "
                "enter it on the order, then retry"
            )
            return None
        return BlinkSubmitOrderDelivery.model_validate(order.delivery_address.model_dump())
    if branch is None or branch.blink_address is None:
        problems.append(
            f"branch {order.branch_id} has no blink_address in its configuration "
            "(Blink needs an address for every order)"
        )
        return None
    return BlinkSubmitOrderDelivery.model_validate(branch.blink_address.model_dump())


def _instructions(order: Order, partner: Partner | None, to_the_door: bool) -> str | None:
    who = f"{partner.blink_name} order {order.source_order_id}" if partner else None
    if partner is not None and not to_the_door and (order.order_type or "DELIVERY").upper() == "DELIVERY":
        who = f"{who}: collected at the branch by {partner.blink_name}'s rider"
    return "; ".join(part for part in (who, order.note) if part) or None


# --------------------------------------------------------------------------------------------------
# Sync an order's status
# --------------------------------------------------------------------------------------------------


class SyncOrderStatusToBlinkInput(OrderInput):
    """Set the order's status in Blink: 0 pending, 1 accepted, 6 ready, 2 dispatched, 3 delivered,
    4 rejected (4 needs ``comment``, the reason). ``then``: the statuses set after it, each in turn,
    in the same invocation (ready, then dispatched, once the courier has the goods)."""

    status: BlinkOrderStatus
    then: list[BlinkOrderStatus] = Field(default_factory=list, max_length=4)
    comment: str | None = None
    # The workflow's cancel path: the comment is the reason of the person's cancel request (on the
    # order), and an order that never reached Blink (no Blink order id) has nothing to tell.
    cancelled: bool = False

    @model_validator(mode="after")
    def _rejection_needs_a_comment(self) -> SyncOrderStatusToBlinkInput:
        rejects = BlinkOrderStatus.REJECTED in (self.status, *self.then)
        if rejects and not self.cancelled and not (self.comment and self.comment.strip()):
            raise ValueError("status 4 (rejected) needs a comment: Blink requires the rejection reason")
        return self


class SyncOrderStatusToBlinkOutput(OurModel):
    """What the sync did for its (last) status; ``statuses_sent``: every status Blink was told."""

    order_id: str
    blink_order_id: str | None  # None: the order is not in Blink (a cancelled one never submitted)
    status: int
    order_status: str  # the order's status after the sync
    sent: bool  # Blink was told
    skipped: bool  # not sent: the order is already at or past this status
    reason: str | None = None
    statuses_sent: list[int] = Field(default_factory=list)


@action(idempotent=True)
def sync_order_status_to_blink(*, request: SyncOrderStatusToBlinkInput, deps: Deps) -> SyncOrderStatusToBlinkOutput:
    """Each status in turn, every one read against the order as it is then: a status the order
    has reached is not sent again (a retried or resumed run sends only what is missing)."""
    if request.cancelled:
        return _sync_cancelled(request, deps)
    done = _sync_one_status(request.order_id, request.status, request.comment, deps)
    sent = [done.status] if done.sent else []
    for status in request.then:  # the comment is a rejection's reason: only a rejection carries it
        done = _sync_one_status(
            request.order_id, status, request.comment if status is BlinkOrderStatus.REJECTED else None, deps
        )
        sent += [done.status] if done.sent else []
    return done.model_copy(update={"statuses_sent": sent})


def _sync_cancelled(request: SyncOrderStatusToBlinkInput, deps: Deps) -> SyncOrderStatusToBlinkOutput:
    """A person cancelled the order: Blink is told ``request.status`` (rejected) with the cancel
    request's reason as the comment — unless Blink already has it rejected or delivered (then
    nothing is sent: ``_sync_one_status``), or the order never reached Blink."""
    order, tracks = require_order(deps, request.order_id)
    asked = tracks.cancel_request
    if asked is None:
        raise ActionRefused(f"order {order.order_id} has no cancel request: nothing to tell Blink")
    if not order.blink_order_id:
        key = f"orderbridge:blink_status_sync:none:{request.status.value}"
        summary = (
            f"status {request.status.value} {request.status.name.title()} not sent to Blink: the order is not in Blink"
        )
        event = our_event(
            deps, key, "blink_status_sync", summary, detail={"status": request.status.value}, applied=False
        )
        deps.orders.record_event(order.order_id, event, None)
        return SyncOrderStatusToBlinkOutput(
            order_id=order.order_id,
            blink_order_id=None,
            status=request.status.value,
            order_status=order.status.value,
            sent=False,
            skipped=True,
            reason="the order is not in Blink",
        )
    done = _sync_one_status(order.order_id, request.status, asked.reason, deps)
    return done.model_copy(update={"statuses_sent": [done.status] if done.sent else []})


def _tell_blink(
    deps: Deps, order_id: str, merchant_id: str, blink_order_id: str, status: BlinkOrderStatus, comment: str | None
) -> bool:
    """Send ``status`` to Blink once (issue 13 point 4). The send is marked on the order first; an
    attempt whose answer was lost (a timeout after sending, a 5xx, a run killed mid-call) leaves
    the mark, and the next attempt reads the order back from Blink (getOrder) before sending again.
    True: sent now; False: Blink already has the status (or a later one) from an earlier attempt."""
    client = deps.vendors.blink(merchant_id)
    call = f"blink_status_{status.value}"
    rank = order_status_update(status).rank
    if not deps.orders.claim_send(order_id, call, 1, deps.clock()) and _blink_has(client, blink_order_id, rank):
        return False
    try:
        client.sync_order_status(blink_order_id, status, comment=comment, once=True)
    except VendorOutcomeUnknown as doubt:
        if _blink_has(client, blink_order_id, rank):
            return False
        raise RetryableVendorError("blink", f"status {status.value} not in Blink after {doubt.message}") from doubt
    except VendorError as error:
        if not error.unreadable_answer:
            deps.orders.clear_send(order_id, call)
        raise
    return True


def _blink_has(client: BlinkClient, blink_order_id: str, rank: int) -> bool:
    """Blink's order is at a status of ``rank`` or past it (getOrder)."""
    found = client.get_order(blink_order_id).order_status
    return found is not None and order_status_update(found).rank >= rank


def _sync_one_status(
    order_id: str, status: BlinkOrderStatus, comment: str | None, deps: Deps
) -> SyncOrderStatusToBlinkOutput:
    order, _ = require_order(deps, order_id)
    blink_order_id = order.blink_order_id
    if not blink_order_id:
        raise ActionRefused(f"order {order.order_id} is not in Blink yet (no Blink order id): submit it first")
    update = order_status_update(status)
    detail = {
        "status": status.value,
        "status_name": status.name.lower(),
        "comment": comment,
        "blink_order_id": blink_order_id,
    }
    key = f"orderbridge:blink_status_sync:{blink_order_id}:{status.value}"
    # A regressing (or repeating) status is not sent to Blink; the attempt is kept in the timeline.
    sent = ORDER_STATUS_RANK[order.status] < update.rank
    reason = None if sent else f"the order is already {order.status.value}"
    earlier = sent and not _tell_blink(deps, order.order_id, order.merchant_id, blink_order_id, status, comment)
    told = "sent to Blink" if sent else f"not sent to Blink: {reason}"
    if earlier:
        told = "sent to Blink (by an earlier attempt whose answer was lost: Blink has it, read with getOrder)"
    summary = f"status {status.value} {status.name.title()} {told}"
    event = our_event(deps, key, "blink_status_sync", summary, detail=detail, applied=sent)
    outcome = deps.orders.record_event(order.order_id, event, update if sent else None)
    # A webhook may have moved the order further meanwhile: then the track keeps the newer status.
    order_status = update.value if sent and not outcome.stale else order.status.value
    return SyncOrderStatusToBlinkOutput(
        order_id=order.order_id,
        blink_order_id=blink_order_id,
        status=status.value,
        order_status=order_status,
        sent=sent,
        skipped=not sent,
        reason=reason,
    )
