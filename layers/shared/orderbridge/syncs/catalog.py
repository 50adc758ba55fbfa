"""Catalog sync: Blink's menu (``fetchMenu``, every page) into each merchant's product catalog,
with a history of what was added, changed and removed, and flags on the partner item mappings that
point at an item (or option) that disappeared or changed price.

A *pass* reads the menu from page 1 to the last. Each item read is compared with the stored one and
written only when it differs (with its history entry, as one conditional transaction keyed by the
item's version: a second run, or two at once, writes nothing more). Once the last page is read,
the items stored but not seen in the pass are removed — only when the pass saw as many items as
Blink counts (``total_items``) — and the mapping flags are brought in line with the catalog.

A pass that runs out of time keeps the item ids it saw (``store.catalog`` "menu pass") and leaves
the cursor at the page reached (``<pass id>|<page>``); the next run continues the same pass there.
Between its runs the menu may shift across pages (an item removed on page 1 moves the others up, and
one of them is never read), so the items such a pass missed are only *suspects*: removed when the
next pass misses them too. A pass read in one run removes what it missed at once.

The pass id is when it started, so the run's lag is how long the pass has been going.

What Blink says of an item is bounded before it is stored (``models.blink``): a name longer than
``VENDOR_TEXT_MAX_LENGTH`` is cut with a marker; an item its model refuses (an id over DynamoDB's
key limits, a price that is not a finite number) is reported as refused and the pass goes on with
the others — it counts as seen (a stored item of that id is kept as it was, not removed); an item
heavier than :data:`ITEM_BYTES_LIMIT` (its history entry, before and after, must fit a DynamoDB
item) is refused alone too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orderbridge.deps import Deps
from orderbridge.models.blink import BlinkMenuPage
from orderbridge.models.catalog import (
    CatalogChange,
    CatalogItem,
    ChangeKind,
    FlagReason,
    MappingFlag,
    StoredItem,
)
from orderbridge.models.config import ItemMapping
from orderbridge.models.types import RefusedEntry
from orderbridge.observability import logger
from orderbridge.store.cursors import Cursor
from orderbridge.syncs.runner import SyncReport, SyncRun, check_fits, run_sync
from orderbridge.vendors.blink import next_menu_page

SYNC = "catalog"
BY = "blink:fetchMenu"
PASS_ID_FORMAT = "%Y%m%dT%H%M%S%fZ"
ITEM_BYTES_LIMIT = 170_000
"""The most a menu item may weigh as stored (JSON): its history entry holds it twice (before and
after a change), and both must fit one DynamoDB item (400 KB) with room to spare."""
CONTENT_FIELDS = ("name", "price", "discount_price", "categories", "modifiers", "branches")


def sync_catalog(deps: Deps, context: LambdaContext | Any) -> SyncReport:
    """The SyncCatalogFunction: one pass (or the rest of one) over each merchant's menu."""
    return run_sync(SYNC, deps, context, deps.config.merchant_ids(), _step)


