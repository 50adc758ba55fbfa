"""The order catch-up: Blink orders whose Order Webhook never came, read from ``getOrderList``.

Blink gives a webhook 5 s and never sends it again. Per merchant, this sync reads Blink's
``getOrderList`` (every page; "orders with order_id greater than" the cursor, the highest Blink
order id this sync has passed) and enters each order we do not have through the webhook's own path
(``webhooks.blink.record_order``): the same order id (derived from Blink's), the same lookups (an
order we submitted ourselves — a partner order — is recognised by its Blink id or its submission
mark and lands on that order), the same conditional create and the same timeline event key
(``blink:order:<id>``). A webhook that comes late is then a duplicate, and the order's workflow
starts on its insert (the order stream), where the events kept for it before it existed are
applied too (``workflow/unmatched.py``).

The list lacks most of what a new order needs (its branch, type, address, notes, options), so an
order we do not have is read with ``getOrder`` and mapped onto the Order Webhook's payload
(:func:`webhook_payload`), hence onto the same normalisation. Neither names the branch: the branch
is the merchant's only branch; else the one a status webhook kept for the order names, else the
one whose submission mark (Blink branch + customer name) we wrote; a merchant with several
branches and no such clue gets the order dead-lettered (a person enters it) and the catch-up goes
on (docs/vendor-assumptions.md).

The cursor moves only past orders that are recorded (or passed over, or dead-lettered for a reason
that a retry would not change): an order that failed for a passing reason (Blink or DynamoDB
unavailable) stops the scope there, and the next run starts from it. The cursor is written every
:data:`ADVANCE_EVERY` orders and where the run stops, so a run that runs out of time loses little.
Two runs at once read the same orders: creates are conditional (the second is a duplicate) and the
second run's cursor write is refused, so it stops.

What Blink answers is bounded before anything is stored (``models.blink``, ``models.types``): an
entry of ``getOrderList`` its model refuses (an id empty or over DynamoDB's key limits, a code too
long, a number that is not finite) is reported as refused — logged, counted, dead-lettered, a
person enters the order — and the walk goes on with the others (the cursor moves past it once a
later order is done); free text (notes, names) is cut to the webhook's own bound with a marker; an
order whose ``getOrder`` answer is refused, does not fit the Order Webhook's bounds or would be
bigger as stored than a webhook body may be (``MAX_BODY_BYTES``) is refused alone, with nothing of
it written.

The first run of a merchant (no cursor) walks Blink's whole order list but enters only orders
placed within :data:`FIRST_RUN_LOOKBACK`: older ones predate Orderbridge and are passed over.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from orderbridge.deps import Deps
from orderbridge.domain.ids import order_id_for
from orderbridge.errors import FieldError, UnknownBranch
from orderbridge.models.blink import BlinkOrderDetails, BlinkOrderItem, BlinkOrderSummary
from orderbridge.models.blink_webhooks import BlinkOrderWebhook
from orderbridge.models.config import Branch
from orderbridge.models.order import OrderSource
from orderbridge.models.states import BlinkOrderStatus
from orderbridge.models.types import RefusedEntry, refusal_reason
from orderbridge.observability import logger
from orderbridge.store.cursors import Cursor
from orderbridge.syncs.listing import LISTING_ERRORS, listing_failed
from orderbridge.syncs.runner import RETRYABLE, EntryRefused, SyncReport, SyncRun, run_sync
from orderbridge.vendors.blink import BlinkClient
from orderbridge.webhooks.blink import record_order

SYNC = "orders"
SOURCE = OrderSource.BLINK.value
VIA = "order catch-up"
ADVANCE_EVERY = 30  # orders between two cursor writes (one getOrderList page, as Blink's sample)
FIRST_RUN_LOOKBACK = timedelta(days=1)

# getOrder's delivery_type -> the Order Webhook's type (the doc's sample: "delivery"; the others as
# submitOrder spells them).
ORDER_TYPES = {"delivery": "DELIVERY", "pickup": "PICK-UP", "pick-up": "PICK-UP", "dinein": "DINE-IN"}


def sync_orders(deps: Deps, context: LambdaContext | Any) -> SyncReport:
    """Run the catch-up for every configured merchant (the Lambda's handler calls this)."""
    return run_sync(SYNC, deps, context, deps.config.merchant_ids(), catch_up)


def catch_up(run: SyncRun, cursor: Cursor) -> None:
    """One merchant: its Blink orders after the cursor, each entered unless we have it."""
    deps, merchant_id = run.deps, cursor.scope
    client = deps.vendors.blink(merchant_id)
    branches = [branch for branch in deps.config.records(Branch) if branch.merchant_id == merchant_id]
    after = int(cursor.value or 0)
    placed_since = deps.clock() - FIRST_RUN_LOOKBACK if cursor.value is None else None
    walk = _Walk(run, cursor, after)
    refused: list[RefusedEntry] = []
    try:
        for summary in client.get_order_list(after, refused=refused):
            walk.report_refused(refused)
            if not run.time_left():
                run.lag(_age(deps, summary))
                break
            if not walk.take(summary, partial(_catch_up_order, deps, client, branches, summary, placed_since)):
                run.lag(_age(deps, summary))
                break
        else:
            walk.finished()
            run.lag(0.0)
    except LISTING_ERRORS as error:
        listing_failed(run, f"{merchant_id}:getOrderList:{walk.done}", error)
    walk.report_refused(refused)
    walk.save()


class _Walk:
    """Where the walk through one merchant's order list is: the highest Blink id up to which every
    order is done, written as the cursor every :data:`ADVANCE_EVERY` orders and at the end."""

    def __init__(self, run: SyncRun, cursor: Cursor, after: int) -> None:
        self.run = run
        self.cursor: Cursor | None = cursor
        self.done = after
        self.highest = after
        self.in_order = True  # Blink lists ascending ids (assumed; checked)
        self.since_saved = 0

    def take(self, summary: BlinkOrderSummary, work: Callable[[], bool]) -> bool:
        """Do one order; False when the scope must stop here (a passing failure, or another run)."""
        blink_id = int(summary.id)
        if blink_id <= self.highest:
            if blink_id <= self.done:
                return True  # listed again (the list moved under us): already done
            self.in_order = False
        passing: list[bool] = []

        def attempt() -> bool:
            try:
                return work()
            except RETRYABLE:
                passing.append(True)
                raise

        recorded = self.run.item(f"{self.run_scope}:{summary.id}", attempt)
        if not recorded and passing:
            return False  # Blink or DynamoDB is unavailable: the next run starts from this order
        self.highest = max(self.highest, blink_id)
        if self.in_order:
            self.done = blink_id
        self.since_saved += 1
        if self.since_saved >= ADVANCE_EVERY:
            self.save()
        return self.cursor is not None

    def report_refused(self, refused: list[RefusedEntry]) -> None:
        """Report the listed orders Blink's answer made unusable (refused by the model), and
        forget them: they are not done, so the cursor moves past them only with a later order."""
        for entry in refused:
            self.run.refused(f"{self.run_scope}:getOrderList", entry)
        refused.clear()

    @property
    def run_scope(self) -> str:
        return self.cursor.scope if self.cursor else "-"

    def finished(self) -> None:
        """The whole list was walked: every order listed is done, in order or not."""
        self.done = self.highest

    def save(self) -> None:
        self.since_saved = 0
        if self.cursor is None or str(self.done) == (self.cursor.value or "0"):
            return
        self.cursor = self.run.advance(self.cursor, str(self.done))


def _catch_up_order(
    deps: Deps,
    client: BlinkClient,
    branches: list[Branch],
    summary: BlinkOrderSummary,
    placed_since: datetime | None,
) -> bool:
    """Enter one listed order unless we have it; True when it was entered (or linked to ours)."""
    blink_id = str(summary.id)
    if placed_since is not None and summary.ordertime is not None and summary.ordertime < placed_since:
        return False  # the first run: older than Orderbridge
    order_id = order_id_for(SOURCE, blink_id)
    known = deps.orders.find_with_branch(order_id, None, deps.config, alias=(SOURCE, blink_id))
    if known.order_id is not None:
        return False  # its webhook came (or it is ours, linked): nothing to do, no getOrder
    logger.append_keys(blink_order_id=blink_id)
    try:
        details = client.get_order(blink_id)
        branch = _branch_of(deps, branches, blink_id, details.customer_name)
        payload, raw = webhook_payload(details, branch), _raw(details)
        if len(raw.encode()) > deps.settings.max_body_bytes:
            raise EntryRefused(
                f"getOrder's answer is {len(raw.encode()):,} bytes as stored; a webhook body may be at most "
                f"{deps.settings.max_body_bytes:,} (MAX_BODY_BYTES)"
            )
        outcome = record_order(payload, raw, deps, via=VIA)
    finally:
        logger.remove_keys(["blink_order_id", "order_id"])
    return outcome.created


def _branch_of(deps: Deps, branches: list[Branch], blink_id: str, customer_name: str | None) -> Branch:
    """The branch of an order Blink's list and getOrder do not place (see the module's docstring)."""
    if len(branches) == 1:
        return branches[0]
    by_id = {branch.branch_id: branch for branch in branches}
    for kept in deps.orders.unmatched(SOURCE, blink_id):
        named = by_id.get(str(kept.event.detail.get("branch_id") or ""))
        if named is not None:
            return named
    if customer_name:
        for branch in branches:
            if not branch.blink_id:
                continue
            mark = (branch.blink_id, customer_name)
            found = deps.orders.find_with_branch("-", None, deps.config, submitted=mark)
            if found.order_id is not None:
                return branch
    raise UnknownBranch(
        f"Blink order {blink_id} names no branch and the merchant has {len(branches)}: enter it by hand",
        errors=[FieldError("branch_id", "getOrderList and getOrder carry no branch")],
    )


def webhook_payload(details: BlinkOrderDetails, branch: Branch) -> BlinkOrderWebhook:
    """What the Order Webhook would have said of the order ``getOrder`` describes, at ``branch``.

    getOrder has no options, currency, channel, address text or pre-order time: those stay empty
    (the order's items are priced as Blink lists them)."""
    status = details.order_status
    if status is None and details.status:
        raise EntryRefused(f"Blink order {details.id} has a status the doc does not list: {details.status!r}")
    cash = (details.payment_method or "").strip().lower() == "cash"
    payload: dict[str, Any] = {
        "blink_order_id": str(details.id),
        "order_key": details.unique_code,
        "type": ORDER_TYPES.get((details.delivery_type or "").strip().lower(), details.delivery_type),
        "status": (status if status is not None else BlinkOrderStatus.PENDING).value,
        "status_text": details.status,
        "branch_id": branch.branch_id,
        "blink_branch_id": branch.blink_id,
        "created_at": details.ordertime,
        "customer_name": details.customer_name,
        "customer_phone": details.customer_phone,
        "customer_address_latitude": details.latitude,
        "customer_address_longitude": details.longitude,
        "kitchen_notes": details.instruction,
        "promo_code": details.promo_code,
        "promo_discount": details.promo_discount,
        "payment_method": details.payment_method,
        "payment": False if cash else None,
        "delivery_charges": details.delivery_charges,
        "subtotal": details.subtotal,
        "total_price": details.total,
        "products": [_product(item) for item in details.items],
    }
    try:
        return BlinkOrderWebhook.model_validate({key: value for key, value in payload.items() if value is not None})
    except ValidationError as error:  # named fields and reasons, never the values (customer data)
        raise EntryRefused(
            f"getOrder's answer does not fit the Order Webhook's bounds: {refusal_reason(error)}"
        ) from None


def _product(item: BlinkOrderItem) -> dict[str, Any]:
    """getOrder's ``items[]`` entry as the Order Webhook's ``products[]`` entry."""
    price: Decimal | None = item.price if item.price is not None else item.actual_price
    discounted = item.actual_price is not None and price is not None and price != item.actual_price
    return {
        "product_id": str(item.item_id),
        "quantity": item.quantity,
        "name": item.details,
        "unit_price": price if price is not None else Decimal(0),
        "total_price": (price or Decimal(0)) * item.quantity,
        "item_price": item.actual_price,
        "item_discount_price": price if discounted else None,
    }


def _raw(details: BlinkOrderDetails) -> str:
    """What Blink said of the order (getOrder's data, as read), kept as the order's raw body."""
    return json.dumps({"getOrder": details.model_dump(mode="json", by_alias=True)}, separators=(",", ":"))


def _age(deps: Deps, summary: BlinkOrderSummary) -> float:
    """How long ago the first order the run did not reach was placed (the sync's lag)."""
    return (deps.clock() - summary.ordertime).total_seconds() if summary.ordertime else 0.0
