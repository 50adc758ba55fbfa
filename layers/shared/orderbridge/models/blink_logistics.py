"""Blink Logistics payloads (vendor-docs/blink-api.txt, "Logistics").

Inbound: the Task Status Webhook.
"""

from __future__ import annotations

from enum import IntEnum

from pydantic import Field, field_validator

from orderbridge.models.base import VendorModel
from orderbridge.models.types import FlexInt, Id


class TaskEvent(IntEnum):
    """Blink Logistics "Task Status Reference"."""

    TASK_CREATED = 20
    TASK_UPDATED = 21
    TASK_UNASSIGN = 22
    TASK_ASSIGNED = 23
    TASK_ACCEPTED = 24
    TASK_ARRIVED = 25
    TASK_STARTED = 26
    TASK_FINISHED = 27
    TASK_CANCELLED = 28
    TASK_REASSIGNED = 29


class TaskAgent(VendorModel):
    name: str | None = None
    contact: str | None = None


class TaskStatusData(VendorModel):
    task_id: Id = Field(alias="taskId", min_length=1)
    type: FlexInt | None = None  # 1 normal, 2 return
    reason: str | None = None
    agent: TaskAgent | None = None
    tracking_link: str | None = Field(default=None, alias="trackingLink")


class TaskStatusWebhook(VendorModel):
    """Blink Logistics "Task Status Webhook" (same shape as the Get Task Status answer)."""

    event_id: FlexInt = Field(alias="eventId")
    event: str | None = None
    data: TaskStatusData

    @field_validator("event_id")
    @classmethod
    def _known_event(cls, value: int) -> int:
        return TaskEvent(value).value

    @property
    def task_event(self) -> TaskEvent:
        return TaskEvent(self.event_id)
