"""Blink ordering platform payloads (vendor-docs/blink-api.txt): the interface API
(``/interface/v1/...``) requests and answers. The inbound webhooks' payloads are in
``models.blink_webhooks`` (a webhook's cold start does not build the API's models).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

from orderbridge.models.base import OurModel, VendorModel
from orderbridge.models.states import BlinkOrderStatus
from orderbridge.models.types import (
    QUANTITY_LIMIT,
    Amount,
    FlexBool,
    FlexInt,
    Id,
    Money,
    NullableList,
    RefusedEntry,
    UtcDateTime,
    VendorCode,
    VendorId,
    VendorText,
    cap_text,
    keep_valid_entries,
)

BRANCH_NAME_MAX_LENGTH = 200
"""What our ``Branch.name`` holds (``models.config.Name``): a Blink branch's name is cut to it."""


# =================================================================================================
# Interface API (outbound): what we send to /interface/v1/... and what Blink answers.
# =================================================================================================


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


OptionalId = Annotated[Id | None, BeforeValidator(_blank_to_none)]
"""An id Blink may leave empty (``""``) or null: None then."""

BlankableMoney = Annotated[Money | None, BeforeValidator(_blank_to_none)]
"""An amount or coordinate Blink may leave empty (``""``) or null: None then."""

MoneyText = Annotated[Money, PlainSerializer(str, return_type=str)]
"""Money the doc types as a string ("90", "132"): held as Decimal, sent as its exact string."""

IntText = Annotated[FlexInt, PlainSerializer(str, return_type=str)]
"""A count the doc types as a string ("2"): held as int, sent as a string."""

BlankableText = Annotated[VendorText | None, BeforeValidator(_blank_to_none)]
"""Free text Blink may leave empty (``""``) or null: None then; cut when too long (``VendorText``)."""

BlankableCode = Annotated[VendorCode | None, BeforeValidator(_blank_to_none)]
"""A short code Blink may leave empty (``""``) or null: None then; refused when too long."""

OptionalVendorId = Annotated[VendorId | None, BeforeValidator(_blank_to_none)]
"""An id we key records by that Blink may leave empty or null: None then."""

Quantity = Annotated[FlexInt, Field(ge=0, le=QUANTITY_LIMIT)]
"""A count of items in an answer: not negative, at most ``QUANTITY_LIMIT``."""


def _refused() -> Any:
    """``refused`` of a list answer: the entries its model refused (``types.keep_valid_entries``);
    not part of the answer's dump."""
    return Field(default_factory=list, exclude=True)


BlankableDate = Annotated[date | None, BeforeValidator(_blank_to_none)]
BlankableDateTime = Annotated[UtcDateTime | None, BeforeValidator(_blank_to_none)]
"""A time Blink may leave empty (``""``) or null: None then."""


class BlinkRequest(OurModel):
    """A body we send to Blink: strict about our own fields, dumped with Decimal kept exact."""

    def to_body(self) -> dict[str, Any]:
        """The JSON body: aliases, no None fields, money still Decimal (written as JSON numbers)."""
        return self.model_dump(mode="python", by_alias=True, exclude_none=True)


class BlinkEnvelope(VendorModel):
    """Blink's common answer wrapper: ``{"msg": ..., "success": ..., "error": ..., "data": ...}``."""

    success: FlexBool | None = None
    msg: str | None = None
    error: Any = None


class BlinkAck(BlinkEnvelope):
    """An answer whose content we only acknowledge (stock & price sync, order status sync)."""

    data: Any = None


# --- Authorization ------------------------------------------------------------------------------


class BlinkLoginRequest(BlinkRequest):
    """POST /interface/v1/login. The password is a SecretStr: masked in repr, revealed only in the body."""

    username: str = Field(min_length=1)
    password: SecretStr = Field(min_length=1)

    @field_serializer("password")
    def _reveal_password(self, password: SecretStr) -> str:
        return password.get_secret_value()


class BlinkLoginResponse(VendorModel):
    """The login answer: a bearer token (a JWT)."""

    token_type: str | None = "Bearer"
    access_token: SecretStr = Field(min_length=1)


# --- Fetch Menu ---------------------------------------------------------------------------------


class BlinkMenuEntry(VendorModel):
    """What each category, modifier and option of a menu item carries: its id, code and name."""

    id: Id
    code: BlankableCode = None
    name: VendorText


class BlinkMenuCategory(BlinkMenuEntry):
    """data[].category[] of Fetch Menu."""


class BlinkMenuModifierOption(BlinkMenuEntry):
    """data[].modifiers[].modifier_options[] of Fetch Menu."""

    price: Money
    discount_price: BlankableMoney = None


