"""Blink's inbound payloads (vendor-docs/blink-api.txt): the Order Webhook and the Order Status
Webhook. The interface API's requests and answers are in ``models.blink``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from orderbridge.models.base import VendorModel
from orderbridge.models.states import BlinkOrderStatus
from orderbridge.models.types import (
    QUANTITY_LIMIT,
    Amount,
    FlexBool,
    FlexInt,
    FreeText,
    Id,
    Money,
    NullableList,
    OrderLines,
    UtcDateTime,
)


class BlinkOrderOption(VendorModel):
    """products[].options[] of the Order Webhook."""

    modifier_option_id: Id
    name: FreeText | None = None
    quantity: FlexInt = Field(default=1, ge=0, le=QUANTITY_LIMIT)
    unit_price: Amount | None = None
    total_price: Amount | None = None
    item_price: Amount | None = None
    item_discount_price: Amount | None = None


class BlinkOrderProduct(VendorModel):
    """products[] of the Order Webhook."""

    product_id: Id
    quantity: FlexInt = Field(gt=0, le=QUANTITY_LIMIT)
    name: FreeText | None = None
    unit_price: Amount
    total_price: Amount | None = None
    item_price: Amount | None = None
    item_discount_price: Amount | None = None
    options: Annotated[list[BlinkOrderOption], NullableList] = Field(default_factory=list)

    @property
    def line_total(self) -> Decimal:
        """``total_price`` as Blink gives it, or unit price × quantity when Blink leaves it out."""
        return self.total_price if self.total_price is not None else self.unit_price * self.quantity


class BlinkOrderWebhook(VendorModel):
    """Blink "Order Webhook": a new order placed through Blink. Every documented field."""

    blink_order_id: Id = Field(min_length=1)
    external_order_id: Id | None = None
    order_key: FreeText | None = None
    type: FreeText | None = None  # "PICK-UP" / "DINE-IN" / "DELIVERY"
    status: FlexInt = BlinkOrderStatus.PENDING
    status_text: FreeText | None = None
    currency: FreeText | None = None
    channel: FreeText | None = None
    channel_id: Id | None = None
    brand_id: Id | None = None
    branch_id: Id = Field(min_length=1)
    area_name: FreeText | None = None
    blink_branch_id: Id | None = None
    branch_latitude: Money | None = None
    branch_longitude: Money | None = None
    branch_address: FreeText | None = None
    total_discount_amount: Money | None = None
    promo_code: FreeText | None = None
    promo_discount: Money | None = None
    loyalty_amount: Money | None = None
    wallet_amount: Money | None = None
    fbr_pos_charge: Money | None = None
    tax: Amount | None = None
    kitchen_notes: FreeText | None = None
    created_at: UtcDateTime | None = None
    due_at: UtcDateTime | None = None
    is_pre_order: FlexInt | None = None
    customer_name: FreeText | None = None
    customer_phone: FreeText | None = None
    customer_address_description: FreeText | None = None
    customer_address_latitude: Money | None = None
    customer_address_longitude: Money | None = None
    payment: FlexBool | None = None
    payment_method: FreeText | None = None
    payment_method_id: Id | None = None
    delivery_charges: Amount | None = None
    subtotal: Amount | None = None
    total_price: Amount | None = None
    products: OrderLines[BlinkOrderProduct] = Field(min_length=1)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: int) -> int:
        return BlinkOrderStatus(value).value


class BlinkOrderStatusWebhook(VendorModel):
    """Blink "Order Status Webhook": an order's status changed in Blink."""

    blink_order_id: Id = Field(min_length=1)
    branch_id: Id | None = None
    status: FlexInt
    status_text: FreeText | None = Field(default=None, alias="statusText")
    comment: FreeText | None = None
    created_at: UtcDateTime | None = None
    action_by: FreeText | None = None

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: int) -> int:
        return BlinkOrderStatus(value).value
