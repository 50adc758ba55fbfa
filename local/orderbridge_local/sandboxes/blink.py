"""Blink interface API sandbox (vendor-docs/blink-api.txt), plus Blink's two outbound webhooks.

Settings (:class:`BlinkSettings`, on top of :class:`~.base.SandboxSettings`)
---------------------------------------------------------------------------
``username`` / ``password``
    The credentials ``POST /interface/v1/login`` accepts.
``jwt_secret`` / ``token_ttl_seconds``
    The access token is an HS256 JWT (``sub``, ``iat``, ``exp``, ``iss``) signed with
    ``jwt_secret``; it expires after ``token_ttl_seconds``.
``order_webhook_url`` / ``order_status_webhook_url``
    Where ``POST /_admin/place-order`` (and ``submitOrder``, see ``announce_submitted_orders``) and
    ``POST /_admin/order-status`` send Blink's "Order Webhook" and "Order Status Webhook".
``webhook_token`` / ``webhook_token_header``
    Sent with both webhooks (default header ``X-Webhook-Token``; no header when the token is unset).
``webhook_timeout_seconds``
    Default 5 s, as the doc says ("the request will be terminated and not processed further":
    no retries).
``menu_per_page`` (2, as the doc's sample), ``customers_per_page`` (100), ``order_list_per_page``
(30), ``abandoned_carts_per_page`` (5)
    Page sizes of the paginated answers.
``first_order_id``
    The first id given to a new order (by ``submitOrder`` or ``place-order``); ids then increase.
``submit_order_requires_delivery_address``
    The doc marks ``delivery.house_num``, ``street``, ``area``, ``city`` required without
    condition; set to False to require them only for ``delivery_type: "delivery"``.
``announce_submitted_orders`` (ASSUMPTION: the doc is silent)
    Whether an order pushed with ``submitOrder`` is also announced on the Order Webhook. The doc
    does not say; we assume it is, like any new order, so Orderbridge must recognise its own
    submission (one sale, one order). Change it at run time with ``POST /_admin/settings``.

    ``"after"`` (default)
        The Order Webhook is emitted through the usual webhook machinery once the submitOrder
        handler is done: in ``webhook_mode: "thread"`` (default, the local stack) it is queued and
        the worker posts it while (or just after) the answer is returned — the two race, as they
        would at Blink; in ``webhook_mode: "sync"`` it is posted before the answer, like every
        webhook in that mode.
    ``"before"``
        The Order Webhook is posted, and the receiver's answer awaited (at most
        ``webhook_timeout_seconds``), before submitOrder answers: the receiver sees the order while
        the submitter is still waiting. The state lock is released meanwhile, so a receiver that
        calls back into this sandbox (``getOrder``) is served; the order is already stored.
    ``"off"``
        No webhook for submitted orders (``place-order`` orders are always announced).

    The payload has exactly the keys of the doc's "Webhook Payload" sample; see "Submitted orders on
    the Order Webhook" below for how each is derived. The stored order keeps ``source:
    "submitOrder"``, ``announced`` (true once emitted), ``webhook_payload`` and ``webhooks`` (the
    delivery records, filled in once sent), shown by ``GET /_admin/orders/<id>``.
``scheduled_time_zone`` (default ``"UTC"``)
    The IANA time zone ``scheduled_delivery_time`` ("22-05-2025 08:00 PM") is read in to make the
    webhook's ``due_at`` (UTC). The doc does not say which zone that field is in.
``order_currency`` (``"PKR"``, the sample's), ``brand_id`` (``"2131"``, the sample's),
``submitted_order_channel`` (``"API"``), ``submitted_order_channel_id`` (``""``)
    Fields of the Order Webhook of a submitted order that the submission does not carry. The doc
    lists no channel for API orders (only ANDROID=7 … FOODPANDA=12): ``"API"`` is an assumption.

Vendor routes (every route but login needs ``Authorization: Bearer <unexpired token>``)
--------------------------------------------------------------------------------------
``POST /interface/v1/login``, ``GET /interface/v1/fetchMenu?page=``,
``POST /interface/v1/syncStockAndPrice``, ``GET /interface/v1/branches``,
``GET /interface/v1/customers?phone=&created_at=&page=``, ``POST /interface/v1/submitOrder``,
``GET /interface/v1/getOrder?order_id=&unique_code=``, ``GET /interface/v1/getOrderList?order_id=&page=``,
``GET /interface/v1/getAbandonedCarts?start_date=&end_date=&page=``, ``POST /interface/v1/syncOrderStatus``.

Admin routes
------------
``POST /_admin/place-order``
    Body: optional overrides merged into the doc's "Webhook Payload" sample (``products`` replaced
    as a whole). A fresh ``blink_order_id`` (and ``order_key``, ``created_at``, ``due_at`` = now)
    unless given. The order is stored (``getOrder`` / ``getOrderList`` return it) and the Order
    Webhook is POSTed to ``order_webhook_url``. Answer: ``{"order": <payload>, "webhooks": [...]}``.
``POST /_admin/order-status``
    ``{"blink_order_id", "status", "comment"?, "action_by"?, "branch_id"?}``: the restaurant changed
    the status in Blink. Updates the stored order (if known) and POSTs the Order Status Webhook
    (``blink_order_id, branch_id, status, statusText, comment, created_at, action_by``).
``GET /_admin/orders``, ``GET /_admin/orders/<id>``
    Stored orders with their ``source`` (``"submitOrder"`` or ``"webhook"`` for ``place-order``),
    ``status_history`` (every status Blink received via ``syncOrderStatus`` or set via
    ``order-status``), and their announcement: ``announced``, ``webhook_payload`` (the Order
    Webhook body) and ``webhooks`` (its delivery records).
``POST /_admin/abandoned-carts``
    Overrides merged into the doc's sample cart; the cart is added.
``POST /_admin/branches``
    A branch is added to the merchant's account (Blink's side of onboarding a branch):
    ``{"id": <its third-party code>, "blink_id": ..., "branch": <name>, "branch_address": ...}``
    (live and active); ``submitOrder`` then takes its ``blink_branch_id`` and ``branches`` lists it.
``GET /_admin/menu``, ``POST /_admin/menu``, ``PATCH /_admin/menu/<item_id>``, ``DELETE /_admin/menu/<item_id>``
    The restaurant changes its menu in Blink: the items ``fetchMenu`` serves, in its ``data[]``
    shape. POST adds an item (``id``, ``name``, ``price`` required; the rest as the doc's sample
    item) or replaces the one with that id; PATCH changes fields of one; DELETE removes it.

Submitted orders on the Order Webhook (ASSUMPTION, see ``announce_submitted_orders``)
-------------------------------------------------------------------------------------
``blink_order_id`` = the id submitOrder answered (as a string); ``external_order_id`` ``""``;
``order_key`` = its ``unique_code``; ``type`` from ``delivery_type`` (delivery → ``DELIVERY``,
pickup → ``PICK-UP``, dinein → ``DINE-IN``); ``status`` ``"0"``, ``status_text`` ``"PENDING"``;
``currency``, ``channel``, ``channel_id``, ``brand_id`` from the settings; ``area_name`` =
``delivery.area`` for a delivery, else the branch's name; ``branch_id`` = the branch's third-party
code (``id`` in ``/branches``) and ``blink_branch_id`` as submitted; ``branch_latitude`` /
``branch_longitude`` (the sample's for 50220, invented for 60001/60002) and ``branch_address``
from the branch; ``total_discount_amount``, ``promo_discount``, ``wallet_amount``,
``loyalty_amount``, ``fbr_pos_charge`` ``0``, ``promo_code`` ``""``; ``tax`` = ``tax_amount``
(number, 0 when absent); ``kitchen_notes`` = ``instructions``; ``created_at`` = now and ``due_at``
= the scheduled time in UTC when ``is_scheduled`` is 1 (now otherwise, or when no time is given);
``is_pre_order`` = ``is_scheduled``; ``customer_name`` / ``customer_phone`` exactly as submitted;
``customer_address_description`` = ``house_num, building, street, area, city`` for a delivery, else
``"PICK-UP"`` / ``"DINE-IN"`` (as the sample); ``customer_address_latitude`` / ``_longitude`` =
``delivery.latitude`` / ``longitude`` (as strings) for a delivery, else null; ``payment`` = false
for Cash, true for Online; ``payment_method_id`` ``"0"`` for Cash (the doc: Cash=0), ``""`` for
Online; ``payment_method``, ``delivery_charges``, ``subtotal`` as submitted, ``total_price`` =
``total`` (strings). ``products[]`` from ``items[]``: ``product_id`` = ``blink_item_id``, ``name``,
``quantity`` (number), ``unit_price`` = ``price``, ``item_price`` = ``actual_price``,
``item_discount_price`` = ``price`` when it differs from ``actual_price`` (as the menu's
``discount_price``) else ``"0.00"``, ``total_price`` = price × quantity (number, options not
included); ``options[]`` from ``sub_options[]``: ``modifier_option_id`` = ``sub_option_id``,
``unit_price`` = ``item_price`` = ``price``, ``quantity``, ``total_price`` = price × quantity
(``"0.000"`` style), ``name`` from the menu's modifier option (``""`` if unknown),
``item_discount_price`` ``"0.00"``.

Where the doc is silent (liberties)
-----------------------------------
Each point the Orderbridge side relies on is in docs/vendor-assumptions.md ("Blink"); the doc's
section is named in brackets.

* Login failure ["Authorization API": "it will return an error message", no shape]: 401
  ``{"success": false, "msg": "Invalid credentials", "error": "Unauthorized"}``; a missing, invalid
  or expired bearer token: 401 ``{"success": false, "msg": "Unauthenticated.", ...}``.
* Validation failures (``submitOrder``, ``syncOrderStatus``, ``syncStockAndPrice``, query
  parameters) [no section shows an error answer]: 422, Laravel style: ``{"success": false, "msg":
  "The given data was invalid.", "error": "Unprocessable Entity", "errors": {"<field>": ["<reason>"]}}``.
* Unknown order ["Fetch Order" shows none]: 404 ``{"success": false, "msg": "Order not found",
  "error": "Not Found", "data": null}``.
* ``getOrder`` answers 201, as the doc's sample says.
* ``syncOrderStatus`` success ["Order Status Syncing" has "Sample Payloads" and no response]: 200
  ``{"success": true, "msg": "Order status updated successfully", "data": {"blink_order_id",
  "status"}}``; it does not trigger the Order Status Webhook.
* ``syncStockAndPrice`` success ["Stock and Price Syncing" has no response sample]: 200
  ``{"success": true, "msg": "Stock and price updated successfully", "error": null, "data":
  {"updated": [...], "not_found": [...]}}``; the branch entries sent become the item's
  ``branches`` in ``fetchMenu``.
* The sample menu items have ``"id": ""``; the seeded items have ids (the doc's other samples'
  product ids where there is one). Seven of the nine items are invented around the doc's two.
* ``getOrderList`` pages with ``?page=`` (the doc's "Order List" shows only ``pagination``).
* ``submitOrder`` ["Submit Order"]: a ``scheduled_delivery_time`` not in the sample's format
  ("22-05-2025 08:00 PM", ``d-m-Y h:i A``) is a 422; ``is_scheduled: 1`` without one is accepted
  (the doc marks it optional).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jwt
from pydantic import Field, field_validator
from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from orderbridge_local.sandboxes.base import (
    ApiError,
    Reply,
    Sandbox,
    SandboxSettings,
    WebhookJob,
    deep_merge,
    json_body,
    number,
    page_of,
    parse_time,
    sql_time,
)

API = "/interface/v1"

STATUS_NAMES = {0: "PENDING", 1: "ACCEPTED", 2: "DISPATCHED", 3: "DELIVERED", 4: "REJECTED", 6: "READY"}
STATUS_TEXTS = {0: "Pending", 1: "Accepted", 2: "Dispatched", 3: "Delivered", 4: "Rejected", 6: "Ready"}
DELIVERY_TYPES = {"PICK-UP": "pickup", "DINE-IN": "dinein", "DELIVERY": "delivery"}
# submitOrder's delivery_type -> the Order Webhook's type.
ORDER_TYPES = {value: key for key, value in DELIVERY_TYPES.items()}
# submitOrder's scheduled_delivery_time, as the doc's sample writes it ("22-05-2025 08:00 PM").
SCHEDULED_TIME_FORMAT = "%d-%m-%Y %I:%M %p"

# The doc's "Webhook Payload" sample of the Order Webhook, verbatim.
ORDER_WEBHOOK_SAMPLE: dict[str, Any] = {
    "blink_order_id": "1236589",
    "external_order_id": "UYI-9IY",
    "order_key": "ABND-24234",
    "type": "PICK-UP",
    "status": "0",
    "status_text": "PENDING",
    "currency": "PKR",
    "channel": "IOS",
    "channel_id": "8",
    "area_name": "Precinct-11A",
    "brand_id": "2131",
    "branch_id": "12345",
    "blink_branch_id": "50220",
    "branch_latitude": "27.4654584",
    "branch_longitude": "64.846548",
    "branch_address": "XYZ road street 13",
    "total_discount_amount": 0,
    "promo_code": "",
    "promo_discount": 0,
    "wallet_amount": 0,
    "loyalty_amount": 0,
    "tax": 0,
    "fbr_pos_charge": 1,
    "kitchen_notes": "",
    "created_at": "2024-06-26 09:26:04",
    "due_at": "2024-06-26 09:26:04",
    "is_pre_order": 0,
    "customer_name": "John Doe",
    "customer_phone": "+923300000000",
    "customer_address_description": "PICK-UP",
    "customer_address_latitude": None,
    "customer_address_longitude": None,
    "products": [
        {
            "product_id": "1c54bd7abe7b",
            "quantity": 1,
            "name": "Veg Breakfast Press COMBO",
            "unit_price": "39.000",
            "total_price": 39,
            "item_price": "39.00",
            "item_discount_price": "0.00",
            "options": [
                {
                    "modifier_option_id": "cfeed7290c4c",
                    "unit_price": "0.000",
                    "total_price": "0.000",
                    "name": "Tortilla (Wrap)",
                    "quantity": 1,
                    "item_price": "0.00",
                    "item_discount_price": "0.00",
                }
            ],
        }
    ],
    "payment": True,
    "payment_method_id": "0",
    "payment_method": "Cash",
    "delivery_charges": "0",
    "subtotal": "59",
    "total_price": "66.67",
}


def _category(cat_id: int, name: str) -> list[dict[str, Any]]:
    return [{"id": cat_id, "code": None, "name": name}]


def _menu_item(item_id: str, name: str, price: str, category: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    item = {
        "id": item_id,
        "name": name,
        "price": price,
        "discount_price": "0.000",
        "category": category,
        "branches": [],
        "modifiers": [],
    }
    item.update(extra)
    return item


def seed_menu() -> list[dict[str, Any]]:
    """Nine items (the doc's sample says ``total_items: 9``), the doc's two among them."""
    return [
        _menu_item(
            "97358ecc-06aa-4a8c-8249-6113261ac5a8",
            "Parisian Platter of Mini Sandwiches",
            "7199.980",
            _category(126873, "Cocktails & Aperitifs"),
        ),
        _menu_item(
            "b8f5e1d2-3c4a-4e6b-9a7c-2d1e0f9a8b7c",
            "The PAUL Baguette with Cheese",
            "1299.990",
            _category(126875, "Breads"),
            modifiers=[
                {
                    "id": 1531139,
                    "code": None,
                    "name": "test1",
                    "is_required": False,
                    "max_multi_select_count": 3,
                    "min_multi_select_count": 2,
                    "modifier_options": [
                        {"id": 12289595, "code": "", "name": "testa", "price": "20.000", "discount_price": "0.000"},
                        {"id": 12289596, "code": "", "name": "testb", "price": "15.000", "discount_price": "0.000"},
                    ],
                }
            ],
        ),
        _menu_item(
            "1c54bd7abe7b",
            "Veg Breakfast Press COMBO",
            "39.000",
            _category(126880, "Breakfast"),
            modifiers=[
                {
                    "id": 1531150,
                    "code": "WRAP",
                    "name": "Bread choice",
                    "is_required": True,
                    "max_multi_select_count": 1,
                    "min_multi_select_count": 1,
                    "modifier_options": [
                        {
                            "id": 12289610,
                            "code": "TORT",
                            "name": "Tortilla (Wrap)",
                            "price": "0.000",
                            "discount_price": "0.000",
                        },
                        {
                            "id": 12289611,
                            "code": "CIAB",
                            "name": "Ciabatta",
                            "price": "2.000",
                            "discount_price": "0.000",
                        },
                    ],
                }
            ],
        ),
        _menu_item(
            "257327",
            "Nestle MilkPak Full Cream Milk 250ml",
            "110.000",
            _category(126890, "Dairy"),
            discount_price="85.000",
            modifiers=[
                {
                    "id": 1531160,
                    "code": None,
                    "name": "Temperature",
                    "is_required": False,
                    "max_multi_select_count": 1,
                    "min_multi_select_count": 0,
                    "modifier_options": [
                        {"id": 596996, "code": "", "name": "Chilled", "price": "5.000", "discount_price": "0.000"}
                    ],
                }
            ],
        ),
        _menu_item("1567138", "Chicken Bites 8 Pcs", "23.000", _category(126881, "Snacks")),
        _menu_item(
            "722688", "Abbott Similac Total Comfort 2 (6-12 Months) 360g", "142.000", _category(126891, "Baby Care")
        ),
        _menu_item("a1b2c3d4e5f6", "Milk Buffalo 1 Ltr Pouch", "260.000", _category(126890, "Dairy")),
        _menu_item("c0ffee000001", "Cappuccino", "450.000", _category(126876, "Hot Drinks")),
        _menu_item("c0ffee000002", "Butter Croissant", "380.000", _category(126875, "Breads")),
    ]


def seed_branches() -> list[dict[str, Any]]:
    return [
        {
            "id": 63,
            "blink_id": 60001,
            "branch": "Clifton-Block 4",
            "branch_address": "209 Bolvard center, caspian road beside Hollywood Cafe",
            "is_live": 1,
            "is_active": 1,
        },
        {
            "id": 64,
            "blink_id": 60002,
            "branch": "SMCHS-12",
            "branch_address": "Plot#212 Rae Avenue road",
            "is_live": 1,
            "is_active": 1,
        },
        # The branch of the Order Webhook sample (branch_id "12345", blink_branch_id "50220").
        {
            "id": 12345,
            "blink_id": 50220,
            "branch": "Precinct-11A",
            "branch_address": "XYZ road street 13",
            "is_live": 1,
            "is_active": 1,
        },
    ]


def seed_customers() -> list[dict[str, Any]]:
    def customer(
        name: str, phone: str, gender: str, born: str, created: str, email: str, wallet: str, points: str
    ) -> dict[str, Any]:
        return {
            "full_name": name,
            "phone": phone,
            "gender": gender,
            "date_of_birth": born,
            "created_at": created,
            "email": email,
            "wallet_balance": wallet,
            "loyalty_points": points,
        }

    return [
        customer(
            "John Doe",
            "+923300000000",
            "Male",
            "1990-01-01",
            "2023-01-01 00:00:00",
            "john.doe@example.com",
            "23",
            "100",
        ),
        customer(
            "Ayesha Khan",
            "+923331234567",
            "Female",
            "1992-05-14",
            "2023-03-15 10:30:00",
            "ayesha.khan@example.com",
            "0",
            "40",
        ),
        customer(
            "Bilal Ahmed",
            "+923009876543",
            "Male",
            "1985-11-02",
            "2024-02-20 18:45:10",
            "bilal.ahmed@example.com",
            "150",
            "0",
        ),
        customer(
            "Sara Malik",
            "+923451112223",
            "Female",
            "1998-07-30",
            "2024-06-01 08:00:00",
            "sara.malik@example.com",
            "12",
            "260",
        ),
    ]


# The doc's "Get Abandoned Carts" sample cart.
ABANDONED_CART_SAMPLE: dict[str, Any] = {
    "order_id": "",
    "branch_id": "",
    "customer": {"name": "Test User", "phone": "+923300000009", "address": "", "latitude": "", "longitude": ""},
    "notification": {"status": "SENT", "sent_at": "2026-02-09 08:34:04"},
    "created_at": "2026-02-09 08:08:18",
    "cart_value": 744,
    "cart_items": [
        {
            "dish_id": 722688,
            "quantity": 1,
            "details": "Abbott Similac Total Comfort 2 (6-12 Months) 360g",
            "unit_price": "142.000",
            "actual_unit_price": "142.000",
            "total_price": "344.0",
            "actual_total_price": "344.0",
            "selected_suboption_ids": "[]",
            "options": [
                {
                    "id": 707758,
                    "name": "Variation",
                    "suboptions": [{"id": 6044445, "name": "per unit", "price": "0.000", "actual_price": "0.000"}],
                },
                {
                    "id": 191554,
                    "name": "Sauce",
                    "suboptions": [
                        {"id": 6052048, "name": "test", "price": "0.000", "actual_price": "200.000"},
                        {"id": 896289, "name": "Buffalo", "price": "0.000", "actual_price": "2.000"},
                    ],
                },
            ],
        }
    ],
}

_PHONE = re.compile(r"^\+[0-9][0-9 -]{5,}$")


class BlinkSettings(SandboxSettings):
    username: str = "orderbridge"
    password: str = "blink-sandbox-password"
    jwt_secret: str = "blink-sandbox-jwt-secret-0123456789abcdef"
    token_ttl_seconds: int = Field(default=3600, ge=1)
    order_webhook_url: str | None = None
    order_status_webhook_url: str | None = None
    webhook_token: str | None = None
    webhook_token_header: str = "X-Webhook-Token"
    menu_per_page: int = Field(default=2, ge=1)
    customers_per_page: int = Field(default=100, ge=1)
    order_list_per_page: int = Field(default=30, ge=1)
    abandoned_carts_per_page: int = Field(default=5, ge=1)
    first_order_id: int = Field(default=1236590, ge=1)
    submit_order_requires_delivery_address: bool = True
    # ASSUMPTION (the doc is silent): an order pushed with submitOrder comes back on the Order
    # Webhook like any new order. See the module docstring.
    announce_submitted_orders: Literal["after", "before", "off"] = "after"
    scheduled_time_zone: str = "UTC"
    order_currency: str = "PKR"
    submitted_order_channel: str = "API"
    submitted_order_channel_id: str = ""
    brand_id: str = "2131"

    @field_validator("scheduled_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. 'Asia/Karachi')") from None
        return value


def _invalid(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(
        422,
        {"success": False, "msg": "The given data was invalid.", "error": "Unprocessable Entity", "errors": errors},
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _decimal(value: Any) -> Decimal:
    """A validated submitOrder number ("85", 85, 12.5) as a Decimal; 0 when absent."""
    if _blank(value):
        return Decimal(0)
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return Decimal(0)


def _as_text(value: Any) -> str:
    """A number as the text the submitter wrote (the Order Webhook types money as strings)."""
    return value.strip() if isinstance(value, str) else str(value)


def _json_number(value: Decimal) -> int | float | None:
    """A computed amount as a JSON number (int when integral), for the fields the doc types as numbers."""
    return number(str(value))


def _scheduled_time(value: Any, zone: str) -> datetime | None:
    """submitOrder's ``scheduled_delivery_time`` ("22-05-2025 08:00 PM", read in ``zone``) in UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        local = datetime.strptime(value.strip(), SCHEDULED_TIME_FORMAT)
    except ValueError:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


# Where the seeded branches are: the Order Webhook sample's for its branch, invented for the doc's two.
BRANCH_LOCATIONS: dict[int, tuple[str, str]] = {
    50220: ("27.4654584", "64.846548"),
    60001: ("24.8138", "67.0300"),
    60002: ("24.8722", "67.0796"),
}


class BlinkSandbox(Sandbox):
    name = "blink"
    settings_model = BlinkSettings
    settings: BlinkSettings

    # ------------------------------------------------------------------ state

    def reset_state(self) -> None:
        self.menu = seed_menu()
        self.branches = seed_branches()
        self.customers = seed_customers()
        self.carts = [deep_merge(ABANDONED_CART_SAMPLE, {})]
        self.orders: dict[int, dict[str, Any]] = {}
        self._next_order_id = self.settings.first_order_id

    def error_body(self, status: int, message: str, **extra: Any) -> Any:
        reasons = {401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 422: "Unprocessable Entity"}
        return {"success": False, "msg": message, "error": reasons.get(status, f"HTTP {status}"), **extra}

    def vendor_rules(self) -> list[Rule]:
        return [
            Rule(f"{API}/login", methods=["POST"], endpoint=self.login),
            Rule(f"{API}/fetchMenu", methods=["GET"], endpoint=self.fetch_menu),
            Rule(f"{API}/syncStockAndPrice", methods=["POST"], endpoint=self.sync_stock_and_price),
            Rule(f"{API}/branches", methods=["GET"], endpoint=self.list_branches),
            Rule(f"{API}/customers", methods=["GET"], endpoint=self.list_customers),
            Rule(f"{API}/submitOrder", methods=["POST"], endpoint=self.submit_order),
            Rule(f"{API}/getOrder", methods=["GET"], endpoint=self.get_order),
            Rule(f"{API}/getOrderList", methods=["GET"], endpoint=self.get_order_list),
            Rule(f"{API}/getAbandonedCarts", methods=["GET"], endpoint=self.get_abandoned_carts),
            Rule(f"{API}/syncOrderStatus", methods=["POST"], endpoint=self.sync_order_status),
        ]

    def admin_rules(self) -> list[Rule]:
        return [
            Rule("/_admin/place-order", methods=["POST"], endpoint=self.admin_place_order),
            Rule("/_admin/order-status", methods=["POST"], endpoint=self.admin_order_status),
            Rule("/_admin/orders", methods=["GET"], endpoint=self.admin_orders),
            Rule("/_admin/orders/<int:order_id>", methods=["GET"], endpoint=self.admin_order),
            Rule("/_admin/abandoned-carts", methods=["POST"], endpoint=self.admin_add_cart),
            Rule("/_admin/branches", methods=["POST"], endpoint=self.admin_add_branch),
            Rule("/_admin/menu", methods=["GET"], endpoint=self.admin_menu),
            Rule("/_admin/menu", methods=["POST"], endpoint=self.admin_put_menu_item),
            Rule("/_admin/menu/<item_id>", methods=["PATCH"], endpoint=self.admin_change_menu_item),
            Rule("/_admin/menu/<item_id>", methods=["DELETE"], endpoint=self.admin_remove_menu_item),
        ]

    # ------------------------------------------------------------------ auth

    def issue_token(self, ttl_seconds: int | None = None) -> str:
        now = self.now()
        ttl = self.settings.token_ttl_seconds if ttl_seconds is None else ttl_seconds
        claims = {
            "sub": self.settings.username,
            "iss": "blink-sandbox",
            "iat": now,
            "exp": now + timedelta(seconds=ttl),
        }
        return jwt.encode(claims, self.settings.jwt_secret, algorithm="HS256")

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self.error(401, "Unauthenticated.")
        try:
            jwt.decode(token.strip(), self.settings.jwt_secret, algorithms=["HS256"], options={"require": ["exp"]})
        except jwt.ExpiredSignatureError:
            raise self.error(401, "Unauthenticated.", reason="token expired") from None
        except jwt.InvalidTokenError:
            raise self.error(401, "Unauthenticated.", reason="invalid token") from None

    def login(self, request: Request) -> Reply:
        body = json_body(request)
        if not isinstance(body, dict):
            body = request.form.to_dict() if request.form else {}
        if body.get("username") != self.settings.username or body.get("password") != self.settings.password:
            raise self.error(401, "Invalid credentials")
        return Reply({"token_type": "Bearer", "access_token": self.issue_token()})

    # ------------------------------------------------------------------ menu, branches, customers

    def fetch_menu(self, request: Request) -> Reply:
        self._authenticate(request)
        page = self.int_arg(request, "page", 1)
        per_page = self.settings.menu_per_page
        items, last_page = page_of(self.menu, page, per_page)
        base = f"{self.base_url(request)}{API}/fetchMenu"
        return Reply(
            {
                "total_items": len(self.menu),
                "last_page": last_page,
                "current_page": page,
                "per_page": per_page,
                "next_page_path": f"{base}?page={page + 1}" if page < last_page else None,
                "last_page_path": f"{base}?page={last_page}",
                "data": items,
            }
        )

    def sync_stock_and_price(self, request: Request) -> Reply:
        self._authenticate(request)
        body = json_body(request)
        errors: dict[str, list[str]] = {}
        if not isinstance(body, dict) or not isinstance(body.get("products"), list) or not body["products"]:
            raise _invalid({"products": ["The products field is required and must be a non-empty array."]})
        for index, product in enumerate(body["products"]):
            prefix = f"products.{index}"
            if not isinstance(product, dict):
                errors[prefix] = ["must be an object"]
                continue
            for key in ("id", "price", "discount_price"):
                if _blank(product.get(key)):
                    errors[f"{prefix}.{key}"] = [f"The {prefix}.{key} field is required."]
            for key in ("price", "discount_price"):
                if not _blank(product.get(key)) and number(product.get(key)) is None:
                    errors[f"{prefix}.{key}"] = [f"The {prefix}.{key} must be a number."]
            branches = product.get("branches")
            if not isinstance(branches, list):
                errors[f"{prefix}.branches"] = [f"The {prefix}.branches field is required."]
                continue
            for b_index, branch in enumerate(branches):
                if not isinstance(branch, dict) or _blank(branch.get("id")):
                    errors[f"{prefix}.branches.{b_index}.id"] = [
                        f"The {prefix}.branches.{b_index}.id field is required."
                    ]
        if errors:
            raise _invalid(errors)
        by_id = {item["id"]: item for item in self.menu}
        updated, not_found = [], []
        for product in body["products"]:
            item = by_id.get(str(product["id"]))
            if item is None:
                not_found.append(str(product["id"]))
                continue
            item["price"] = f"{float(number(product['price']) or 0):.3f}"
            item["discount_price"] = f"{float(number(product['discount_price']) or 0):.3f}"
            item["branches"] = [dict(branch) for branch in product["branches"]]
            updated.append(item["id"])
        return Reply(
            {
                "success": True,
                "msg": "Stock and price updated successfully",
                "error": None,
                "data": {"updated": updated, "not_found": not_found},
            }
        )

    def list_branches(self, request: Request) -> Reply:
        self._authenticate(request)
        return Reply({"msg": "Success", "success": True, "error": None, "data": self.branches})

    def list_customers(self, request: Request) -> Reply:
        self._authenticate(request)
        customers = list(self.customers)
        phone = request.args.get("phone")
        if phone:
            wanted = re.sub(r"\D", "", phone)
            customers = [c for c in customers if re.sub(r"\D", "", c["phone"]) == wanted]
        created_raw = request.args.get("created_at")
        if created_raw:
            created_after = parse_time(created_raw)
            if created_after is None:
                raise _invalid({"created_at": ["The created at is not a valid date."]})
            customers = [c for c in customers if (parse_time(c["created_at"]) or created_after) > created_after]
        page = self.int_arg(request, "page", 1)
        per_page = self.settings.customers_per_page
        items, last_page = page_of(customers, page, per_page)
        path = f"{self.base_url(request)}{API}/customers"
        first_index = (page - 1) * per_page + 1
        return Reply(
            {
                "msg": "Success",
                "success": True,
                "error": None,
                "data": {
                    "current_page": page,
                    "data": items,
                    "first_page_url": f"{path}?page=1",
                    "from": first_index if items else None,
                    "last_page": last_page,
                    "last_page_url": f"{path}?page={last_page}",
                    "next_page_url": f"{path}?page={page + 1}" if page < last_page else None,
                    "path": path,
                    "per_page": per_page,
                    "prev_page_url": f"{path}?page={page - 1}" if page > 1 else None,
                    "to": first_index + len(items) - 1 if items else None,
                    "total": len(customers),
                },
            }
        )

    # ------------------------------------------------------------------ orders

    def _new_order_id(self) -> int:
        order_id = self._next_order_id
        self._next_order_id += 1
        return order_id

    def _unique_code(self) -> str:
        return f"{self.random_chars(4)}-{self.random_chars(5)}"

    def _branch_by_blink_id(self, blink_id: Any) -> dict[str, Any] | None:
        return next((b for b in self.branches if str(b["blink_id"]) == str(blink_id)), None)

    def _validate_submit(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise _invalid({"body": ["A JSON object is expected."]})
        errors: dict[str, list[str]] = {}

        def required(container: dict[str, Any], key: str, label: str) -> None:
            if _blank(container.get(key)):
                errors[label] = [f"The {label} field is required."]

        for key in (
            "blink_branch_id",
            "customer_name",
            "customer_phone",
            "is_scheduled",
            "delivery_type",
            "payment_method",
            "subtotal",
            "total",
            "delivery_charges",
        ):
            required(body, key, key)
        if not _blank(body.get("blink_branch_id")) and self._branch_by_blink_id(body["blink_branch_id"]) is None:
            errors["blink_branch_id"] = ["The selected blink branch id is invalid."]
        if not _blank(body.get("customer_phone")) and not _PHONE.match(str(body["customer_phone"])):
            errors["customer_phone"] = ["The customer phone format is invalid (+92xxxx, +92xxx-xxx)."]
        if not _blank(body.get("is_scheduled")) and _as_int(body["is_scheduled"]) not in (0, 1):
            errors["is_scheduled"] = ["The is scheduled must be 0 or 1."]
        delivery_type = str(body.get("delivery_type") or "")
        if delivery_type and delivery_type not in ("dinein", "pickup", "delivery"):
            errors["delivery_type"] = ["The selected delivery type is invalid (dinein, pickup, delivery)."]
        payment = str(body.get("payment_method") or "")
        if payment and payment.lower() not in ("cash", "online"):
            errors["payment_method"] = ["The selected payment method is invalid (Cash, Online)."]
        for key in ("subtotal", "total", "delivery_charges", "tax_amount", "tax_percentage"):
            if not _blank(body.get(key)) and number(body.get(key)) is None:
                errors[key] = [f"The {key} must be a number."]
        if not _blank(body.get("delivery_eta")) and _as_int(body.get("delivery_eta")) is None:
            errors["delivery_eta"] = ["The delivery eta must be an integer."]
        scheduled = body.get("scheduled_delivery_time")
        if not _blank(scheduled) and _scheduled_time(scheduled, self.settings.scheduled_time_zone) is None:
            errors["scheduled_delivery_time"] = [
                "The scheduled delivery time does not match the format d-m-Y h:i A (22-05-2025 08:00 PM)."
            ]
        delivery = body.get("delivery")
        needs_address = self.settings.submit_order_requires_delivery_address or delivery_type == "delivery"
        if needs_address:
            if not isinstance(delivery, dict):
                errors["delivery"] = ["The delivery field is required."]
            else:
                for key in ("house_num", "street", "area", "city"):
                    required(delivery, key, f"delivery.{key}")
        items = body.get("items")
        if not isinstance(items, list) or not items:
            errors["items"] = ["The items field is required."]
        else:
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    errors[f"items.{index}"] = ["must be an object"]
                    continue
                for key in ("blink_item_id", "name", "actual_price", "price", "quantity"):
                    required(item, key, f"items.{index}.{key}")
                for key in ("actual_price", "price", "quantity"):
                    if not _blank(item.get(key)) and number(item.get(key)) is None:
                        errors[f"items.{index}.{key}"] = [f"The items.{index}.{key} must be a number."]
                sub_options = item.get("sub_options") or []
                if not isinstance(sub_options, list):
                    errors[f"items.{index}.sub_options"] = ["must be an array"]
                    continue
                for s_index, sub in enumerate(sub_options):
                    label = f"items.{index}.sub_options.{s_index}"
                    if not isinstance(sub, dict):
                        errors[label] = ["must be an object"]
                        continue
                    for key in ("sub_option_id", "price", "quantity"):
                        required(sub, key, f"{label}.{key}")
        if errors:
            raise _invalid(errors)

    def submit_order(self, request: Request) -> Reply:
        self._authenticate(request)
        body = json_body(request)
        self._validate_submit(body)
        branch = self._branch_by_blink_id(body["blink_branch_id"]) or {}
        delivery = body.get("delivery") if isinstance(body.get("delivery"), dict) else {}
        order_id = self._new_order_id()
        unique_code = self._unique_code()
        view = {
            "id": order_id,
            "unique_code": unique_code,
            "customer_name": body["customer_name"],
            "customer_phone": re.sub(r"[^0-9+]", "", str(body["customer_phone"])),
            "latitude": None if delivery.get("latitude") is None else str(delivery["latitude"]),
            "longitude": None if delivery.get("longitude") is None else str(delivery["longitude"]),
            "delivery_eta": _as_int(body.get("delivery_eta")) or 60,
            "delivery_type": body["delivery_type"],
            "ordertime": sql_time(self.now()),
            "instruction": body.get("instructions") or "",
            "payment_method": body["payment_method"],
            "subtotal": number(body["subtotal"]),
            "total": number(body["total"]),
            "delivery_charges": number(body["delivery_charges"]),
            "promo_code": "",
            "promo_discount": 0,
            "items": [
                {
                    "item_id": _as_int(item["blink_item_id"]) or item["blink_item_id"],
                    "quantity": number(item["quantity"]),
                    "price": number(item["price"]),
                    "actual_price": number(item["actual_price"]),
                    "details": item["name"],
                    "notes": item.get("notes"),
                }
                for item in body["items"]
            ],
        }
        self.orders[order_id] = {
            "id": order_id,
            "unique_code": unique_code,
            "source": "submitOrder",
            "branch_id": str(branch.get("id", "")),
            "blink_branch_id": str(body["blink_branch_id"]),
            "status": 0,
            "comment": "",
            "status_history": [],
            "view": view,
            "request": body,
            "announced": False,
            "webhook_payload": None,
            "webhooks": [],
        }
        self._announce_submitted(self.orders[order_id], branch)
        return Reply(
            {
                "success": True,
                "msg": "Your order has been placed",
                "data": {"id": order_id, "unique_code": unique_code},
            },
            201,
        )

    def _submitted_order_webhook(self, order: dict[str, Any], branch: dict[str, Any]) -> dict[str, Any]:
        """The Order Webhook Blink would send for an order pushed with submitOrder (the doc's keys)."""
        body: dict[str, Any] = order["request"]
        given_delivery = body.get("delivery")
        delivery: dict[str, Any] = given_delivery if isinstance(given_delivery, dict) else {}
        type_ = ORDER_TYPES[body["delivery_type"]]
        is_delivery = type_ == "DELIVERY"
        now = self.now()
        scheduled = _as_int(body["is_scheduled"]) == 1
        due = (
            _scheduled_time(body.get("scheduled_delivery_time"), self.settings.scheduled_time_zone)
            if scheduled
            else None
        )
        latitude, longitude = BRANCH_LOCATIONS.get(_as_int(branch.get("blink_id")) or 0, (None, None))
        address_parts = (delivery.get(key) for key in ("house_num", "building", "street", "area", "city"))
        cash = str(body["payment_method"]).lower() == "cash"

        def coordinate(key: str) -> str | None:
            value = delivery.get(key) if is_delivery else None
            return None if _blank(value) else _as_text(value)

        return {
            "blink_order_id": str(order["id"]),
            "external_order_id": "",
            "order_key": order["unique_code"],
            "type": type_,
            "status": "0",
            "status_text": STATUS_NAMES[0],
            "currency": self.settings.order_currency,
            "channel": self.settings.submitted_order_channel,
            "channel_id": self.settings.submitted_order_channel_id,
            "area_name": str(delivery.get("area") or "") if is_delivery else str(branch.get("branch") or ""),
            "brand_id": self.settings.brand_id,
            "branch_id": str(branch.get("id", "")),
            "blink_branch_id": str(body["blink_branch_id"]),
            "branch_latitude": latitude,
            "branch_longitude": longitude,
            "branch_address": branch.get("branch_address") or "",
            "total_discount_amount": 0,
            "promo_code": "",
            "promo_discount": 0,
            "wallet_amount": 0,
            "loyalty_amount": 0,
            "tax": _json_number(_decimal(body.get("tax_amount"))),
            "fbr_pos_charge": 0,
            "kitchen_notes": body.get("instructions") or "",
            "created_at": sql_time(now),
            "due_at": sql_time(due or now),
            "is_pre_order": 1 if scheduled else 0,
            "customer_name": body["customer_name"],
            "customer_phone": body["customer_phone"],
            "customer_address_description": (
                ", ".join(str(part).strip() for part in address_parts if not _blank(part)) if is_delivery else type_
            ),
            "customer_address_latitude": coordinate("latitude"),
            "customer_address_longitude": coordinate("longitude"),
            "products": [self._submitted_product(item) for item in body["items"]],
            "payment": not cash,
            "payment_method_id": "0" if cash else "",
            "payment_method": body["payment_method"],
            "delivery_charges": _as_text(body["delivery_charges"]),
            "subtotal": _as_text(body["subtotal"]),
            "total_price": _as_text(body["total"]),
        }

    def _submitted_product(self, item: dict[str, Any]) -> dict[str, Any]:
        """``items[]`` of submitOrder as ``products[]`` of the Order Webhook."""
        price, actual_price = _decimal(item["price"]), _decimal(item["actual_price"])
        quantity = _decimal(item["quantity"])
        options = []
        for sub in item.get("sub_options") or []:
            sub_price, sub_quantity = _decimal(sub["price"]), _decimal(sub["quantity"])
            options.append(
                {
                    "modifier_option_id": str(sub["sub_option_id"]),
                    "unit_price": _as_text(sub["price"]),
                    "total_price": f"{sub_price * sub_quantity:.3f}",
                    "name": self._modifier_option_name(sub["sub_option_id"]),
                    "quantity": _json_number(sub_quantity),
                    "item_price": _as_text(sub["price"]),
                    "item_discount_price": "0.00",
                }
            )
        return {
            "product_id": str(item["blink_item_id"]),
            "quantity": _json_number(quantity),
            "name": item["name"],
            "unit_price": _as_text(item["price"]),
            "total_price": _json_number(price * quantity),
            "item_price": _as_text(item["actual_price"]),
            "item_discount_price": _as_text(item["price"]) if price != actual_price else "0.00",
            "options": options,
        }

    def _modifier_option_name(self, option_id: Any) -> str:
        for item in self.menu:
            for modifier in item.get("modifiers") or []:
                for option in modifier.get("modifier_options") or []:
                    if str(option.get("id")) == str(option_id):
                        return str(option.get("name") or "")
        return ""

    def _announce_submitted(self, order: dict[str, Any], branch: dict[str, Any]) -> None:
        """Emit the Order Webhook for a submitted order, per ``announce_submitted_orders``.

        Called by the submitOrder handler, which holds the state lock once (``_run_locked``).
        """
        mode = self.settings.announce_submitted_orders
        if mode == "off":
            return
        payload = self._submitted_order_webhook(order, branch)
        order["announced"] = True
        order["webhook_payload"] = payload
        job = WebhookJob(
            url=self.settings.order_webhook_url,
            body=payload,
            label="order",
            headers=self._webhook_headers(),
            on_done=self._record_deliveries(order),
        )
        if mode == "after":
            # Sent once the handler has released the lock: queued for the webhook worker (thread
            # mode), or posted before the answer is returned (sync mode).
            self.emit_webhook(job)
            return
        # "before": POST it and wait for the receiver's answer, then answer submitOrder. The state
        # lock is released meanwhile (as ``/_admin/webhooks?flush=1`` does), so a receiver that calls
        # back into Blink (getOrder, syncOrderStatus) is served instead of deadlocking; the order is
        # stored already, so it finds it.
        job.delivery = next(self._delivery_ids)
        self._lock.release()
        try:
            self._deliver(job)
        finally:
            self._lock.acquire()

    @staticmethod
    def _record_deliveries(order: dict[str, Any]) -> Callable[[list[dict[str, Any]]], None]:
        def record(records: list[dict[str, Any]]) -> None:  # called under the state lock
            order["webhooks"].extend(records)

        return record

    def _order_view(self, order: dict[str, Any]) -> dict[str, Any]:
        view = dict(order["view"])
        view["status"] = STATUS_NAMES.get(order["status"], str(order["status"]))
        view["reject_reason"] = order["comment"] if order["status"] == 4 else ""
        ordered = {
            key: view[key]
            for key in (
                "id",
                "unique_code",
                "customer_name",
                "customer_phone",
                "latitude",
                "longitude",
                "delivery_eta",
                "delivery_type",
                "status",
                "ordertime",
                "instruction",
                "payment_method",
                "subtotal",
                "total",
                "delivery_charges",
                "promo_code",
                "promo_discount",
                "reject_reason",
                "items",
            )
        }
        return ordered

    def _order_arg(self, request: Request) -> int:
        raw = request.args.get("order_id")
        if raw is None or raw.strip() == "":
            raise _invalid({"order_id": ["The order id field is required."]})
        order_id = _as_int(raw)
        if order_id is None:
            raise _invalid({"order_id": ["The order id must be an integer."]})
        return order_id

    def get_order(self, request: Request) -> Reply:
        self._authenticate(request)
        order = self.orders.get(self._order_arg(request))
        unique_code = request.args.get("unique_code")
        if order is None or (unique_code and unique_code != order["unique_code"]):
            raise self.error(404, "Order not found", data=None)
        # The doc's sample answer is "HTTP Code: 201".
        return Reply({"success": True, "data": self._order_view(order)}, 201)

    def get_order_list(self, request: Request) -> Reply:
        self._authenticate(request)
        after = self._order_arg(request)
        page = self.int_arg(request, "page", 1)
        per_page = self.settings.order_list_per_page
        newer = [self.orders[key] for key in sorted(self.orders) if key > after]
        items, last_page = page_of(newer, page, per_page)
        keys = (
            "id",
            "unique_code",
            "customer_name",
            "customer_phone",
            "delivery_type",
            "status",
            "ordertime",
            "payment_method",
            "subtotal",
            "total",
            "delivery_charges",
            "items",
        )
        data = []
        for order in items:
            view = self._order_view(order)
            data.append({key: view[key] for key in keys})
        first_index = (page - 1) * per_page + 1
        return Reply(
            {
                "success": True,
                "data": data,
                "pagination": {
                    "total": len(newer),
                    "per_page": per_page,
                    "current_page": page,
                    "last_page": last_page,
                    "from": first_index if data else None,
                    "to": first_index + len(data) - 1 if data else None,
                    "has_more": page < last_page,
                },
            }
        )

    def get_abandoned_carts(self, request: Request) -> Reply:
        self._authenticate(request)
        errors: dict[str, list[str]] = {}
        bounds: dict[str, datetime] = {}
        for key in ("start_date", "end_date"):
            raw = request.args.get(key)
            if not raw:
                errors[key] = [f"The {key.replace('_', ' ')} field is required."]
                continue
            moment = parse_time(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", raw.strip()) else None
            if moment is None:
                errors[key] = [f"The {key.replace('_', ' ')} does not match the format Y-m-d H:i."]
            else:
                bounds[key] = moment
        if errors:
            raise _invalid(errors)
        start, end = bounds["start_date"], bounds["end_date"]
        carts = [cart for cart in self.carts if start <= (parse_time(cart["created_at"]) or start) <= end]
        page = self.int_arg(request, "page", 1)
        per_page = self.settings.abandoned_carts_per_page
        items, last_page = page_of(carts, page, per_page)
        first_index = (page - 1) * per_page + 1
        return Reply(
            {
                "success": True,
                "pagination": {
                    "total": len(carts),
                    "per_page": per_page,
                    "current_page": page,
                    "last_page": last_page,
                    "from": first_index if items else None,
                    "to": first_index + len(items) - 1 if items else None,
                    "has_more": page < last_page,
                },
                "data": {"current_page": page, "data": items},
            }
        )

    def sync_order_status(self, request: Request) -> Reply:
        self._authenticate(request)
        body = json_body(request)
        if not isinstance(body, dict):
            raise _invalid({"body": ["A JSON object is expected."]})
        errors: dict[str, list[str]] = {}
        if _blank(body.get("blink_order_id")):
            errors["blink_order_id"] = ["The blink order id field is required."]
        status = _as_int(body.get("status"))
        if body.get("status") is None:
            errors["status"] = ["The status field is required."]
        elif status not in STATUS_NAMES:
            errors["status"] = ["The selected status is invalid (0, 1, 2, 3, 4, 6)."]
        comment = body.get("comment")
        if status == 4 and _blank(comment):
            errors["comment"] = ["The comment field is required when status is 4."]
        if errors or status is None:  # a status that is no int is among the errors
            raise _invalid(errors)
        order_id = _as_int(body["blink_order_id"])
        order = self.orders.get(order_id) if order_id is not None else None
        if order is None:
            raise self.error(404, "Order not found", data=None)
        self._set_status(order, status, comment if isinstance(comment, str) else "", source="syncOrderStatus")
        return Reply(
            {
                "success": True,
                "msg": "Order status updated successfully",
                "data": {"blink_order_id": str(order_id), "status": status},
            }
        )

    def _set_status(self, order: dict[str, Any], status: int, comment: str, source: str) -> None:
        order["status"] = status
        order["comment"] = comment or ""
        order["status_history"].append(
            {"status": status, "comment": comment or None, "source": source, "time": self.now().isoformat()}
        )

    # ------------------------------------------------------------------ admin commands

    def _webhook_headers(self) -> dict[str, str]:
        if self.settings.webhook_token:
            return {self.settings.webhook_token_header: self.settings.webhook_token}
        return {}

    def place_order(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store a new Blink order and emit the Order Webhook. Call under the state lock."""
        overrides = dict(overrides or {})
        payload = deep_merge(ORDER_WEBHOOK_SAMPLE, overrides)
        if "products" in overrides:
            payload["products"] = overrides["products"]
        if "blink_order_id" in overrides:
            order_id = _as_int(overrides["blink_order_id"])
            if order_id is None:
                raise ApiError(400, {"error": "blink_order_id must be numeric"})
            self._next_order_id = max(self._next_order_id, order_id + 1)
        else:
            order_id = self._new_order_id()
        payload["blink_order_id"] = str(order_id)
        now = sql_time(self.now())
        if "order_key" not in overrides:
            payload["order_key"] = self._unique_code()
        for key in ("created_at", "due_at"):
            if key not in overrides:
                payload[key] = now
        status = _as_int(payload.get("status")) or 0
        type_ = str(payload.get("type") or "")
        products = payload.get("products") or []
        view = {
            "id": order_id,
            "unique_code": payload["order_key"],
            "customer_name": payload.get("customer_name"),
            "customer_phone": payload.get("customer_phone"),
            "latitude": payload.get("customer_address_latitude"),
            "longitude": payload.get("customer_address_longitude"),
            "delivery_eta": 60,
            "delivery_type": DELIVERY_TYPES.get(type_, type_.lower()),
            "ordertime": payload["created_at"],
            "instruction": payload.get("kitchen_notes") or "",
            "payment_method": payload.get("payment_method"),
            "subtotal": number(payload.get("subtotal")),
            "total": number(payload.get("total_price")),
            "delivery_charges": number(payload.get("delivery_charges")),
            "promo_code": payload.get("promo_code") or "",
            "promo_discount": number(payload.get("promo_discount")) or 0,
            "items": [
                {
                    "item_id": _as_int(product.get("product_id")) or product.get("product_id"),
                    "quantity": number(product.get("quantity")),
                    "price": number(product.get("unit_price")),
                    "actual_price": number(product.get("item_price")),
                    "details": product.get("name"),
                    "notes": None,
                }
                for product in products
                if isinstance(product, dict)
            ],
        }
        self.orders[order_id] = {
            "id": order_id,
            "unique_code": payload["order_key"],
            "source": "webhook",
            "branch_id": str(payload.get("branch_id") or ""),
            "blink_branch_id": str(payload.get("blink_branch_id") or ""),
            "status": status,
            "comment": "",
            "status_history": [],
            "view": view,
            "announced": True,
            "webhook_payload": payload,
            "webhooks": [],
        }
        self.emit_webhook(
            WebhookJob(
                url=self.settings.order_webhook_url,
                body=payload,
                label="order",
                headers=self._webhook_headers(),
                on_done=self._record_deliveries(self.orders[order_id]),
            )
        )
        return payload

    def admin_place_order(self, request: Request) -> Reply:
        payload = self.place_order(self.admin_json(request))
        return Reply({"order": payload}, 201, attach_webhooks=True)

    def order_status(
        self,
        blink_order_id: Any,
        status: int,
        comment: str | None = None,
        action_by: str = "Restaurant",
        branch_id: str | None = None,
    ) -> dict[str, Any]:
        """Blink-side status change: update the order and emit the Order Status Webhook."""
        if status not in STATUS_NAMES:
            raise ApiError(400, {"error": f"status must be one of {sorted(STATUS_NAMES)}"})
        order_id = _as_int(blink_order_id)
        order = self.orders.get(order_id) if order_id is not None else None
        if order is not None:
            self._set_status(order, status, comment or "", source="order-status")
            branch_id = branch_id or order["branch_id"]
        payload = {
            "blink_order_id": str(blink_order_id),
            "branch_id": str(branch_id or "12345"),
            "status": status,
            "statusText": STATUS_TEXTS[status],
            "comment": comment or "",
            "created_at": sql_time(self.now()),
            "action_by": action_by,
        }
        self.emit_webhook(
            WebhookJob(
                url=self.settings.order_status_webhook_url,
                body=payload,
                label="order-status",
                headers=self._webhook_headers(),
            )
        )
        return payload

    def admin_order_status(self, request: Request) -> Reply:
        body = self.admin_json(request)
        status = _as_int(body.get("status"))
        if _blank(body.get("blink_order_id")) or status is None:
            raise ApiError(400, {"error": "blink_order_id and status are required"})
        payload = self.order_status(
            body["blink_order_id"],
            status,
            body.get("comment"),
            action_by=body.get("action_by") or "Restaurant",
            branch_id=body.get("branch_id"),
        )
        return Reply({"status_webhook": payload}, attach_webhooks=True)

    def _admin_order_record(self, order: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": order["id"],
            "unique_code": order["unique_code"],
            "source": order["source"],
            "branch_id": order["branch_id"],
            "blink_branch_id": order["blink_branch_id"],
            "status": order["status"],
            "status_history": order["status_history"],
            "order": self._order_view(order),
            "announced": order["announced"],
            "webhook_payload": order["webhook_payload"],
            "webhooks": order["webhooks"],
            "request": order.get("request"),  # submitOrder's body as received (None for a placed order)
        }

    def admin_orders(self, request: Request) -> Reply:
        return Reply([self._admin_order_record(self.orders[key]) for key in sorted(self.orders)])

    def admin_order(self, request: Request, order_id: int) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, {"error": "unknown order"})
        return Reply(self._admin_order_record(order))

    def admin_add_branch(self, request: Request) -> Reply:
        body = self.admin_json(request)
        if _blank(body.get("id")) or _blank(body.get("blink_id")) or self._branch_by_blink_id(body["blink_id"]):
            raise ApiError(422, {"error": "id and a blink_id no branch has are required"})
        branch = {"branch": "", "branch_address": "", **body, "is_live": 1, "is_active": 1}
        self.branches.append(branch)
        return Reply(branch, 201)

    def admin_add_cart(self, request: Request) -> Reply:
        cart = deep_merge(ABANDONED_CART_SAMPLE, self.admin_json(request))
        self.carts.append(cart)
        return Reply(cart, 201)

    # ------------------------------------------------------------------ admin: the menu

    def admin_menu(self, request: Request) -> Reply:
        return Reply(self.menu)

    def admin_put_menu_item(self, request: Request) -> Reply:
        """Add a menu item (the doc's ``data[]`` shape; a new one by ``id``) or replace the one with
        that id, where it stands."""
        body = self.admin_json(request)
        if _blank(body.get("id")) or _blank(body.get("name")) or _blank(body.get("price")):
            raise ApiError(400, {"error": 'id, name and price (a string, e.g. "12.000") are required'})
        item = _menu_item(str(body["id"]), str(body["name"]), str(body["price"]), body.get("category") or [])
        item.update({k: v for k, v in body.items() if k not in ("id", "name", "price", "category")})
        for index, known in enumerate(self.menu):
            if known["id"] == item["id"]:
                self.menu[index] = item
                return Reply(item)
        self.menu.append(item)
        return Reply(item, 201)

    def admin_change_menu_item(self, request: Request, item_id: str) -> Reply:
        """Change fields of a menu item (e.g. ``{"price": "25.000"}``; lists replaced as a whole)."""
        item = self._menu_item(item_id)
        changes = self.admin_json(request)
        if "id" in changes and str(changes["id"]) != item_id:
            raise ApiError(400, {"error": "the id of a menu item does not change"})
        item.update(changes)
        return Reply(item)

    def admin_remove_menu_item(self, request: Request, item_id: str) -> Reply:
        item = self._menu_item(item_id)
        self.menu.remove(item)
        return Reply(item)

    def _menu_item(self, item_id: str) -> dict[str, Any]:
        item = next((known for known in self.menu if known["id"] == item_id), None)
        if item is None:
            raise ApiError(404, {"error": f"no menu item {item_id!r}"})
        return item