class BlinkMenuModifier(BlinkMenuEntry):
    """data[].modifiers[] of Fetch Menu."""

    is_required: FlexBool = False
    max_multi_select_count: FlexInt | None = None
    min_multi_select_count: FlexInt | None = None
    modifier_options: Annotated[list[BlinkMenuModifierOption], NullableList] = Field(default_factory=list)


class BlinkMenuItem(VendorModel):
    """data[] of Fetch Menu. ``id`` may be empty (the doc's sample has ``"id": ""``)."""

    id: Id
    name: VendorText
    price: Money
    discount_price: BlankableMoney = None
    category: Annotated[list[BlinkMenuCategory], NullableList] = Field(default_factory=list)
    # The doc gives no shape for a branch entry: kept as sent (numbers already Decimal).
    branches: Annotated[list[Any], NullableList] = Field(default_factory=list)
    modifiers: Annotated[list[BlinkMenuModifier], NullableList] = Field(default_factory=list)


class BlinkMenuPage(VendorModel):
    """One page of GET /interface/v1/fetchMenu."""

    total_items: FlexInt | None = None
    last_page: FlexInt | None = None
    current_page: FlexInt | None = None
    per_page: FlexInt | None = None
    next_page_path: str | None = None
    last_page_path: str | None = None
    data: Annotated[list[BlinkMenuItem], NullableList] = Field(default_factory=list)
    refused: list[RefusedEntry] = _refused()

    @model_validator(mode="before")
    @classmethod
    def _entries(cls, data: Any) -> Any:
        return keep_valid_entries(data, "data", BlinkMenuItem, "id")


# --- Stock and Price Syncing --------------------------------------------------------------------


class BlinkBranchStockPrice(BlinkRequest):
    """products[].branches[]: a branch's own price (None when it is the product's) and stock."""

    id: Id = Field(min_length=1)
    is_active: bool | None = None  # in the doc's sample payload, not in its table
    price: Amount | None = None
    discount_price: Amount | None = None
    stock_quantity: int | None = Field(default=None, ge=0)


class BlinkProductStockPrice(BlinkRequest):
    id: Id = Field(min_length=1)
    price: Amount
    discount_price: Money = Field(default=Decimal(0), ge=0)  # the doc: send 0 if no discount
    branches: list[BlinkBranchStockPrice]


class BlinkStockAndPriceSync(BlinkRequest):
    """POST /interface/v1/syncStockAndPrice. Prices are sent as JSON numbers (the doc: decimal)."""

    products: list[BlinkProductStockPrice] = Field(min_length=1)


# --- Branches -----------------------------------------------------------------------------------


class BlinkBranch(VendorModel):
    id: VendorId
    blink_id: OptionalVendorId = None
    branch: VendorText | None = None
    branch_address: VendorText | None = None
    is_live: FlexBool | None = None
    is_active: FlexBool | None = None

    @field_validator("branch", mode="before")
    @classmethod
    def _name_fits_ours(cls, value: Any) -> Any:
        """The name is set on our branch, whose name holds ``BRANCH_NAME_MAX_LENGTH``: cut to it."""
        text = value.strip() if isinstance(value, str) else value
        return cap_text(text, field="branch", limit=BRANCH_NAME_MAX_LENGTH) if isinstance(text, str) else text


class BlinkBranchesResponse(BlinkEnvelope):
    data: Annotated[list[BlinkBranch], NullableList] = Field(default_factory=list)
    refused: list[RefusedEntry] = _refused()

    @model_validator(mode="before")
    @classmethod
    def _entries(cls, data: Any) -> Any:
        return keep_valid_entries(data, "data", BlinkBranch, "id")


# --- Customers ----------------------------------------------------------------------------------


class BlinkCustomer(VendorModel):
    full_name: VendorText | None = None
    phone: VendorCode | None = None
    gender: VendorCode | None = None
    date_of_birth: BlankableDate = None
    created_at: BlankableDateTime = None
    email: VendorCode | None = None
    wallet_balance: BlankableMoney = None
    loyalty_points: BlankableMoney = None


class BlinkCustomerPage(VendorModel):
    """The ``data`` paginator of GET /interface/v1/customers (Laravel's length-aware paginator)."""

    current_page: FlexInt | None = None
    data: Annotated[list[BlinkCustomer], NullableList] = Field(default_factory=list)
    refused: list[RefusedEntry] = _refused()
    first_page_url: str | None = None
    from_: FlexInt | None = Field(default=None, alias="from")
    last_page: FlexInt | None = None
    last_page_url: str | None = None
    next_page_url: str | None = None
    path: str | None = None
    per_page: FlexInt | None = None
    prev_page_url: str | None = None
    to: FlexInt | None = None
    total: FlexInt | None = None

    @model_validator(mode="before")
    @classmethod
    def _entries(cls, data: Any) -> Any:
        return keep_valid_entries(data, "data", BlinkCustomer, "created_at")


