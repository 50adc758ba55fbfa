"""DispatchNINJA order API sandbox (vendor-docs/dispatchninja-order-api.txt). No webhooks: the
vendor has none, its status is read by polling ``orders/details``.

Settings (:class:`DispatchNinjaSettings`, on top of :class:`~.base.SandboxSettings`)
-----------------------------------------------------------------------------------
``api_key``
    The public key every request must carry in ``X-API-KEY``.
``base_path``
    Default ``/dn_api/1.1.0`` (``https://DOMAIN/dn_api/API_VERSION/APP/TASK``). Fixed at construction.
``required_add_fields``
    Fields ``orders/add`` refuses to go without. The doc's table has a "Required" column whose marks
    did not survive; default: ``client_name``, ``client_address``, ``customer_name``,
    ``customer_address``, ``customer_phone`` (``customer_email`` and ``comments`` optional).
``auto_advance_seconds``
    When set, every open order moves one status along Pending → Assigned → Picked Up → Completed
    that many seconds after its previous change.
``error_http_status_mirrors_code``
    Default True: an error answers with the HTTP status of its ``code`` (401, 400, 404). False: HTTP
    200 with the error only in the body's ``code`` (as some PHP APIs do), to exercise a client that
    must read ``code``.
``first_order_id`` (1857, as the doc's sample), ``first_order_number`` (4), ``location`` ("21"),
``user_id`` ("192", the ``created_by`` of the sample), ``driver_id`` / ``driver_name``
    Values the answers are built from.

Vendor routes (``POST``, URL-encoded form data, ``X-API-KEY``)
-------------------------------------------------------------
``<base_path>/orders/add`` → ``{"code": "200", "status": "200 success", "response": {"message",
"order_id", "order_count"}}``; ``<base_path>/orders/details`` (``order_id``) → every field of the
doc's details sample.

Admin routes
------------
``POST /_admin/orders/<order_id>/advance``
    ``{}``: the next status; ``{"to": "Completed"}``: straight to that status; ``{"cancel": true,
    "reason": "..."}``: cancel (``canceled``, ``canceled_by``, ``cancelled_reason`` set).
``GET /_admin/orders``, ``GET /_admin/orders/<order_id>``
    Orders (the details answer) with their status ``history``.

Where the doc is silent (liberties)
-----------------------------------
Each point the Orderbridge side relies on is in docs/vendor-assumptions.md ("DispatchNINJA"); the
doc's section is named in brackets.

* Status ids ["Querying an Order": the sample's ``"status_id": "1"``, ``"status": "Pending"`` is the
  only one]: 1 Pending, 2 Assigned, 3 Picked Up, 4 Completed, 5 Canceled. Orderbridge reads
  ``completed``/``canceled`` first and the status only by its words ("picked", ...).
* Errors ["Creating an Order" / "Querying an Order" show only success]: ``{"code": "<status>",
  "status": "<status> error", "response": {"message": ...}}`` —
  401 (missing or wrong key), 400 (missing fields, or a body that is not URL-encoded form data),
  404 (unknown order).
* Timestamps are ``YYYY-MM-DD HH:MM:SS`` in UTC [the sample's ``"created"`` names no zone];
  coordinates, distance and duration are canned.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field
from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from orderbridge_local.sandboxes.base import ApiError, Reply, Sandbox, SandboxSettings, sql_time

STATUSES = ("Pending", "Assigned", "Picked Up", "Completed")
CANCELED = "Canceled"
STATUS_IDS = {"Pending": "1", "Assigned": "2", "Picked Up": "3", "Completed": "4", CANCELED: "5"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class DispatchNinjaSettings(SandboxSettings):
    api_key: str = "dispatchninja-sandbox-public-key"
    base_path: str = "/dn_api/1.1.0"
    required_add_fields: list[str] = Field(
        default_factory=lambda: ["client_name", "client_address", "customer_name", "customer_address", "customer_phone"]
    )
    auto_advance_seconds: float | None = Field(default=None, gt=0)
    error_http_status_mirrors_code: bool = True
    first_order_id: int = Field(default=1857, ge=1)
    first_order_number: int = Field(default=4, ge=1)
    location: str = "21"
    user_id: str = "192"
    driver_id: str = "55"
    driver_name: str = "Test Driver"


class DispatchNinjaSandbox(Sandbox):
    name = "dispatchninja"
    settings_model = DispatchNinjaSettings
    settings: DispatchNinjaSettings

    def reset_state(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self._next_id = self.settings.first_order_id
        self._next_number = self.settings.first_order_number
        self._next_customer = 8

    def error_body(self, status: int, message: str, **extra: Any) -> Any:
        return {"code": str(status), "status": f"{status} error", "response": {"message": message, **extra}}

    def error(self, status: int, message: str, **extra: Any) -> ApiError:
        http_status = status if self.settings.error_http_status_mirrors_code else 200
        return ApiError(http_status, self.error_body(status, message, **extra))

    def vendor_rules(self) -> list[Rule]:
        base = self.settings.base_path.rstrip("/")
        return [
            Rule(f"{base}/orders/add", methods=["POST"], endpoint=self.add_order),
            Rule(f"{base}/orders/details", methods=["POST"], endpoint=self.order_details),
        ]

    def admin_rules(self) -> list[Rule]:
        return [
            Rule("/_admin/orders", methods=["GET"], endpoint=self.admin_orders),
            Rule("/_admin/orders/<order_id>", methods=["GET"], endpoint=self.admin_order),
            Rule("/_admin/orders/<order_id>/advance", methods=["POST"], endpoint=self.admin_advance),
        ]

    def needs_ticker(self) -> bool:
        return True

    # ------------------------------------------------------------------ helpers

    def _form(self, request: Request) -> dict[str, str]:
        if request.headers.get("X-API-KEY") != self.settings.api_key:
            raise self.error(401, "Invalid API key")
        if request.mimetype not in FORM_TYPES:
            raise self.error(400, "POST requests must contain URL-encoded form data")
        return {key: value.strip() for key, value in request.form.items()}

    def _touch(self, order: dict[str, Any], status: str, now: datetime, by: str) -> None:
        details = order["details"]
        details["status"] = status
        details["status_id"] = STATUS_IDS[status]
        details["modified"] = sql_time(now)
        details["modified_by"] = by
        order["changed_at"] = now
        order["history"].append({"status": status, "time": now.isoformat()})

    # ------------------------------------------------------------------ vendor routes

    def add_order(self, request: Request) -> Reply:
        form = self._form(request)
        missing = [key for key in self.settings.required_add_fields if not form.get(key)]
        if missing:
            raise self.error(400, f"Missing required field(s): {', '.join(missing)}", missing=missing)
        now = self.now()
        order_id = str(self._next_id)
        self._next_id += 1
        number = self._next_number
        self._next_number += 1
        customer = str(self._next_customer)
        self._next_customer += 1
        stamp = sql_time(now)
        details: dict[str, Any] = {
            "id": order_id,
            "created": stamp,
            "created_by": self.settings.user_id,
            "modified": stamp,
            "modified_by": self.settings.user_id,
            "canceled": None,
            "canceled_by": None,
            "completed": None,
            "completed_by": None,
            "trash": "0",
            "location": self.settings.location,
            "location_count": None,
            "dispatcher": None,
            "driver": None,
            "driver_name": None,
            "status_id": "1",
            "status": "Pending",
            "delivery_time_type": "asap",
            "delivery_time": "asap",
            "delivery_delay": None,
            "comment": form.get("comments") or None,
            "payment_method": None,
            "payment_method_name": None,
            "paid": "0",
            "tip": "0.00",
            "delivery_fee": "0",
            "extra_delivery_fee": "0",
            "price": "0.00",
            "surcharge": None,
            "discount": "0.00",
            "coupon": "0",
            "tax": "0.00",
            "grand_total": "0.00",
            "client": "0",
            "client_name": form.get("client_name"),
            "client_address": form.get("client_address"),
            "client_latitude": "43.1722028",
            "client_longitude": "-79.2522345",
            "customer": customer,
            "customer_name": form.get("customer_name"),
            "customer_apt": None,
            "customer_address": form.get("customer_address"),
            "customer_phone": form.get("customer_phone"),
            "customer_email": form.get("customer_email") or None,
            "customer_latitude": "42.1315155",
            "customer_longitude": "-80.090805",
            "estimated_distance": "211 km",
            "estimated_duration": "2 hours 13 mins",
            "actual_duration": None,
            "red_zone": None,
            "loss": None,
            "loss_amount": None,
            "opened": "1",
            "order_number": str(number),
            "milestone_event_label": None,
            "milestone_event_value": None,
            "tracking_hash": self.random_chars(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            "cancelled_reason": None,
            "pool_id": str(177646 + int(order_id) - self.settings.first_order_id + 1),
            "pool_locked": None,
            "pre_auth_code": None,
        }
        self.orders[order_id] = {
            "details": details,
            "form": form,
            "created_at": now,
            "changed_at": now,
            "history": [{"status": "Pending", "time": now.isoformat()}],
        }
        return Reply(
            {
                "code": "200",
                "status": "200 success",
                "response": {
                    "message": "Order Successfully Added. Use the Order ID to query or update this order.",
                    "order_id": order_id,
                    "order_count": len(self.orders) + self.settings.first_order_number - 1,
                },
            }
        )

    def order_details(self, request: Request) -> Reply:
        form = self._form(request)
        order_id = form.get("order_id")
        if not order_id:
            raise self.error(400, "Missing required field(s): order_id", missing=["order_id"])
        order = self.orders.get(order_id)
        if order is None:
            raise self.error(404, f"Order {order_id} not found")
        return Reply({"code": "200", "status": "200 success", "response": dict(order["details"])})

    # ------------------------------------------------------------------ progression

    def advance(self, order_id: str, to: str | None = None, cancel: bool = False, reason: str = "") -> list[str]:
        """Move an order on (see ``POST /_admin/orders/<id>/advance``). Call under the state lock."""
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, {"error": f"unknown order {order_id}"})
        details = order["details"]
        if details["status"] in ("Completed", CANCELED):
            raise ApiError(409, {"error": f"order is {details['status']}"})
        now = self.now()
        if cancel:
            details["canceled"] = sql_time(now)
            details["canceled_by"] = self.settings.user_id
            details["cancelled_reason"] = reason or None
            self._touch(order, CANCELED, now, self.settings.user_id)
            return [CANCELED]
        current = STATUSES.index(details["status"])
        target = current + 1 if to is None else (STATUSES.index(to) if to in STATUSES else -1)
        if target <= current:
            raise ApiError(400, {"error": f"cannot go from {details['status']} to {to}"})
        reached = []
        for status in STATUSES[current + 1 : target + 1]:
            self._enter(order, status, now)
            reached.append(status)
        return reached

    def _enter(self, order: dict[str, Any], status: str, now: datetime) -> None:
        details = order["details"]
        if status == "Assigned":
            details["dispatcher"] = self.settings.user_id
            details["driver"] = self.settings.driver_id
            details["driver_name"] = self.settings.driver_name
        if status == "Completed":
            details["completed"] = sql_time(now)
            details["completed_by"] = self.settings.driver_id
            minutes = max(1, int((now - order["created_at"]).total_seconds() // 60))
            details["actual_duration"] = f"{minutes} mins"
        self._touch(order, status, now, self.settings.driver_id if status != "Assigned" else self.settings.user_id)

    def tick(self, now: datetime) -> None:
        delay = self.settings.auto_advance_seconds
        if not delay:
            return
        for order in self.orders.values():
            status = order["details"]["status"]
            if status in ("Completed", CANCELED):
                continue
            if now - order["changed_at"] >= timedelta(seconds=delay):
                self._enter(order, STATUSES[STATUSES.index(status) + 1], now)

    # ------------------------------------------------------------------ admin

    def _admin_view(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"details": order["details"], "form": order["form"], "history": order["history"]}

    def admin_orders(self, request: Request) -> Reply:
        return Reply([self._admin_view(order) for order in self.orders.values()])

    def admin_order(self, request: Request, order_id: str) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, {"error": f"unknown order {order_id}"})
        return Reply(self._admin_view(order))

    def admin_advance(self, request: Request, order_id: str) -> Reply:
        body = self.admin_json(request)
        reached = self.advance(
            order_id, to=body.get("to"), cancel=bool(body.get("cancel")), reason=str(body.get("reason") or "")
        )
        return Reply({"order_id": order_id, "reached": reached, "details": self.orders[order_id]["details"]})