class _Pass:
    """One merchant's pass over the menu, within one run."""

    def __init__(self, run: SyncRun, cursor: Cursor) -> None:
        self.run = run
        self.deps = run.deps
        self.cursor = cursor
        self.merchant = cursor.scope
        self.now = self.deps.clock()
        resumed = _parse_cursor(cursor.value)
        self.pass_id, self.page = resumed or (self.now.strftime(PASS_ID_FORMAT), 1)
        self.resumed = resumed is not None
        self.stored = self.deps.catalog.items(self.merchant)
        self.seen: set[str] = self.deps.catalog.pass_seen(self.merchant, self.pass_id) if self.resumed else set()
        self.mappings = [m for m in self.deps.config.records(ItemMapping) if m.merchant_id == self.merchant]
        self.total: int | None = None
        started = _pass_started(self.pass_id)
        if started is not None:
            self.run.lag((self.now - started).total_seconds())

    def go(self) -> None:
        page: int | None = self.page
        while page is not None:
            if not self.run.time_left():
                self._stop_at(page)
                return
            menu = self._read(page)
            if menu is None:  # the page could not be read (dead-lettered): the next run starts there
                self._stop_at(page)
                return
            self.total = menu.total_items
            for entry in menu.refused:
                self._refused(page, entry)
            for index, raw in enumerate(menu.data):
                if not raw.id:
                    logger.warning("a menu item without an id is left out of the catalog", extra={"page": page})
                    self.seen.add(f"(no id: page {page} #{index})")  # counted against total_items
                    continue
                item = CatalogItem.from_menu(raw)
                self.seen.add(item.item_id)
                self.run.item(f"{self.merchant}/item/{item.item_id}", partial(self._apply, item))
            following = next_menu_page(menu)
            if following is not None and following <= page:
                logger.error("fetchMenu's next page points back: the pass stops", extra={"page": page})
                self.run.report.finished = False
                return
            page = following
        # The removals and flags of a finished pass are a few writes: done within the margin.
        self._finish()

    # -- reading ------------------------------------------------------------------------------------

    def _read(self, page: int) -> BlinkMenuPage | None:
        got: list[BlinkMenuPage] = []

        def fetch() -> bool:
            got.append(self.deps.vendors.blink(self.merchant).fetch_menu_page(page))
            return False

        self.run.item(f"{self.merchant}/fetchMenu?page={page}", fetch)
        return got[-1] if got else None

    def _refused(self, page: int, entry: RefusedEntry) -> None:
        """An item of the page its model refused: reported; seen (counted against total_items),
        under its id when that names a stored item (kept as it was: Blink still lists it)."""
        self.run.refused(f"{self.merchant}/fetchMenu?page={page}", entry)
        named = entry.ref if entry.ref in self.stored else None
        self.seen.add(named or f"(refused: page {page} #{entry.index})")

    # -- one item ------------------------------------------------------------------------------------

    def _apply(self, item: CatalogItem) -> bool:
        """Record ``item`` if it differs from the stored one; True when this run recorded it."""
        old = self.stored.get(item.item_id)
        live = old is not None and not old.removed
        if old is not None and live and old.item == item:
            return False
        before = old.item if old is not None and live else None
        version = (old.version if old else 0) + 1
        change = CatalogChange(
            merchant_id=self.merchant,
            item_id=item.item_id,
            version=version,
            kind=ChangeKind.CHANGED if before else ChangeKind.ADDED,
            at=self.now,
            by=BY,
            fields=_changed_fields(before, item),
            before=before,
            after=item,
        )
        stored = StoredItem(merchant_id=self.merchant, item=item, version=version, updated_at=self.now)
        check_fits(f"menu item {item.item_id}", item, limit=ITEM_BYTES_LIMIT)
        flags = self._price_flags(before, item) if before else []
        if not self.deps.catalog.record_change(stored, change, read_version=old.version if old else 0, flags=flags):
            return False
        self.stored[item.item_id] = stored
        return True

    def _remove(self, old: StoredItem) -> bool:
        version = old.version + 1
        change = CatalogChange(
            merchant_id=self.merchant,
            item_id=old.item.item_id,
            version=version,
            kind=ChangeKind.REMOVED,
            at=self.now,
            by=BY,
            fields=list(CONTENT_FIELDS),
            before=old.item,
        )
        removed = old.model_copy(update={"version": version, "removed": True, "updated_at": self.now})
        if not self.deps.catalog.record_change(removed, change, read_version=old.version, flags=[]):
            return False
        self.stored[old.item.item_id] = removed
        return True

    def _price_flags(self, before: CatalogItem, after: CatalogItem) -> list[MappingFlag]:
        flags: list[MappingFlag] = []
        old_options, new_options = before.option_prices(), after.option_prices()
        for mapping in self.mappings:
            if mapping.kind == "item" and mapping.blink_id == after.item_id:
                old_price, new_price = (before.price, before.discount_price), (after.price, after.discount_price)
                what = f"item {after.item_id} ({after.name})"
            elif mapping.kind == "option" and mapping.blink_id in old_options and mapping.blink_id in new_options:
                old_price, new_price = old_options[mapping.blink_id], new_options[mapping.blink_id]
                what = f"option {mapping.blink_id} of item {after.item_id}"
            else:
                continue
            if old_price == new_price:
                continue
            flags.append(
                _flag(
                    mapping,
                    FlagReason.PRICE_CHANGED,
                    f"Blink's price of {what} changed from {_price(old_price)} to {_price(new_price)}",
                    self.now,
                    price_before=old_price[0],
                    price_after=new_price[0],
                )
            )
        return flags

    # -- the end of a pass ----------------------------------------------------------------------------

    def _finish(self) -> None:
        live = [s for s in self.stored.values() if not s.removed]
        if self.total is not None and len(self.seen) < self.total:
            logger.warning(
                "the pass saw fewer items than Blink counts (the menu moved between pages): no removal this pass",
                extra={"seen": len(self.seen), "total_items": self.total},
            )
        else:
            missed = {old.item.item_id for old in live if old.item.item_id not in self.seen}
            gone = missed
            if self.resumed:  # pages read in different runs: the menu may have shifted between them
                suspects = self.deps.catalog.suspects(self.merchant)
                gone = missed & suspects
                if missed - gone != suspects:
                    self.deps.catalog.save_suspects(self.merchant, missed - gone, at=self.now)
            elif self.deps.catalog.suspects(self.merchant):  # a pass in one run settles them
                self.deps.catalog.save_suspects(self.merchant, set(), at=self.now)
            for item_id in sorted(gone):
                self.run.item(f"{self.merchant}/item/{item_id}", partial(self._remove, self.stored[item_id]))
        self.run.item(f"{self.merchant}/flags", self._reconcile_flags)
        if self.resumed:
            self.deps.catalog.end_pass(self.merchant, self.pass_id)
        if self.cursor.value is not None:
            self.run.advance(self.cursor, None)  # the next run starts a new pass

    def _reconcile_flags(self) -> bool:
        """Raise an ``item_missing`` flag on each mapping whose Blink item or option is not on the
        menu; clear the flags whose cause is gone (the item is back, the mapping was removed)."""
        items = {s.item.item_id for s in self.stored.values() if not s.removed}
        options = {o for s in self.stored.values() if not s.removed for o in s.item.option_ids()}
        flags = {flag.flag_id: flag for flag in self.deps.catalog.flags(self.merchant)}
        changed = False
        wanted: set[str] = set()
        for mapping in self.mappings:
            wanted.add(flag_id(mapping, FlagReason.PRICE_CHANGED))
            present = mapping.blink_id in (items if mapping.kind == "item" else options)
            missing = flag_id(mapping, FlagReason.ITEM_MISSING)
            if present:
                continue
            wanted.add(missing)
            if missing not in flags:
                where = f"Blink {mapping.kind} {mapping.blink_id}" if mapping.blink_id else "no Blink id"
                flag = _flag(mapping, FlagReason.ITEM_MISSING, f"{where}: not on the Blink menu", self.now)
                changed |= self.deps.catalog.raise_flag(flag)
        for stale in set(flags) - wanted:
            changed |= self.deps.catalog.clear_flag(self.merchant, stale)
        return changed

    def _stop_at(self, page: int) -> None:
        """Out of time: keep what the pass saw and where it got to, for the next run."""
        value = f"{self.pass_id}|{page}"
        self.deps.catalog.save_pass(self.merchant, self.pass_id, self.seen, at=self.now)
        self.run.advance(self.cursor, value)