class BlinkCustomersResponse(BlinkEnvelope):
    data: BlinkCustomerPage


# --- Submit Order -------------------------------------------------------------------------------

_SCHEDULED_TIME = re.compile(r"^\d{2}-\d{2}-\d{4} \d{2}:\d{2} (AM|PM)$")


class BlinkSubmitOrderDelivery(BlinkRequest):
    house_num: str = Field(min_length=1)
    street: str = Field(min_length=1)
    building: str | None = None
    area: str = Field(min_length=1)
    city: str = Field(min_length=1)
    latitude: Money | None = None  # the doc: float; sent as an exact JSON number
    longitude: Money | None = None


class BlinkSubmitOrderSubOption(BlinkRequest):
    sub_option_id: Id = Field(min_length=1)
    price: MoneyText = Field(ge=0)
    quantity: IntText = Field(ge=1)


class BlinkSubmitOrderItem(BlinkRequest):
    blink_item_id: Id = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = None
    notes: str | None = None
    actual_price: MoneyText = Field(ge=0)
    price: MoneyText = Field(ge=0)
    quantity: IntText = Field(ge=1)
    sub_options: list[BlinkSubmitOrderSubOption] = Field(default_factory=list)


class BlinkSubmitOrderRequest(BlinkRequest):
    """POST /interface/v1/submitOrder. Money fields the doc types as strings are sent as strings."""

    blink_branch_id: Id = Field(min_length=1)
    delivery: BlinkSubmitOrderDelivery | None = None  # required when delivery_type is "delivery"
    customer_name: str = Field(min_length=1)
    customer_phone: str = Field(min_length=1)  # +92xxxx or +92xxx-xxx
    customer_email: str | None = None
    is_scheduled: Literal[0, 1] = 0
    # "DD-MM-YYYY hh:mm AM|PM" as in the doc ("22-05-2025 08:00 PM"); the doc does not say which
    # timezone, so the caller formats it (for the branch's local time).
    scheduled_delivery_time: str | None = None
    delivery_type: Literal["dinein", "pickup", "delivery"]
    payment_method: Literal["Cash", "Online"]
    tax_amount: MoneyText | None = None
    tax_percentage: MoneyText | None = None
    subtotal: MoneyText
    total: MoneyText
    delivery_charges: MoneyText
    delivery_eta: int | None = Field(default=None, ge=0)  # minutes; Blink's default is 60
    instructions: str | None = None
    items: list[BlinkSubmitOrderItem] = Field(min_length=1)

    @field_validator("scheduled_delivery_time")
    @classmethod
    def _scheduled_time_format(cls, value: str | None) -> str | None:
        if value is not None and not _SCHEDULED_TIME.match(value):
            raise ValueError('scheduled_delivery_time must look like "22-05-2025 08:00 PM"')
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BlinkSubmitOrderRequest:
        if self.delivery_type == "delivery" and self.delivery is None:
            raise ValueError("a delivery order needs its delivery address")
        if self.is_scheduled and not self.scheduled_delivery_time:
            raise ValueError("a scheduled order needs scheduled_delivery_time")
        return self


class BlinkSubmittedOrder(VendorModel):
    id: VendorId
    unique_code: VendorCode | None = None


class BlinkSubmitOrderResponse(BlinkEnvelope):
    data: BlinkSubmittedOrder


# --- Fetch Order / Order List -------------------------------------------------------------------


class BlinkOrderItem(VendorModel):
    """items[] of Fetch Order and Order List."""

    item_id: VendorId
    quantity: Quantity
    price: BlankableMoney = None
    actual_price: BlankableMoney = None
    details: VendorText | None = None
    notes: VendorText | None = None


class BlinkOrderSummary(VendorModel):
    """data[] of GET /interface/v1/getOrderList."""

    id: VendorId
    unique_code: VendorCode | None = None
    customer_name: VendorText | None = None
    customer_phone: VendorCode | None = None
    delivery_type: VendorCode | None = None
    status: VendorCode | None = None  # a name: "ACCEPTED", "REJECTED", ...
    ordertime: UtcDateTime | None = None
    payment_method: VendorCode | None = None
    subtotal: BlankableMoney = None
    total: BlankableMoney = None
    delivery_charges: BlankableMoney = None
    items: Annotated[list[BlinkOrderItem], NullableList] = Field(default_factory=list)

    @property
    def order_status(self) -> BlinkOrderStatus | None:
        """``status`` as the numeric Blink status; None for a name the doc does not list."""
        try:
            return BlinkOrderStatus[(self.status or "").strip().upper()]
        except KeyError:
            return None


