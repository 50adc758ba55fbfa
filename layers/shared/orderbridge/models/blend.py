"""The Blend ``order_created`` contract sent by delivery platforms
(vendor-docs/blend-order-created-webhook.txt), and Blend's answer to it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from orderbridge.models.base import OurModel, VendorModel
from orderbridge.models.types import (
    QUANTITY_LIMIT,
    Amount,
    FlexInt,
    FreeText,
    Id,
    NullableList,
    OrderLines,
    UtcDateTime,
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
    items: OrderLines[BlendItem] = Field(min_length=1)


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
