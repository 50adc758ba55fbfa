"""Blink ordering platform payloads (vendor-docs/blink-api.txt).

Inbound: the Order Webhook and the Order Status Webhook.
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum

from pydantic import Field, field_validator

from orderbridge.models.base import VendorModel
from orderbridge.models.types import FlexBool, FlexInt, Id, Money, UtcDateTime


class BlinkOrderStatus(IntEnum):
    """Blink's order status codes ("Order Status" table)."""

    PENDING = 0
    ACCEPTED = 1
    DISPATCHED = 2
    DELIVERED = 3
    REJECTED = 4
    READY = 6


class BlinkOrderOption(VendorModel):
    """products[].options[] of the Order Webhook."""

    modifier_option_id: Id
    name: str | None = None
    quantity: FlexInt = 1
    unit_price: Money | None = None
    total_price: Money | None = None
    item_price: Money | None = None
    item_discount_price: Money | None = None


class BlinkOrderProduct(VendorModel):
    """products[] of the Order Webhook."""

    product_id: Id
    quantity: FlexInt = Field(gt=0)
    name: str | None = None
    unit_price: Money
    total_price: Money | None = None
    item_price: Money | None = None
    item_discount_price: Money | None = None
    options: list[BlinkOrderOption] = Field(default_factory=list)

    @field_validator("options", mode="before")
    @classmethod
    def _null_options(cls, value: object) -> object:
        return [] if value is None else value


class BlinkOrderWebhook(VendorModel):
    """Blink "Order Webhook": a new order placed through Blink. Every documented field."""

    blink_order_id: Id = Field(min_length=1)
    external_order_id: Id | None = None
    order_key: str | None = None
    type: str | None = None  # "PICK-UP" / "DINE-IN" / "DELIVERY"
    status: FlexInt = BlinkOrderStatus.PENDING
    status_text: str | None = None
    currency: str | None = None
    channel: str | None = None
    channel_id: Id | None = None
    brand_id: Id | None = None
    branch_id: Id = Field(min_length=1)
    area_name: str | None = None
    blink_branch_id: Id | None = None
    branch_latitude: Money | None = None
    branch_longitude: Money | None = None
    branch_address: str | None = None
    total_discount_amount: Money | None = None
    promo_code: str | None = None
    promo_discount: Money | None = None
    loyalty_amount: Money | None = None
    wallet_amount: Money | None = None
    fbr_pos_charge: Money | None = None
    tax: Money | None = None
    kitchen_notes: str | None = None
    created_at: UtcDateTime | None = None
    due_at: UtcDateTime | None = None
    is_pre_order: FlexInt | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_address_description: str | None = None
    customer_address_latitude: Money | None = None
    customer_address_longitude: Money | None = None
    payment: FlexBool | None = None
    payment_method: str | None = None
    payment_method_id: Id | None = None
    delivery_charges: Money | None = None
    subtotal: Money | None = None
    total_price: Money | None = None
    products: list[BlinkOrderProduct] = Field(min_length=1)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: int) -> int:
        return BlinkOrderStatus(value).value

    @property
    def total(self) -> Decimal | None:
        return self.total_price


class BlinkOrderStatusWebhook(VendorModel):
    """Blink "Order Status Webhook": an order's status changed in Blink."""

    blink_order_id: Id = Field(min_length=1)
    branch_id: Id | None = None
    status: FlexInt
    status_text: str | None = Field(default=None, alias="statusText")
    comment: str | None = None
    created_at: UtcDateTime | None = None
    action_by: str | None = None

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: int) -> int:
        return BlinkOrderStatus(value).value
