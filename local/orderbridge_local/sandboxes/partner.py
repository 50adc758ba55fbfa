"""A delivery partner sending the Blend ``order_created`` contract
(vendor-docs/blend-order-created-webhook.txt) to our partner webhook.

The partner has no API of its own: it is a sender, driven through its admin routes.

Settings (:class:`PartnerSettings`, on top of :class:`~.base.SandboxSettings`)
-----------------------------------------------------------------------------
``webhook_url``
    The partner webhook URL we gave the partner, ``?token=...`` included.
``branch_id``
    ``branch_id`` of the orders (default the doc's ``"14589"``).
``max_retries`` / ``backoff_seconds``
    "Delivery platforms should retry in case of non-200 OK response": up to ``max_retries``
    (default 3) more attempts after the first, waiting ``backoff_seconds`` × 2^(n-1) between them.
    A connection error or timeout counts as a non-200 answer.
``retry_on_failed_status``
    Default False. On ``{"status": "failed"}`` the doc says the partner "may retry or alert":
    True makes it retry those too.
``order_id_prefix``
    Prefix of the fresh ``payload.id`` (followed by a random hex suffix, unique across resets).
``webhook_timeout_seconds``
    Per attempt (default 10 s).

Admin routes
------------
``POST /_admin/place-order``
    Body: optional overrides merged into the doc's sample (nested objects merged; ``items``
    replaced as a whole), or ``{"raw": {...}}`` to send exactly that body. ``payload.id`` is fresh
    unless given; ``event_time`` is now (``YYYY-MM-DD HH:MM:SS`` UTC, the sample's format) unless
    given. The order is POSTed to ``webhook_url``, retried as above. Answer: ``{"order": <body>,
    "delivery": <record>, "webhooks": [<one record per attempt>]}`` (``delivery.status`` is
    ``"queued"`` in thread mode until it is done).
``GET /_admin/orders``, ``GET /_admin/orders/<payload id>``
    Each order sent with its delivery record: ``attempts`` (the HTTP status of each, or
    ``"error"``/``"dropped"``), ``answer`` (our last answer, e.g. ``{"order_id": "55", "status":
    "success"}``), ``order_id`` (our id from the answer), ``status`` (``"success"``, ``"failed"``,
    ``"undelivered"``, ``"queued"``).

Where the doc is silent (liberties)
-----------------------------------
Each point the Orderbridge side relies on is in docs/vendor-assumptions.md ("Delivery partners");
the doc's section is named in brackets.

* ["JSON Payload Example"] The sample's ``// comments`` are dropped; its values are kept (``payload.id`` replaced).
* No signature or auth header ["Webhook Endpoint": "a secure HTTP(S) webhook URL" is all it
  says]: the token travels in the URL.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field
from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from orderbridge_local.sandboxes.base import ApiError, Reply, Sandbox, SandboxSettings, WebhookJob, deep_merge, sql_time

# The doc's JSON Payload Example, without its // comments.
ORDER_CREATED_SAMPLE: dict[str, Any] = {
    "event": "order_created",
    "event_time": "2025-01-01 00:00:00",
    "branch_id": "14589",
    "payload": {
        "id": "order_id",
        "payment_method": "cash",
        "order_type": "DELIVERY",
        "note": "",
        "subtotal": 50,
        "tax": 10,
        "discount": 10,
        "total": 50,
        "items": [
            {
                "id": "1",
                "quantity": 2,
                "price": 25,
                "note": "",
                "options": [{"id": "1", "price": 10, "quantity": 2}],
            },
            {"id": "2", "quantity": 1, "price": 25, "note": "", "options": []},
        ],
    },
}


class PartnerSettings(SandboxSettings):
    webhook_url: str | None = None
    branch_id: str = "14589"
    max_retries: int = Field(default=3, ge=0, le=20)
    backoff_seconds: float = Field(default=0.2, ge=0, le=60)
    retry_on_failed_status: bool = False
    order_id_prefix: str = "DP-"
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class PartnerSandbox(Sandbox):
    name = "partner"
    settings_model = PartnerSettings
    settings: PartnerSettings

    def reset_state(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}

    def admin_rules(self) -> list[Rule]:
        return [
            Rule("/_admin/place-order", methods=["POST"], endpoint=self.admin_place_order),
            Rule("/_admin/orders", methods=["GET"], endpoint=self.admin_orders),
            Rule("/_admin/orders/<path:order_id>", methods=["GET"], endpoint=self.admin_order),
        ]

    # ------------------------------------------------------------------ sending

    def _should_retry(self, record: dict[str, Any]) -> bool:
        if record["status"] != 200:
            return True
        answer = record["answer"]
        return bool(
            self.settings.retry_on_failed_status and isinstance(answer, dict) and answer.get("status") == "failed"
        )

    def _done(self, key: str, records: list[dict[str, Any]]) -> None:
        order = self.orders[key]
        order["attempts"] = [record["status"] for record in records]
        last = records[-1] if records else None
        order["answer"] = last["answer"] if last else None
        if last is None or last["status"] != 200:
            order["status"] = "undelivered"
            return
        answer = last["answer"] if isinstance(last["answer"], dict) else {}
        order["status"] = answer.get("status") or "unknown"
        order["order_id"] = answer.get("order_id")

    def place_order(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Build the order and emit it. Call under the state lock."""
        overrides = dict(overrides or {})
        if "raw" in overrides:
            body = overrides["raw"]
            payload = body.get("payload") if isinstance(body, dict) else None
            key = str(payload.get("id")) if isinstance(payload, dict) and payload.get("id") else uuid.uuid4().hex
        else:
            body = deep_merge(ORDER_CREATED_SAMPLE, {"branch_id": self.settings.branch_id})
            body = deep_merge(body, overrides)
            payload_override = overrides.get("payload")
            payload_overrides: dict[str, Any] = payload_override if isinstance(payload_override, dict) else {}
            if "items" in payload_overrides:
                body["payload"]["items"] = payload_overrides["items"]
            if "id" not in payload_overrides:
                body["payload"]["id"] = f"{self.settings.order_id_prefix}{uuid.uuid4().hex[:12]}"
            if "event_time" not in overrides:
                body["event_time"] = sql_time(self.now())
            key = str(body["payload"]["id"])
        if key in self.orders:
            raise ApiError(409, {"error": f"order {key} was already placed (partners send globally unique ids)"})
        self.orders[key] = {
            "id": key,
            "body": body,
            "attempts": [],
            "answer": None,
            "order_id": None,
            "status": "queued",
        }
        self.emit_webhook(
            WebhookJob(
                url=self.settings.webhook_url,
                body=body,
                label="order_created",
                retries=self.settings.max_retries,
                backoff_seconds=self.settings.backoff_seconds,
                retry_if=self._should_retry,
                on_done=lambda records: self._done(key, records),
            )
        )
        return self.orders[key]

    # ------------------------------------------------------------------ admin

    def admin_place_order(self, request: Request) -> Reply:
        order = self.place_order(self.admin_json(request))
        # The delivery record is filled in once sent; in sync mode that is before this answer.
        return Reply({"order": order["body"], "delivery": order}, 201, attach_webhooks=True)

    def admin_orders(self, request: Request) -> Reply:
        return Reply(list(self.orders.values()))

    def admin_order(self, request: Request, order_id: str) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, {"error": f"unknown order {order_id}"})
        return Reply(order)
