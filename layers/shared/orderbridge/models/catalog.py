"""A merchant's product catalog as Blink's menu (``fetchMenu``) carries it, its history, the flags
on partner item mappings it raises, and the stock and price changes a person sets for Blink.

Money is Decimal throughout (Blink sends prices as strings, "7199.980"). The doc gives no shape
for an item's ``branches[]``: we read each entry as a ``syncStockAndPrice`` branch entry (``id``,
``is_active``, ``price``, ``discount_price``, ``stock_quantity``) — what the sandbox shows after a
push; entries without an ``id`` are left out (docs/vendor-assumptions.md).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from orderbridge.models.base import OurModel
from orderbridge.models.blink import (
    BlinkMenuCategory,
    BlinkMenuEntry,
    BlinkMenuItem,
    BlinkMenuModifier,
    BlinkMenuModifierOption,
)
from orderbridge.models.types import AMOUNT_LIMIT, ID_MAX_LENGTH, LONE_SURROGATES, MONEY_DIGITS

# A catalog keeps the categories, modifiers and options of Blink's menu as Blink showed them: their
# models are Blink's, strict about unknown fields as every model of ours.


class CatalogCategory(BlinkMenuCategory):
    model_config = OurModel.model_config


class CatalogOption(BlinkMenuModifierOption):
    model_config = OurModel.model_config


class CatalogModifier(BlinkMenuEntry):
    """A modifier with its options; its selection bounds under shorter names than Blink's."""

    model_config = OurModel.model_config

    is_required: bool = False
    min_select: int | None = None
    max_select: int | None = None
    options: list[CatalogOption] = Field(default_factory=list)

    @classmethod
    def from_menu(cls, modifier: BlinkMenuModifier) -> CatalogModifier:
        return cls(
            **modifier.model_dump(include={*BlinkMenuEntry.model_fields, "is_required"}),
            min_select=modifier.min_multi_select_count,
            max_select=modifier.max_multi_select_count,
            options=[CatalogOption.model_validate(option.model_dump()) for option in modifier.modifier_options],
        )


class BranchAvailability(OurModel):
    """One branch's entry of an item: whether it is offered there, its own price, its stock."""

    branch_id: str
    is_active: bool | None = None
    price: Decimal | None = None  # None: the item's price
    discount_price: Decimal | None = None
    stock_quantity: int | None = None


class CatalogItem(OurModel):
    """One menu item as Blink last showed it (the content compared between runs)."""

    item_id: str
    name: str
    price: Decimal
    discount_price: Decimal | None = None
    categories: list[CatalogCategory] = Field(default_factory=list)
    modifiers: list[CatalogModifier] = Field(default_factory=list)
    branches: list[BranchAvailability] = Field(default_factory=list)

    def option_ids(self) -> set[str]:
        return {option.id for modifier in self.modifiers for option in modifier.options}

    def option_prices(self) -> dict[str, tuple[Decimal, Decimal | None]]:
        return {
            option.id: (option.price, option.discount_price)
            for modifier in self.modifiers
            for option in modifier.options
        }

    def branch(self, branch_id: str) -> BranchAvailability | None:
        return next((entry for entry in self.branches if entry.branch_id == branch_id), None)

    @classmethod
    def from_menu(cls, item: BlinkMenuItem) -> CatalogItem:
        return cls(
            item_id=item.id,
            name=item.name,
            price=item.price,
            discount_price=item.discount_price,
            categories=[CatalogCategory.model_validate(category.model_dump()) for category in item.category],
            modifiers=[CatalogModifier.from_menu(modifier) for modifier in item.modifiers],
            branches=[entry for entry in map(_branch_entry, item.branches) if entry is not None],
        )


