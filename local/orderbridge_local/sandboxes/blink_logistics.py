"""Blink Logistics sandbox (vendor-docs/blink-api.txt, "Logistics"): delivery tasks and their
Task Status Webhook.

Settings (:class:`BlinkLogisticsSettings`, on top of :class:`~.base.SandboxSettings`)
-------------------------------------------------------------------------------------
``api_token``
    The static token of the Logistics portal: every vendor route needs
    ``Authorization: Bearer <api_token>``.
``task_status_webhook_url``
    Where every task transition is POSTed (the Task Status Webhook).
``webhook_token`` / ``webhook_token_header``
    Sent with the webhook (default header ``X-Webhook-Token``; none when the token is unset).
``auto_advance_seconds``
    When set, every active task moves one step along 20 → 23 → 24 → 25 → 26 → 27 that many
    seconds after its previous transition, up to ``auto_advance_to`` (default 27).
``webhook_on_create_update``
    Default False: creating (20) and updating (21) a task are answered synchronously only; True
    also sends them as webhooks.
``duplicate_mapping_key``
    ``"reject"`` (default: 409 when an unfinished task already has the ``mappingKey``) or ``"allow"``.
``agent_name`` / ``agent_contact``
    The rider assigned at 23 (a reassignment (29) appends " 2", " 3", ...).
``tracking_base_url``
    Prefix of ``trackingLink``; default ``<sandbox url>/tracking/``.

Vendor routes
-------------
``POST /api/client/task`` (201 ``{"eventId": 20, "event": "TASK_CREATED", "data": {"taskId", "type"}}``),
``PUT /api/client/task`` (201, 21 TASK_UPDATED), ``GET /api/client/task/status?mappingKey=``
(the current status in the doc's shape: ``eventId``, ``event``, ``data.taskId/type/reason/agent/
trackingLink``), ``GET /tracking/<slug>`` (a stand-in for the tracking page).

Admin routes
------------
``POST /_admin/tasks/<taskId>/advance``
    ``{}``: the next step; ``{"to": 27}``: every step up to 27, one webhook each, in order;
    ``{"event": 28, "reason": "..."}``: cancel; ``{"event": 29}``: reassign to another rider
    (then 24 follows); ``{"event": 22}``: unassign (then 23 follows).
``GET /_admin/tasks``, ``GET /_admin/tasks/<taskId>``
    Tasks with their ``events`` history.

Where the doc is silent (liberties)
-----------------------------------
Each point the Orderbridge side relies on is in docs/vendor-assumptions.md ("Blink Logistics"); the
doc's section (vendor-docs/blink-api.txt, "Logistics") is named in brackets.

* Errors are NestJS-style ["Task Creation", "Task Update", "Get Task Status" show only a success
  answer]: ``{"statusCode": 400, "message": ["mappingKey should not be empty", ...], "error": "Bad
  Request"}`` (400 validation, 401, 404 unknown task, 409 duplicate/finished task).
* ASSUMPTION Orderbridge relies on ["Get Task Status"]: ``GET /api/client/task/status`` for a
  mapping key with no task answers 404 ``{"statusCode": 404, "message": "No task with mappingKey
  <key>", "error": "Not Found"}`` — the message names the key asked about. Orderbridge takes only that answer as "no
  task yet" (``orderbridge.vendors.blink_logistics.is_task_not_found``); an unknown route's 404
  ("No route for GET /...") does not name the key, and is not taken for it.
* ``agent`` is ``null`` until a rider is assigned (23) ["Task Status Reference": 23 "allocated to a
  specific driver"]; ``trackingLink`` is set from creation.
* A finished (27) or cancelled (28) task cannot be updated or advanced (409) ["Task Update" names no
  state it refuses].
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field
from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from orderbridge_local.sandboxes.base import (
    ApiError,
    Reply,
    Sandbox,
    SandboxSettings,
    WebhookJob,
    json_body,
    number,
    parse_time,
)

EVENTS = {
    20: "TASK_CREATED",
    21: "TASK_UPDATED",
    22: "TASK_UNASSIGN",
    23: "TASK_ASSIGNED",
    24: "TASK_ACCEPTED",
    25: "TASK_ARRIVED",
    26: "TASK_STARTED",
    27: "TASK_FINISHED",
    28: "TASK_CANCELLED",
    29: "TASK_REASSIGNED",
}
PROGRESSION = (20, 23, 24, 25, 26, 27)
TERMINAL = frozenset({27, 28})
# Where an out-of-band event leaves the task on PROGRESSION (what comes next).
STAGE_AFTER = {22: 20, 29: 23}

REQUIRED_ON_CREATE = (
    "mappingKey",
    "mappingCode",
    "mappingBranchId",
    "paymentType",
    "customerName",
    "customerAddress",
    "customerPhone",
    "lat",
    "lng",
    "pickUpTime",
    "deliveryTime",
    "type",
)
UPDATABLE = (
    "discountCode",
    "tax",
    "taxPercent",
    "discount",
    "deliveryCharges",
    "subTotal",
    "paymentType",
    "description",
    "instruction",
    "customerName",
    "customerEmail",
    "customerAddress",
    "customerPhone",
    "lat",
    "lng",
    "pickUpTime",
    "deliveryTime",
    "type",
)


class BlinkLogisticsSettings(SandboxSettings):
    api_token: str = "blink-logistics-sandbox-token"
    task_status_webhook_url: str | None = None
    webhook_token: str | None = None
    webhook_token_header: str = "X-Webhook-Token"
    auto_advance_seconds: float | None = Field(default=None, gt=0)
    auto_advance_to: int = Field(default=27, ge=23, le=27)
    webhook_on_create_update: bool = False
    duplicate_mapping_key: Literal["reject", "allow"] = "reject"
    agent_name: str = "Test Rider"
    agent_contact: str = "+923213456789"
    tracking_base_url: str | None = None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class BlinkLogisticsSandbox(Sandbox):
    name = "blink_logistics"
    settings_model = BlinkLogisticsSettings
    settings: BlinkLogisticsSettings

    def reset_state(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}

    def error_body(self, status: int, message: str, **extra: Any) -> Any:
        reasons = {
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            405: "Method Not Allowed",
            409: "Conflict",
            500: "Internal Server Error",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        return {"statusCode": status, "message": message, "error": reasons.get(status, "Error"), **extra}

    def vendor_rules(self) -> list[Rule]:
        return [
            Rule("/api/client/task", methods=["POST"], endpoint=self.create_task),
            Rule("/api/client/task", methods=["PUT"], endpoint=self.update_task),
            Rule("/api/client/task/status", methods=["GET"], endpoint=self.task_status),
            Rule("/tracking/<slug>", methods=["GET"], endpoint=self.tracking_page),
        ]

    def admin_rules(self) -> list[Rule]:
        return [
            Rule("/_admin/tasks", methods=["GET"], endpoint=self.admin_tasks),
            Rule("/_admin/tasks/<task_id>", methods=["GET"], endpoint=self.admin_task),
            Rule("/_admin/tasks/<task_id>/advance", methods=["POST"], endpoint=self.admin_advance),
        ]

    def needs_ticker(self) -> bool:
        return True

    # ------------------------------------------------------------------ helpers

    def _authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.settings.api_token:
            raise self.error(401, "Unauthorized")

    def _validation(self, messages: list[str]) -> ApiError:
        return ApiError(400, {"statusCode": 400, "message": messages, "error": "Bad Request"})

    def _check_fields(self, body: dict[str, Any], required: tuple[str, ...]) -> list[str]:
        messages = [f"{key} should not be empty" for key in required if _blank(body.get(key))]
        if not _blank(body.get("paymentType")) and body["paymentType"] not in ("COD", "ONLINE"):
            messages.append("paymentType must be one of the following values: COD, ONLINE")
        if body.get("type") is not None and body["type"] not in (1, 2, "1", "2"):
            messages.append("type must be one of the following values: 1, 2")
        for key in ("pickUpTime", "deliveryTime"):
            if not _blank(body.get(key)) and parse_time(str(body[key])) is None:
                messages.append(f"{key} must be a valid ISO 8601 date string")
        for key in ("lat", "lng"):
            if not _blank(body.get(key)) and number(body[key]) is None:
                messages.append(f"{key} must be a number string")
        for key in ("tax", "taxPercent", "discount", "deliveryCharges", "subTotal"):
            if body.get(key) is not None and number(body[key]) is None:
                messages.append(f"{key} must be a number")
        return messages

    def _new_task_id(self) -> str:
        while True:
            task_id = f"{self.random_chars(5, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}-{self.random_digits(5)}"
            if task_id not in self.tasks:
                return task_id

    def _status_body(self, task: dict[str, Any], event_id: int | None = None) -> dict[str, Any]:
        event_id = task["event_id"] if event_id is None else event_id
        return {
            "eventId": event_id,
            "event": EVENTS[event_id],
            "data": {
                "taskId": task["taskId"],
                "type": task["type"],
                "reason": task["reason"],
                "agent": dict(task["agent"]) if task["agent"] else None,
                "trackingLink": task["trackingLink"],
            },
        }

    def _transition(self, task: dict[str, Any], event_id: int, reason: str = "", send: bool = True) -> None:
        now = self.now()
        if event_id == 23 and task["agent"] is None:
            task["agent"] = {"name": self.settings.agent_name, "contact": self.settings.agent_contact}
        elif event_id == 22:
            task["agent"] = None
        elif event_id == 29:
            task["riders"] += 1
            task["agent"] = {
                "name": f"{self.settings.agent_name} {task['riders']}",
                "contact": self.settings.agent_contact,
            }
        if event_id in PROGRESSION:
            task["stage"] = event_id
        elif event_id in STAGE_AFTER:
            task["stage"] = STAGE_AFTER[event_id]
        task["event_id"] = event_id
        task["reason"] = reason or ""
        task["changed_at"] = now
        task["events"].append(
            {"eventId": event_id, "event": EVENTS[event_id], "reason": reason or "", "time": now.isoformat()}
        )
        if send:
            headers = {}
            if self.settings.webhook_token:
                headers[self.settings.webhook_token_header] = self.settings.webhook_token
            self.emit_webhook(
                WebhookJob(
                    url=self.settings.task_status_webhook_url,
                    body=self._status_body(task),
                    label=EVENTS[event_id],
                    headers=headers,
                )
            )

    def _next_step(self, task: dict[str, Any]) -> int | None:
        index = PROGRESSION.index(task["stage"])
        return PROGRESSION[index + 1] if index + 1 < len(PROGRESSION) else None

    # ------------------------------------------------------------------ vendor routes

    def create_task(self, request: Request) -> Reply:
        self._authenticate(request)
        body = json_body(request)
        if not isinstance(body, dict):
            raise self._validation(["body must be a JSON object"])
        messages = self._check_fields(body, REQUIRED_ON_CREATE)
        if messages:
            raise self._validation(messages)
        mapping_key = str(body["mappingKey"])
        if self.settings.duplicate_mapping_key == "reject":
            for task in self.tasks.values():
                if task["mappingKey"] == mapping_key and task["event_id"] not in TERMINAL:
                    raise self.error(409, f"A task with mappingKey {mapping_key} already exists", taskId=task["taskId"])
        task_id = self._new_task_id()
        slug = self.random_chars(21, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        tracking_base = self.settings.tracking_base_url or f"{self.base_url(request)}/tracking/"
        task = {
            "taskId": task_id,
            "mappingKey": mapping_key,
            "type": int(body["type"]),
            "request": dict(body),
            "event_id": 20,
            "stage": 20,
            "reason": "",
            "agent": None,
            "riders": 1,
            "trackingLink": f"{tracking_base}{slug}",
            "created_at": self.now(),
            "changed_at": self.now(),
            "events": [],
        }
        self.tasks[task_id] = task
        self._transition(task, 20, send=self.settings.webhook_on_create_update)
        return Reply({"eventId": 20, "event": "TASK_CREATED", "data": {"taskId": task_id, "type": task["type"]}}, 201)

    def update_task(self, request: Request) -> Reply:
        self._authenticate(request)
        body = json_body(request)
        if not isinstance(body, dict):
            raise self._validation(["body must be a JSON object"])
        messages = self._check_fields(body, ("taskId", "type"))
        if messages:
            raise self._validation(messages)
        task = self.tasks.get(str(body["taskId"]))
        if task is None:
            raise self.error(404, f"Task {body['taskId']} not found")
        if task["event_id"] in TERMINAL:
            raise self.error(409, f"Task {task['taskId']} is {EVENTS[task['event_id']]} and cannot be updated")
        for key in UPDATABLE:
            if key in body:
                task["request"][key] = body[key]
        task["type"] = int(body["type"])
        self._transition(task, 21, send=self.settings.webhook_on_create_update)
        return Reply(
            {"eventId": 21, "event": "TASK_UPDATED", "data": {"taskId": task["taskId"], "type": task["type"]}}, 201
        )

    def task_status(self, request: Request) -> Reply:
        self._authenticate(request)
        mapping_key = request.args.get("mappingKey")
        if not mapping_key:
            raise self._validation(["mappingKey should not be empty"])
        matching = [task for task in self.tasks.values() if task["mappingKey"] == mapping_key]
        if not matching:
            # ASSUMPTION (the doc shows no error answer): a not-found that names the key asked
            # about; see "Where the doc is silent" above and vendors.blink_logistics.is_task_not_found.
            raise self.error(404, f"No task with mappingKey {mapping_key}")
        latest = max(matching, key=lambda task: task["created_at"])
        return Reply(self._status_body(latest))

    def tracking_page(self, request: Request, slug: str) -> Reply:
        for task in self.tasks.values():
            if task["trackingLink"].endswith(f"/{slug}"):
                return Reply(self._status_body(task))
        raise self.error(404, "Unknown tracking link")

    # ------------------------------------------------------------------ progression

    def advance(self, task_id: str, to: int | None = None, event: int | None = None, reason: str = "") -> list[int]:
        """Move a task on (see ``POST /_admin/tasks/<taskId>/advance``). Call under the state lock."""
        task = self.tasks.get(task_id)
        if task is None:
            raise ApiError(404, {"error": f"unknown task {task_id}"})
        if task["event_id"] in TERMINAL:
            raise ApiError(409, {"error": f"task is {EVENTS[task['event_id']]}"})
        if to is not None and event is not None:
            raise ApiError(400, {"error": "give either 'to' or 'event'"})
        if event is not None:
            if event not in (22, 23, 24, 25, 26, 27, 28, 29):
                raise ApiError(400, {"error": "event must be one of 22..29"})
            self._transition(task, event, reason)
            return [event]
        if to is None:
            step = self._next_step(task)
            if step is None:
                raise ApiError(409, {"error": "task has no next step"})
            self._transition(task, step, reason)
            return [step]
        if to not in PROGRESSION or PROGRESSION.index(to) <= PROGRESSION.index(task["stage"]):
            raise ApiError(400, {"error": f"cannot advance from {task['stage']} to {to}"})
        sent = []
        while task["stage"] != to:
            step = self._next_step(task)
            assert step is not None
            self._transition(task, step, reason if step == to else "")
            sent.append(step)
        return sent

    def tick(self, now: datetime) -> None:
        delay = self.settings.auto_advance_seconds
        if not delay:
            return
        for task in self.tasks.values():
            if task["event_id"] in TERMINAL or task["stage"] >= self.settings.auto_advance_to:
                continue
            if now - task["changed_at"] >= timedelta(seconds=delay):
                step = self._next_step(task)
                if step is not None:
                    self._transition(task, step)

    # ------------------------------------------------------------------ admin

    def _admin_view(self, task: dict[str, Any]) -> dict[str, Any]:
        return {
            "taskId": task["taskId"],
            "mappingKey": task["mappingKey"],
            "status": self._status_body(task),
            "request": task["request"],
            "events": task["events"],
        }

    def admin_tasks(self, request: Request) -> Reply:
        return Reply([self._admin_view(task) for task in self.tasks.values()])

    def admin_task(self, request: Request, task_id: str) -> Reply:
        task = self.tasks.get(task_id)
        if task is None:
            raise ApiError(404, {"error": f"unknown task {task_id}"})
        return Reply(self._admin_view(task))

    def admin_advance(self, request: Request, task_id: str) -> Reply:
        body = self.admin_json(request)
        to, event = body.get("to"), body.get("event")
        for name, value in (("to", to), ("event", event)):
            if value is not None and not isinstance(value, int):
                raise ApiError(400, {"error": f"{name} must be an integer"})
        sent = self.advance(task_id, to=to, event=event, reason=str(body.get("reason") or ""))
        return Reply(
            {"taskId": task_id, "events": sent, "status": self._status_body(self.tasks[task_id])}, attach_webhooks=True
        )
