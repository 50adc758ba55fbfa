"""Abandoned-carts sync: Blink's ``getAbandonedCarts`` by date range into DynamoDB, per merchant,
for recovery campaigns (listed and exported as CSV by ``GET /ops/abandoned-carts``).

The cursor is the end of the last range covered (UTC, to the minute, as Blink's ``start_date`` /
``end_date`` are). Each run covers ranges of at most :data:`WINDOW` from the cursor up to
:data:`SETTLE` before now (a cart is "abandoned" some time after it was made; the doc does not say
when Blink lists it), the first run from :data:`FIRST_LOOKBACK` ago. The next range starts at the
previous end: the doc does not say whether the bounds are inclusive, so the boundary minute is
read twice and its carts are stored once (each cart's key is its identity). A range stopped for
time is read again by the next run.

Blink's carts carry no id: a cart is named by its customer's phone, its creation time, its branch
and its order id (a digest, :func:`cart_key`); a cart whose notification was sent since it was
stored is a change. Only what a recovery campaign needs is stored (the customer's name and phone,
not the address); a cart without ``created_at`` cannot be placed in a range and is dead-lettered.

A cart whose entry the model refuses (an id empty or over ``ID_MAX_LENGTH``, a phone longer than
any real one, an amount that is not a finite number) is reported as refused and the others are
kept; names and line details too long are cut with a marker (``models.types.VendorText``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orderbridge.deps import Deps
from orderbridge.models.blink import BlinkAbandonedCart
from orderbridge.models.blink_records import AbandonedCartRecord, CartLine
from orderbridge.models.types import RefusedEntry
from orderbridge.store.abandoned_carts import AbandonedCartStore
from orderbridge.store.cursors import Cursor
from orderbridge.syncs.listing import LISTING_ERRORS, listing_failed, phone_digits, short_digest
from orderbridge.syncs.runner import SyncReport, SyncRun, check_fits, run_sync

NAME = "abandoned_carts"
WINDOW = timedelta(days=1)
SETTLE = timedelta(hours=1)
FIRST_LOOKBACK = timedelta(days=7)


def sync_abandoned_carts(deps: Deps, context: LambdaContext | Any) -> SyncReport:
    return run_sync(NAME, deps, context, deps.config.merchant_ids(), _step)


def to_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def cart_key(cart: BlinkAbandonedCart) -> str:
    """A cart's identity: its customer's phone, creation time, branch and order id (or, without a
    phone, its lines)."""
    digits = phone_digits(cart.customer.phone if cart.customer else None)
    created = cart.created_at.isoformat() if cart.created_at else ""
    parts = [digits, created, str(cart.branch_id or ""), str(cart.order_id or "")]
    if not digits:
        parts += [f"{line.dish_id}x{line.quantity}" for line in cart.cart_items]
    return short_digest(*parts)


def cart_record(merchant_id: str, cart: BlinkAbandonedCart, now: datetime) -> AbandonedCartRecord:
    if cart.created_at is None:
        raise ValueError("the cart has no created_at: it cannot be placed in a date range")
    customer, notification = cart.customer, cart.notification
    return AbandonedCartRecord(
        merchant_id=merchant_id,
        cart_key=cart_key(cart),
        created_at=cart.created_at,
        branch_id=str(cart.branch_id) if cart.branch_id else None,
        order_id=str(cart.order_id) if cart.order_id else None,
        customer_name=customer.name or None if customer else None,
        customer_phone=customer.phone or None if customer else None,
        notification_status=notification.status or None if notification else None,
        notification_sent_at=notification.sent_at if notification else None,
        cart_value=cart.cart_value,
        lines=[
            CartLine(
                dish_id=str(line.dish_id),
                name=line.details,
                quantity=line.quantity,
                unit_price=line.unit_price,
                total_price=line.total_price,
            )
            for line in cart.cart_items
        ],
        synced_at=now,
    )


def _step(run: SyncRun, cursor: Cursor) -> None:
    deps, merchant = run.deps, cursor.scope
    now = deps.clock()
    store = AbandonedCartStore(deps.dynamodb, deps.settings.config_table)
    start = datetime.fromisoformat(cursor.value) if cursor.value else to_minute(now - FIRST_LOOKBACK)
    last_end = to_minute(now - SETTLE)
    while start < last_end:
        end = min(start + WINDOW, last_end)
        refused: list[RefusedEntry] = []
        try:
            for cart in deps.vendors.blink(merchant).get_abandoned_carts(start, end, refused=refused):
                _report_refused(run, merchant, refused)
                if not run.time_left():
                    run.lag((last_end - start).total_seconds())
                    return  # this range is read again by the next run
                run.item(f"{merchant}:cart:{cart_key(cart)}", partial(_keep, store, merchant, cart, now))
        except LISTING_ERRORS as error:
            listing_failed(run, f"{merchant}:carts:{start.isoformat()}", error)
            break
        _report_refused(run, merchant, refused)
        moved = run.advance(cursor, end.isoformat())
        if moved is None:
            break  # another run covers this merchant
        cursor, start = moved, end
        if not run.time_left():
            break
    run.lag((last_end - start).total_seconds())  # 0 once caught up (to SETTLE before now)


def _keep(store: AbandonedCartStore, merchant_id: str, cart: BlinkAbandonedCart, now: datetime) -> bool:
    record = cart_record(merchant_id, cart, now)
    check_fits("the abandoned cart", record)
    return store.keep(record)


def _report_refused(run: SyncRun, merchant: str, refused: list[RefusedEntry]) -> None:
    for entry in refused:
        run.refused(f"{merchant}:carts", entry)
    refused.clear()
