"""The Blend ``order_created`` contract sent by delivery platforms
(vendor-docs/blend-order-created-webhook.txt), and Blend's answer to it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from orderbridge.models.base import OurModel, VendorModel
from orderbridge.models.types import (
    QUANTITY_LIMIT,
    Amount,
    FlexInt,
    FreeText,
    Id,
    NullableList,
    UtcDateTime,
    bounded_lines,
)


class BlendOption(VendorModel):
    id: Id = Field(min_length=1)
    price: Amount  # per unit
    quantity: FlexInt = Field(default=1, gt=0, le=QUANTITY_LIMIT)


class BlendItem(VendorModel):
    id: Id = Field(min_length=1)
    quantity: FlexInt = Field(gt=0, le=QUANTITY_LIMIT)
    price: Amount  # per unit, including options
    note: FreeText | None = None
    options: Annotated[list[BlendOption], NullableList] = Field(default_factory=list)


class BlendOrderPayload(VendorModel):
    id: Id = Field(min_length=1)
    payment_method: FreeText | None = None
    order_type: FreeText | None = None  # "DELIVERY", "DINE-IN", "PICK-UP"
    note: FreeText | None = None
    subtotal: Amount | None = None
    tax: Amount | None = None
    discount: Amount | None = None
    total: Amount
    items: list[BlendItem] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _bounded_lines(cls, items: list[BlendItem]) -> list[BlendItem]:
        bounded_lines(len(items) + sum(len(i.options) for i in items))
        return items


class BlendOrderCreated(VendorModel):
    event: Literal["order_created"]
    event_time: UtcDateTime | None = None
    branch_id: Id = Field(min_length=1)
    payload: BlendOrderPayload


class BlendFieldError(OurModel):
    field: str
    reason: str


class BlendAnswer(OurModel):
    """Blend's documented answer; ``errors`` is our addition on failure (field-level reasons)."""

    order_id: str
    status: Literal["success", "failed"]
    errors: list[BlendFieldError] | None = None
