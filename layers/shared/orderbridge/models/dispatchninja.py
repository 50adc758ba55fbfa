"""DispatchNINJA order API payloads (vendor-docs/dispatchninja-order-api.txt).

Outbound only (DispatchNINJA has no webhooks): ``orders/add`` (URL-encoded form) and
``orders/details``, polled for the delivery's status. Every answer is wrapped in
``{"code": "200", "status": "200 success", "response": {...}}``; a code other than 200 is a failure
even when the HTTP status is 200 (the client raises it).

DispatchNINJA is a PHP/MySQL application: numbers come as strings ("0.00", "43.1722028"), flags as
"0"/"1", and an unset date may be MySQL's zero date. Money and coordinates are read as Decimal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from orderbridge.models.base import OurModel, VendorModel
from orderbridge.models.types import FlexBool, FlexInt, Id, Money, UtcDateTime, VendorText

_ZERO_DATES = frozenset({"0000-00-00", "0000-00-00 00:00:00"})


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _unset_date_to_none(value: Any) -> Any:
    if isinstance(value, str) and (not value.strip() or value.strip() in _ZERO_DATES):
        return None
    return value


NinjaDateTime = Annotated[UtcDateTime | None, BeforeValidator(_unset_date_to_none)]
"""A "2021-04-23 15:12:44" timestamp (taken as UTC); null, "" or MySQL's zero date: None."""

NinjaMoney = Annotated[Money | None, BeforeValidator(_blank_to_none)]
"""An amount sent as a string ("0.00"): Decimal; null or "": None."""

Coordinate = Annotated[Money | None, BeforeValidator(_blank_to_none)]
"""A latitude/longitude sent as a string ("43.1722028"): Decimal, never float."""

NinjaId = Annotated[Id | None, BeforeValidator(_blank_to_none)]

NinjaFlag = FlexBool | None
"""A "0"/"1" flag: bool; null: None."""


def _number_to_text(value: Any) -> Any:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[VendorText | None, BeforeValidator(_number_to_text)]
"""Free text; a number where the sample shows a string is kept as its text rather than refused. Cut
to ``VENDOR_TEXT_MAX_LENGTH`` with a marker (``models.types.VendorText``): the courier timeline keeps
some of it (status, driver, cancellation reason, tracking hash)."""


class DispatchNinjaAddOrderRequest(OurModel):
    """POST /orders/add, sent as a URL-encoded form."""

    client_name: str = Field(min_length=1)  # organisation or person at the pickup address
    client_address: str = Field(min_length=1)  # pickup address
    customer_name: str = Field(min_length=1)  # person or organisation at the delivery address
    customer_address: str = Field(min_length=1)  # delivery address
    customer_email: str | None = None
    customer_phone: str | None = None
    comments: str | None = None  # what is delivered and anything else pertinent

    def to_form(self) -> dict[str, str]:
        return {key: value for key, value in self.model_dump(exclude_none=True).items()}


class DispatchNinjaEnvelope(VendorModel):
    """The wrapper of every answer: ``code`` "200" means success (string or int)."""

    code: Id
    status: str | None = None
    response: Any = None

    @property
    def succeeded(self) -> bool:
        return self.code == "200"


class DispatchNinjaAddOrderResult(VendorModel):
    """``response`` of orders/add: keep ``order_id`` to poll orders/details."""

    message: str | None = None
    order_id: Id = Field(min_length=1)
    order_count: FlexInt | None = None


class DispatchNinjaAddOrderResponse(DispatchNinjaEnvelope):
    response: DispatchNinjaAddOrderResult


class DispatchNinjaOrderDetails(VendorModel):
    """``response`` of orders/details: every field of the doc's sample.

    The fields of note are ``completed``, ``canceled`` and ``status``: see :attr:`is_completed` and
    :attr:`is_canceled`.
    """

    id: Id
    created: NinjaDateTime = None
    created_by: NinjaId = None
    modified: NinjaDateTime = None
    modified_by: NinjaId = None
    canceled: NinjaDateTime = None
    canceled_by: NinjaId = None
    completed: NinjaDateTime = None
    completed_by: NinjaId = None
    trash: NinjaFlag = None
    location: NinjaId = None
    location_count: FlexInt | None = None
    dispatcher: NinjaId = None
    driver: NinjaId = None
    driver_name: Text = None
    status_id: FlexInt | None = None
    status: Text = None
    delivery_time_type: Text = None  # "asap" or a scheduled type
    delivery_time: Text = None  # "asap" or a time
    delivery_delay: Text = None
    comment: Text = None
    payment_method: NinjaId = None
    payment_method_name: Text = None
    paid: NinjaFlag = None
    tip: NinjaMoney = None
    delivery_fee: NinjaMoney = None
    extra_delivery_fee: NinjaMoney = None
    price: NinjaMoney = None
    surcharge: NinjaMoney = None
    discount: NinjaMoney = None
    coupon: Text = None
    tax: NinjaMoney = None
    grand_total: NinjaMoney = None
    client: NinjaId = None
    client_name: Text = None
    client_address: Text = None
    client_latitude: Coordinate = None
    client_longitude: Coordinate = None
    customer: NinjaId = None
    customer_name: Text = None
    customer_apt: Text = None
    customer_address: Text = None
    customer_phone: Text = None
    customer_email: Text = None
    customer_latitude: Coordinate = None
    customer_longitude: Coordinate = None
    estimated_distance: Text = None  # "211 km"
    estimated_duration: Text = None  # "2 hours 13 mins"
    actual_duration: Text = None
    red_zone: Text = None
    loss: Text = None
    loss_amount: NinjaMoney = None
    opened: NinjaFlag = None
    order_number: NinjaId = None
    milestone_event_label: Text = None
    milestone_event_value: Text = None
    tracking_hash: Text = None
    cancelled_reason: Text = None
    pool_id: NinjaId = None
    pool_locked: Text = None
    pre_auth_code: Text = None

    @property
    def is_completed(self) -> bool:
        """The delivery is done: ``completed`` holds when."""
        return self.completed is not None

    @property
    def is_canceled(self) -> bool:
        """The delivery was called off: ``canceled`` holds when (``cancelled_reason`` says why)."""
        return self.canceled is not None


class DispatchNinjaOrderDetailsResponse(DispatchNinjaEnvelope):
    response: DispatchNinjaOrderDetails
