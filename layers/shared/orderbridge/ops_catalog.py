"""The ops API's catalog routes: a merchant's product catalog (as Blink's menu last showed it) with
its flagged partner item mappings and pending stock and price changes, its history, and the stock
and price changes a person sets for Blink (pushed by the PushStockAndPriceFunction).

``GET /ops/catalog/{merchant_id}``, ``GET /ops/catalog/{merchant_id}/history``,
``GET /ops/catalog/{merchant_id}/flags``, ``DELETE /ops/catalog/{merchant_id}/flags/{flag_id}``,
``PUT /ops/catalog/{merchant_id}/items/{item_id}``.
"""

from __future__ import annotations

from pydantic import Field

from orderbridge.deps import Deps
from orderbridge.errors import FieldError, InvalidPayload, NotFound
from orderbridge.models.base import OurModel
from orderbridge.models.catalog import (
    CatalogChange,
    CatalogItem,
    MappingFlag,
    PendingStockAndPrice,
    StockAndPriceChange,
)
from orderbridge.web.request import parse_json, parse_model

MAX_SET_BY = 100


class CatalogEntry(OurModel):
    item: CatalogItem
    version: int
    removed: bool
    updated_at: str


class Catalog(OurModel):
    merchant_id: str
    items: list[CatalogEntry]
    flags: list[MappingFlag] = Field(default_factory=list)  # partner item mappings to look at
    pending: list[PendingStockAndPrice] = Field(default_factory=list)  # not yet accepted by Blink


class CatalogHistory(OurModel):
    merchant_id: str
    item_id: str | None = None
    changes: list[CatalogChange]


class MappingFlags(OurModel):
    merchant_id: str
    flags: list[MappingFlag]


class FlagCleared(OurModel):
    merchant_id: str
    flag_id: str


def get_catalog(merchant_id: str, deps: Deps, *, include_removed: bool = False) -> Catalog:
    _known_merchant(merchant_id, deps)
    stored = deps.catalog.items(merchant_id, include_removed=include_removed)
    return Catalog(
        merchant_id=merchant_id,
        items=[
            CatalogEntry(item=s.item, version=s.version, removed=s.removed, updated_at=s.updated_at.isoformat())
            for _, s in sorted(stored.items())
        ],
        flags=_flags(merchant_id, deps),
        pending=[change for change in deps.catalog.changes(merchant_id) if change.pending],
    )


def get_history(merchant_id: str, deps: Deps, *, item_id: str | None = None) -> CatalogHistory:
    _known_merchant(merchant_id, deps)
    return CatalogHistory(
        merchant_id=merchant_id, item_id=item_id, changes=deps.catalog.history(merchant_id, item_id or None)
    )


def get_flags(merchant_id: str, deps: Deps) -> MappingFlags:
    _known_merchant(merchant_id, deps)
    return MappingFlags(merchant_id=merchant_id, flags=_flags(merchant_id, deps))


def clear_flag(merchant_id: str, flag_id: str, deps: Deps) -> FlagCleared:
    """A person dealt with a flag (e.g. updated the partner's price). An ``item_missing`` flag whose
    cause remains is raised again by the next catalog sync."""
    _known_merchant(merchant_id, deps)
    if not deps.catalog.clear_flag(merchant_id, flag_id):
        raise NotFound(f"no flag {flag_id!r}", errors=[FieldError("flag_id", "not found")])
    return FlagCleared(merchant_id=merchant_id, flag_id=flag_id)


def set_stock_and_price(
    merchant_id: str, item_id: str, body: str, deps: Deps, *, set_by: str | None = None
) -> PendingStockAndPrice:
    """Set an item's stock and price at one branch: stored as pending (a new version), pushed to
    Blink by the next PushStockAndPrice run. 404 for an unknown merchant or an item not on the
    catalog, 422 with the field's reason for a bad body or a branch not the merchant's."""
    _known_merchant(merchant_id, deps)
    change = parse_model(StockAndPriceChange, parse_json(body))
    stored = deps.catalog.item(merchant_id, item_id)
    if stored is None or stored.removed:
        raise NotFound(
            f"item {item_id!r} is not on the catalog of {merchant_id!r}",
            errors=[FieldError("item_id", "not on the catalog (the catalog sync reads it from Blink's menu)")],
        )
    branch = deps.config.branch(change.branch_id)
    if branch is None or branch.merchant_id != merchant_id:
        raise InvalidPayload(
            f"branch {change.branch_id!r} is not a branch of {merchant_id!r}",
            errors=[FieldError("branch_id", "not a configured branch of this merchant")],
        )
    who = (set_by or "").strip()[:MAX_SET_BY] or "ops-api"
    return deps.catalog.set_change(merchant_id, item_id, change, at=deps.clock(), by=who)


def _flags(merchant_id: str, deps: Deps) -> list[MappingFlag]:
    return sorted(deps.catalog.flags(merchant_id), key=lambda flag: flag.flag_id)


def _known_merchant(merchant_id: str, deps: Deps) -> None:
    if merchant_id not in deps.config.merchant_ids():
        raise NotFound(f"no merchant {merchant_id!r}", errors=[FieldError("merchant_id", "not found")])