def _branch_entry(raw: Any) -> BranchAvailability | None:
    """A ``branches[]`` entry of fetchMenu (shape assumed, see the module docstring); None (left
    out) without an id, or with one that is not a short text or integer (``ID_MAX_LENGTH``)."""
    if not isinstance(raw, dict) or raw.get("id") in (None, ""):
        return None
    branch_id = raw["id"]
    if (
        isinstance(branch_id, bool)
        or not isinstance(branch_id, str | int)
        or not 0 < len(str(branch_id)) <= ID_MAX_LENGTH
    ):
        return None
    if isinstance(branch_id, str) and LONE_SURROGATES.search(branch_id):
        return None
    stock = _number(raw.get("stock_quantity"))
    active = raw.get("is_active")
    return BranchAvailability(
        branch_id=str(raw["id"]),
        is_active=active if isinstance(active, bool) else None,
        price=_number(raw.get("price")),
        discount_price=_number(raw.get("discount_price")),
        stock_quantity=int(stock) if stock is not None and stock == stock.to_integral_value() else None,
    )


def _number(value: Any) -> Decimal | None:
    """A number Blink sent (string, int or already Decimal); None when absent, not a number, not
    finite or beyond what a price or stock can be (``AMOUNT_LIMIT``, DynamoDB's 38 digits)."""
    if value is None or value == "" or isinstance(value, bool) or (isinstance(value, str) and len(value) > 60):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if not number.is_finite() or abs(number) >= AMOUNT_LIMIT or len(number.as_tuple().digits) > MONEY_DIGITS:
        return None
    return number


class StoredItem(OurModel):
    """A catalog item as stored: its content, its version (moved by each change) and whether it is
    still on Blink's menu."""

    merchant_id: str
    item: CatalogItem
    version: int = Field(ge=1)
    removed: bool = False
    updated_at: datetime


class ChangeKind(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


class CatalogChange(OurModel):
    """One entry of the catalog history: who changed an item, when, and what it was before and after."""

    merchant_id: str
    item_id: str
    version: int  # the item's version this change made
    kind: ChangeKind
    at: datetime
    by: str  # "blink:fetchMenu" (seen on Blink's menu by the catalog sync)
    fields: list[str] = Field(default_factory=list)  # the fields that changed (all, for added/removed)
    before: CatalogItem | None = None
    after: CatalogItem | None = None


class FlagReason(StrEnum):
    ITEM_MISSING = "item_missing"  # the mapping's Blink item or option is not on the menu
    PRICE_CHANGED = "price_changed"  # the mapped item's or option's price changed on Blink


class MappingFlag(OurModel):
    """A partner item mapping a person should look at."""

    flag_id: str
    merchant_id: str
    partner_id: str
    kind: str  # the mapping's kind: item / option
    partner_item_id: str
    blink_id: str | None
    reason: FlagReason
    detail: str
    price_before: Decimal | None = None
    price_after: Decimal | None = None
    raised_at: datetime


class StockAndPriceChange(OurModel):
    """What a person sets for one item at one branch (``PUT /ops/catalog/{merchant}/items/{item}``):
    at least one of stock, price, discount price, active."""

    branch_id: str = Field(min_length=1, max_length=100)
    stock_quantity: int | None = Field(default=None, ge=0, le=1_000_000)
    price: Decimal | None = Field(default=None, ge=0, le=Decimal("100000000"), decimal_places=3)
    discount_price: Decimal | None = Field(default=None, ge=0, le=Decimal("100000000"), decimal_places=3)
    is_active: bool | None = None

    @model_validator(mode="after")
    def _something_to_set(self) -> StockAndPriceChange:
        if all(v is None for v in (self.stock_quantity, self.price, self.discount_price, self.is_active)):
            raise ValueError("give at least one of stock_quantity, price, discount_price, is_active")
        return self


class PendingStockAndPrice(OurModel):
    """A stock and price change for one item at one branch, pending until Blink accepts it.

    ``version`` moves with each change a person sets; ``pushed_version`` is the version Blink
    accepted last. Pending while ``version > pushed_version``: a change set while a push is in flight
    has a newer version, so marking the older one pushed leaves it pending (nothing lost)."""

    merchant_id: str
    item_id: str
    branch_id: str
    stock_quantity: int | None = None
    price: Decimal | None = None
    discount_price: Decimal | None = None
    is_active: bool | None = None
    version: int = Field(ge=1)
    pushed_version: int = Field(default=0, ge=0)
    set_at: datetime
    set_by: str
    pushed_at: datetime | None = None
    attempts: int = 0  # pushes tried since the last accepted one
    last_error: str | None = None

    @property
    def pending(self) -> bool:
        return self.version > self.pushed_version
