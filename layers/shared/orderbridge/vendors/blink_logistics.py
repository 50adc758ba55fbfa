"""Client of the Blink Logistics task API (vendor-docs/blink-api.txt, "Logistics").

Authentication is the static bearer token from the Logistics portal (no login, so a 401 means the
token is wrong or revoked: ``VendorAuthError``, not retried). All three calls answer in the Task
Status Webhook's shape and return :class:`~orderbridge.models.blink_logistics.TaskStatusWebhook`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from orderbridge.config import VendorSettings
from orderbridge.models.blink_logistics import TaskCreateRequest, TaskStatusWebhook, TaskUpdateRequest
from orderbridge.vendors.blink import raise_for_soft_failure
from orderbridge.vendors.credentials import BlinkLogisticsCredentials, VendorCredentials
from orderbridge.vendors.http import VendorHttpClient, decode_json, parse_answer

VENDOR = "blink_logistics"
TASK_PATH = "/api/client/task"
TASK_STATUS_PATH = "/api/client/task/status"


class BlinkLogisticsClient:
    """Typed client of the Blink Logistics task API. Build it once per merchant per container."""

    def __init__(self, http: VendorHttpClient) -> None:
        self._http = http

    @classmethod
    def create(
        cls,
        vendor_settings: VendorSettings,
        credentials: BlinkLogisticsCredentials | VendorCredentials,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> BlinkLogisticsClient:
        """A client for ``vendor_settings.blink_logistics_base_url`` with the merchant's token.

        ``transport`` and ``sleep`` are for tests (a mock transport; no waiting between retries).
        """
        if isinstance(credentials, VendorCredentials):
            credentials = credentials.require_blink_logistics()
        http = VendorHttpClient.from_settings(
            VENDOR, vendor_settings.blink_logistics_base_url, vendor_settings,
            headers={"Authorization": f"Bearer {credentials.token.get_secret_value()}"},
            transport=transport, sleep=sleep,
        )
        return cls(http)

    def close(self) -> None:
        self._http.close()

    def create_task(self, task: TaskCreateRequest) -> TaskStatusWebhook:
        """Send a delivery task (POST /api/client/task); the answer carries Blink Logistics' taskId."""
        return self._call("POST", TASK_PATH, json=task.to_body())

    def update_task(self, update: TaskUpdateRequest) -> TaskStatusWebhook:
        """Change an existing task (PUT /api/client/task)."""
        return self._call("PUT", TASK_PATH, json=update.to_body())

    def get_task_status(self, mapping_key: str) -> TaskStatusWebhook:
        """The task's latest event, agent and tracking link (GET /api/client/task/status?mappingKey=)."""
        if not mapping_key or not str(mapping_key).strip():
            raise ValueError("mapping_key is required")
        return self._call("GET", TASK_STATUS_PATH, params={"mappingKey": str(mapping_key)})

    def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> TaskStatusWebhook:
        response = self._http.request(method, path, params=params, json=json)
        answer = decode_json(response)
        raise_for_soft_failure(answer, status_code=response.status_code, vendor=VENDOR)
        return parse_answer(VENDOR, TaskStatusWebhook, answer, status_code=response.status_code)