class BlinkOrderDetails(BlinkOrderSummary):
    """data of GET /interface/v1/getOrder."""

    latitude: BlankableMoney = None
    longitude: BlankableMoney = None
    delivery_eta: FlexInt | None = None
    instruction: VendorText | None = None
    promo_code: VendorCode | None = None
    promo_discount: BlankableMoney = None
    reject_reason: VendorText | None = None


class BlinkOrderResponse(BlinkEnvelope):
    data: BlinkOrderDetails


class BlinkPagination(VendorModel):
    """``pagination`` of Order List and Abandoned Carts."""

    total: FlexInt | None = None
    per_page: FlexInt | None = None
    current_page: FlexInt | None = None
    last_page: FlexInt | None = None
    from_: FlexInt | None = Field(default=None, alias="from")
    to: FlexInt | None = None
    has_more: FlexBool = False


class BlinkOrderListResponse(BlinkEnvelope):
    data: Annotated[list[BlinkOrderSummary], NullableList] = Field(default_factory=list)
    refused: list[RefusedEntry] = _refused()
    pagination: BlinkPagination | None = None

    @model_validator(mode="before")
    @classmethod
    def _entries(cls, data: Any) -> Any:
        return keep_valid_entries(data, "data", BlinkOrderSummary, "id")


# --- Abandoned Carts ----------------------------------------------------------------------------


class BlinkCartCustomer(VendorModel):
    name: VendorText | None = None
    phone: VendorCode | None = None
    address: VendorText | None = None
    latitude: BlankableMoney = None  # "" in the sample: None
    longitude: BlankableMoney = None


class BlinkCartNotification(VendorModel):
    status: VendorCode | None = None
    sent_at: BlankableDateTime = None


class BlinkCartSubOption(VendorModel):
    id: Id
    name: VendorText | None = None
    price: BlankableMoney = None
    actual_price: BlankableMoney = None


class BlinkCartOption(VendorModel):
    id: Id
    name: VendorText | None = None
    suboptions: Annotated[list[BlinkCartSubOption], NullableList] = Field(default_factory=list)


class BlinkCartItem(VendorModel):
    dish_id: VendorId
    quantity: Quantity
    details: VendorText | None = None
    unit_price: BlankableMoney = None
    actual_unit_price: BlankableMoney = None
    total_price: BlankableMoney = None
    actual_total_price: BlankableMoney = None
    selected_suboption_ids: list[Id] = Field(default_factory=list)
    options: Annotated[list[BlinkCartOption], NullableList] = Field(default_factory=list)

    @field_validator("selected_suboption_ids", mode="before")
    @classmethod
    def _json_encoded_list(cls, value: Any) -> Any:
        """Blink sends this list JSON-encoded inside a string ("[]", "[6044445]")."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return []
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ValueError("selected_suboption_ids is not a JSON list") from exc
        return value


class BlinkAbandonedCart(VendorModel):
    order_id: OptionalVendorId = None
    branch_id: OptionalVendorId = None
    customer: BlinkCartCustomer | None = None
    notification: BlinkCartNotification | None = None
    created_at: UtcDateTime | None = None
    cart_value: BlankableMoney = None
    cart_items: Annotated[list[BlinkCartItem], NullableList] = Field(default_factory=list)


class BlinkAbandonedCartPage(VendorModel):
    current_page: FlexInt | None = None
    data: Annotated[list[BlinkAbandonedCart], NullableList] = Field(default_factory=list)
    refused: list[RefusedEntry] = _refused()

    @model_validator(mode="before")
    @classmethod
    def _entries(cls, data: Any) -> Any:
        return keep_valid_entries(data, "data", BlinkAbandonedCart, "created_at")


class BlinkAbandonedCartsResponse(BlinkEnvelope):
    pagination: BlinkPagination | None = None
    data: BlinkAbandonedCartPage = Field(default_factory=BlinkAbandonedCartPage)


# --- Order Status Syncing -----------------------------------------------------------------------


class BlinkOrderStatusSync(BlinkRequest):
    """POST /interface/v1/syncOrderStatus. Rejecting (4) needs a comment: refused here otherwise."""

    blink_order_id: Id = Field(min_length=1)
    status: BlinkOrderStatus
    comment: str | None = None

    @model_validator(mode="after")
    def _rejection_needs_a_comment(self) -> BlinkOrderStatusSync:
        if self.status is BlinkOrderStatus.REJECTED and not (self.comment and self.comment.strip()):
            raise ValueError("Blink requires a comment (the rejection reason) to set status 4 (rejected)")
        return self
