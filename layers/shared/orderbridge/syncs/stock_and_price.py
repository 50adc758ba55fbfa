"""Stock and price push: the stock and price changes a person set through the ops API (per item,
per branch; ``ops_catalog.set_stock_and_price``) sent to Blink with ``syncStockAndPrice``.

Each item with pending changes is one request (``products[0]``): the item's price (required by the
doc) and every branch Blink's menu shows for it, with the pending changes on top — the doc does not
say whether branches left out of a request keep their values, so none is left out
(docs/vendor-assumptions.md). A change is marked pushed only when Blink accepts it, up to the
version that was sent: a change set meanwhile has a newer version and stays pending. A failed push
leaves the changes pending with their error noted; the next run tries again. An item's changes are
pushed by one run at a time (a lease on each change, ``store.catalog``): two runs at once send
each item once.

There is no cursor: what is pending is what is left. The figures: an item pushed is a change.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import uuid4

from aws_lambda_powertools.utilities.typing import LambdaContext

from orderbridge.deps import Deps
from orderbridge.models.blink import BlinkBranchStockPrice, BlinkProductStockPrice, BlinkStockAndPriceSync
from orderbridge.models.catalog import PendingStockAndPrice, StoredItem
from orderbridge.observability import logger
from orderbridge.store.cursors import Cursor
from orderbridge.syncs.runner import SyncReport, SyncRun, run_sync
from orderbridge.vendors.http import PermanentVendorError

SYNC = "stock_and_price"
BRANCH_FIELDS = ("is_active", "price", "discount_price", "stock_quantity")


class StockPushRefused(PermanentVendorError):
    """Blink answered the push without accepting the item (``success: false`` or the item not found),
    or the item is not in the catalog to take its price from."""


def push_stock_and_price(deps: Deps, context: LambdaContext | Any) -> SyncReport:
    """The PushStockAndPriceFunction: push each merchant's pending stock and price changes."""
    run_id = f"{SYNC}:{uuid4().hex}"
    return run_sync(SYNC, deps, context, deps.config.merchant_ids(), lambda run, cursor: _step(run, cursor, run_id))


def _step(run: SyncRun, cursor: Cursor, run_id: str) -> None:
    deps, merchant = run.deps, cursor.scope
    changes = deps.catalog.changes(merchant)
    pending = [change for change in changes if change.pending]
    if not pending:
        return
    now = deps.clock()
    run.lag(max((now - change.set_at).total_seconds() for change in pending))
    by_item: dict[str, list[PendingStockAndPrice]] = defaultdict(list)
    for change in changes:
        by_item[change.item_id].append(change)
    for item_id in sorted({change.item_id for change in pending}):
        if not run.time_left():
            return
        rows = by_item[item_id]
        run.item(f"{merchant}/item/{item_id}", partial(_push_item, run.deps, rows, run_id))


def _push_item(deps: Deps, rows: list[PendingStockAndPrice], run_id: str) -> bool:
    """Push one item's pending changes; True when this run marked any of them pushed."""
    merchant, item_id, now = rows[0].merchant_id, rows[0].item_id, deps.clock()
    claimed = _claim(deps, [r for r in rows if r.pending], run_id)
    if not claimed:
        return False
    try:
        stored = deps.catalog.item(merchant, item_id)
        if stored is None or stored.removed:
            raise StockPushRefused("blink", f"item {item_id} is not on the catalog (run the catalog sync)")
        product = _product(stored, [r for r in rows if not r.pending], claimed)
        answer = deps.vendors.blink(merchant).sync_stock_and_price(BlinkStockAndPriceSync(products=[product]))
        if answer.success is False or item_id in _not_found(answer.data):
            raise StockPushRefused("blink", f"Blink did not accept item {item_id}: {answer.msg or 'no message'}")
    except Exception as error:
        for change in claimed:
            deps.catalog.mark_failed(change, f"{type(error).__name__}: {error}")
        raise
    marked = [deps.catalog.mark_pushed(change, at=now) for change in claimed]
    logger.info("stock and price pushed", extra={"item": item_id, "branches": len(claimed)})
    return any(marked)


def _claim(deps: Deps, pending: list[PendingStockAndPrice], run_id: str) -> list[PendingStockAndPrice]:
    """Hold every pending change of an item for this run, as they are now; none when another run
    holds one of them (it pushes the item) or when another run pushed them meanwhile."""
    claimed: list[PendingStockAndPrice] = []
    try:
        for row in pending:
            held = deps.catalog.claim(row, run_id=run_id, now=deps.clock())
            if held is None:
                logger.info("another run pushes this item", extra={"item": row.item_id})
                break
            claimed.append(held)
    except Exception:
        _release(deps, claimed)
        raise
    if len(claimed) == len(pending) and any(change.pending for change in claimed):
        return claimed
    _release(deps, claimed)
    return []


def _release(deps: Deps, claimed: list[PendingStockAndPrice]) -> None:
    for change in claimed:
        deps.catalog.release(change)


def _product(
    stored: StoredItem, pushed: list[PendingStockAndPrice], pending: list[PendingStockAndPrice]
) -> BlinkProductStockPrice:
    """The item as Blink's menu shows it, then the changes pushed since the catalog last saw it,
    then the pending ones."""
    item = stored.item
    branches: dict[str, dict[str, Any]] = {
        entry.branch_id: {name: getattr(entry, name) for name in BRANCH_FIELDS} for entry in item.branches
    }
    newer = [r for r in pushed if r.pushed_at is not None and r.pushed_at > stored.updated_at]
    for change in [*newer, *pending]:
        entry = branches.setdefault(change.branch_id, {})
        entry.update({name: getattr(change, name) for name in BRANCH_FIELDS if getattr(change, name) is not None})
    return BlinkProductStockPrice(
        id=item.item_id,
        price=item.price,
        discount_price=item.discount_price or Decimal(0),
        branches=[BlinkBranchStockPrice(id=branch_id, **values) for branch_id, values in sorted(branches.items())],
    )


def _not_found(data: Any) -> set[str]:
    """The product ids Blink says it did not find (the sandbox's ``data.not_found``; the doc shows no
    answer)."""
    if isinstance(data, dict) and isinstance(data.get("not_found"), list):
        return {str(product_id) for product_id in data["not_found"]}
    return set()