def _step(run: SyncRun, cursor: Cursor) -> None:
    _Pass(run, cursor).go()


def flag_id(mapping: ItemMapping, reason: FlagReason) -> str:
    return f"{mapping.partner_id}:{mapping.kind}:{mapping.partner_item_id}:{reason.value}"


def _flag(mapping: ItemMapping, reason: FlagReason, detail: str, at: datetime, **prices: Any) -> MappingFlag:
    return MappingFlag(
        flag_id=flag_id(mapping, reason),
        merchant_id=mapping.merchant_id,
        partner_id=mapping.partner_id,
        kind=mapping.kind,
        partner_item_id=mapping.partner_item_id,
        blink_id=mapping.blink_id,
        reason=reason,
        detail=detail,
        raised_at=at,
        **prices,
    )


def _price(price: tuple[Any, Any]) -> str:
    amount, discount = price
    return f"{amount}" if not discount else f"{amount} (discounted {discount})"


def _changed_fields(before: CatalogItem | None, after: CatalogItem) -> list[str]:
    if before is None:
        return list(CONTENT_FIELDS)
    return [name for name in CONTENT_FIELDS if getattr(before, name) != getattr(after, name)]


def _parse_cursor(value: str | None) -> tuple[str, int] | None:
    """``<pass id>|<page>`` → (pass id, page); None for a new pass (or a cursor we cannot read)."""
    if not value:
        return None
    pass_id, _, page = value.partition("|")
    if not pass_id or not page.isdigit() or int(page) < 1:
        logger.warning("an unreadable catalog cursor: a new pass starts", extra={"cursor": value[:100]})
        return None
    return pass_id, int(page)


def _pass_started(pass_id: str) -> datetime | None:
    try:
        return datetime.strptime(pass_id, PASS_ID_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
