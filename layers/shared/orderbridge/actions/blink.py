"""Actions at Blink's interface API: submit a delivery-partner order, sync an order's status,
sync stock and prices.

All three change something at Blink, so their Lambdas run them idempotently (``run_action(...,
idempotent=True)``): a retried task gets the first answer instead of a second Blink order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from orderbridge.actions.common import (
    ActionRefused,
    CustomerDetails,
    OrderInput,
    build,
    customer_of,
    our_event,
    require_order,
)
from orderbridge.actions.runtime import ActionDeps
from orderbridge.domain import blink_submit
from orderbridge.domain.statuses import ORDER_STATUS_RANK, order_status_update
from orderbridge.models.base import OurModel
from orderbridge.models.blink import (
    BlinkOrderStatus,
    BlinkProductStockPrice,
    BlinkStockAndPriceSync,
    BlinkSubmitOrderDelivery,
    BlinkSubmitOrderRequest,
)
from orderbridge.models.order import OrderSource
from orderbridge.observability import logger

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


def submit_order_to_blink(*, request: SubmitOrderToBlinkInput, deps: ActionDeps) -> SubmitOrderToBlinkOutput:
    order, _ = require_order(deps, request.order_id)
    if order.blink_order_id:
        logger.info("the order is in Blink already: not submitted again")
        return SubmitOrderToBlinkOutput(
            order_id=order.order_id,
            blink_order_id=order.blink_order_id,
            blink_unique_code=order.blink_unique_code,
            already_submitted=True,
        )

    problems: list[str] = []
    unmapped = blink_submit.unmapped_for_blink(order)
    if unmapped:
        problems.append("no Blink id for " + ", ".join(unmapped))
    blink_branch_id = order.blink_branch_id
    if not blink_branch_id:
        branch = deps.config.branch(order.branch_id)
        blink_branch_id = branch.blink_id if branch else None
    if not blink_branch_id:
        problems.append(f"branch {order.branch_id} has no Blink branch id")
    customer = customer_of(order, request.customer)
    problems += [f"no customer {name}" for name in ("name", "phone") if not getattr(customer, name)]
    delivery_type = request.delivery_type or blink_submit.delivery_type(order.order_type)
    if delivery_type is None:
        problems.append(f"order type {order.order_type!r} is not one Blink knows: give delivery_type")
    elif delivery_type == "delivery" and request.delivery is None:
        problems.append("no delivery address (delivery.house_num, street, area, city)")
    if problems:
        raise ActionRefused(f"order {order.order_id} cannot be submitted to Blink: " + "; ".join(problems))

    submission = build(
        BlinkSubmitOrderRequest,
        "the order does not make a valid Blink order",
        blink_branch_id=blink_branch_id,
        delivery=request.delivery if delivery_type == "delivery" else None,
        customer_name=customer.name,
        customer_phone=customer.phone,
        customer_email=customer.email,
        is_scheduled=1 if request.scheduled_delivery_time else 0,
        scheduled_delivery_time=request.scheduled_delivery_time,
        delivery_type=delivery_type,
        payment_method=request.payment_method or blink_submit.payment_method(order),
        tax_amount=order.amounts.tax,
        subtotal=blink_submit.subtotal(order),
        total=blink_submit.total(order),
        delivery_charges=order.amounts.delivery_charges or 0,
        delivery_eta=request.delivery_eta,
        instructions=request.instructions or order.note,
        items=blink_submit.blink_items(order),
    )
    submitted = deps.vendors.blink(order.merchant_id).submit_order(submission)
    logger.append_keys(blink_order_id=submitted.id)
    event = our_event(
        deps,
        f"orderbridge:blink_submitted:{submitted.id}",
        "blink_submitted",
        f"submitted to Blink as order {submitted.id}"
        + (f" ({submitted.unique_code})" if submitted.unique_code else ""),
        detail={"blink_order_id": submitted.id, "unique_code": submitted.unique_code,
                "blink_branch_id": blink_branch_id, "items": len(submission.items)},
    )
    deps.orders.link_vendor(
        order.order_id,
        event,
        fields={"blink_order_id": submitted.id, "blink_unique_code": submitted.unique_code,
                "blink_branch_id": blink_branch_id},
        alias=(ALIAS_SOURCE, submitted.id),
    )
    return SubmitOrderToBlinkOutput(
        order_id=order.order_id, blink_order_id=submitted.id, blink_unique_code=submitted.unique_code
    )


# --------------------------------------------------------------------------------------------------
# Sync an order's status
# --------------------------------------------------------------------------------------------------


class SyncOrderStatusToBlinkInput(OrderInput):
    """Set the order's status in Blink: 0 pending, 1 accepted, 6 ready, 2 dispatched, 3 delivered,
    4 rejected (4 needs ``comment``, the reason)."""

    status: BlinkOrderStatus
    comment: str | None = None

    @model_validator(mode="after")
    def _rejection_needs_a_comment(self) -> SyncOrderStatusToBlinkInput:
        if self.status is BlinkOrderStatus.REJECTED and not (self.comment and self.comment.strip()):
            raise ValueError("status 4 (rejected) needs a comment: Blink requires the rejection reason")
        return self


class SyncOrderStatusToBlinkOutput(OurModel):
    order_id: str
    blink_order_id: str
    status: int
    order_status: str  # the order's status after the sync
    sent: bool  # Blink was told
    skipped: bool  # not sent: the order is already at or past this status
    reason: str | None = None


def sync_order_status_to_blink(
    *, request: SyncOrderStatusToBlinkInput, deps: ActionDeps
) -> SyncOrderStatusToBlinkOutput:
    order, _ = require_order(deps, request.order_id)
    if not order.blink_order_id:
        raise ActionRefused(f"order {order.order_id} is not in Blink yet (no Blink order id): submit it first")
    update = order_status_update(request.status)
    status = request.status
    detail = {"status": status.value, "status_name": status.name.lower(), "comment": request.comment,
              "blink_order_id": order.blink_order_id}
    key = f"orderbridge:blink_status_sync:{order.blink_order_id}:{status.value}"
    if ORDER_STATUS_RANK[order.status] >= update.rank:
        # Regressing (or repeating) status: Blink is not told; the attempt is kept in the timeline.
        reason = f"the order is already {order.status.value}"
        event = our_event(deps, key, "blink_status_sync", f"status {status.value} {status.name.title()} not sent "
                          f"to Blink: {reason}", detail=detail, applied=False)
        deps.orders.record_event(order.order_id, event, None)
        return SyncOrderStatusToBlinkOutput(
            order_id=order.order_id, blink_order_id=order.blink_order_id, status=status.value,
            order_status=order.status.value, sent=False, skipped=True, reason=reason,
        )

    deps.vendors.blink(order.merchant_id).sync_order_status(order.blink_order_id, status, comment=request.comment)
    event = our_event(deps, key, "blink_status_sync", f"status {status.value} {status.name.title()} sent to Blink",
                      detail=detail)
    outcome = deps.orders.record_event(order.order_id, event, update)
    # A webhook may have moved the order further meanwhile: then the track keeps the newer status.
    order_status = order.status.value if outcome.stale else update.value
    return SyncOrderStatusToBlinkOutput(
        order_id=order.order_id, blink_order_id=order.blink_order_id, status=status.value,
        order_status=order_status, sent=True, skipped=False,
    )


# --------------------------------------------------------------------------------------------------
# Sync stock and price
# --------------------------------------------------------------------------------------------------


class SyncStockAndPriceInput(OurModel):
    """One merchant's products for Blink's syncStockAndPrice.

    ``as_of`` (when the values were read, e.g. the schedule's time) is part of the idempotency key:
    a retry of the same sync is answered from the first run, while a later sync that happens to
    carry the same values (stock 5 → 3 → 5) is still sent.
    """

    merchant_id: str = Field(min_length=1)
    as_of: AwareDatetime
    products: list[BlinkProductStockPrice] = Field(min_length=1)


class SyncStockAndPriceOutput(OurModel):
    merchant_id: str
    as_of: AwareDatetime
    products: int
    branch_entries: int
    message: str | None = None  # Blink's msg


def sync_stock_and_price(*, request: SyncStockAndPriceInput, deps: ActionDeps) -> SyncStockAndPriceOutput:
    if request.as_of > deps.clock() + timedelta(minutes=5):
        raise ActionRefused("as_of is in the future: it must be when the values were read")
    answer = deps.vendors.blink(request.merchant_id).sync_stock_and_price(
        BlinkStockAndPriceSync(products=request.products)
    )
    branch_entries = sum(len(product.branches) for product in request.products)
    logger.info("stock and prices synced", extra={"products": len(request.products), "branch_entries": branch_entries})
    return SyncStockAndPriceOutput(
        merchant_id=request.merchant_id,
        as_of=request.as_of,
        products=len(request.products),
        branch_entries=branch_entries,
        message=answer.msg,
    )
