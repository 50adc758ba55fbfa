"""Blink Logistics payloads (vendor-docs/blink-api.txt, "Logistics").

Inbound: the Task Status Webhook.
Outbound: Task Creation, Task Update and Get Task Status (below the webhook models). The answers of
all three have the webhook's shape, so they are read as :class:`TaskStatusWebhook`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, field_validator, model_validator

from orderbridge.models.base import OurModel, VendorModel
from orderbridge.models.states import TaskEvent
from orderbridge.models.types import FlexInt, FreeText, Id, Money, UtcDateTime


class TaskAgent(VendorModel):
    name: FreeText | None = None
    contact: FreeText | None = None


class TaskStatusData(VendorModel):
    task_id: Id = Field(alias="taskId", min_length=1)
    type: FlexInt | None = None  # 1 normal, 2 return
    reason: FreeText | None = None
    agent: TaskAgent | None = None
    tracking_link: FreeText | None = Field(default=None, alias="trackingLink")


class TaskStatusWebhook(VendorModel):
    """Blink Logistics "Task Status Webhook" (same shape as the Get Task Status answer)."""

    event_id: FlexInt = Field(alias="eventId")
    event: FreeText | None = None
    data: TaskStatusData

    @field_validator("event_id")
    @classmethod
    def _known_event(cls, value: int) -> int:
        return TaskEvent(value).value

    @property
    def task_event(self) -> TaskEvent:
        return TaskEvent(self.event_id)

    def summary(self, *, read_from: str | None = None) -> str:
        """The order timeline's line for this status: the event, where it was read when it was not
        pushed to us, and the reason when there is one."""
        how = f" (read from {read_from})" if read_from else ""
        return f"courier task {self.task_event.name}{how}" + (f" ({self.data.reason})" if self.data.reason else "")

    def timeline_detail(self) -> dict[str, Any]:
        """What the order's timeline keeps of this status (the rider's contact included)."""
        data = self.data
        return {
            "task_id": data.task_id,
            "event_id": self.event_id,
            "event": self.event,
            "type": data.type,
            "reason": data.reason,
            "agent": data.agent.model_dump() if data.agent else None,
            "tracking_link": data.tracking_link,
        }


# =================================================================================================
# Task API (outbound): POST/PUT /api/client/task, GET /api/client/task/status.
# =================================================================================================

TaskStatusResponse = TaskStatusWebhook
"""The answer of Task Creation, Task Update and Get Task Status: the webhook's shape."""


class TaskType(IntEnum):
    NORMAL = 1
    RETURN = 2


PaymentType = Literal["COD", "ONLINE"]


def _utc_iso_z(value: datetime) -> str:
    """UTC ISO 8601 with milliseconds and a Z, as in the doc: 2024-06-06T04:29:15.000Z."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


UtcZDateTime = Annotated[UtcDateTime, PlainSerializer(_utc_iso_z, return_type=str)]
"""A UTC datetime sent as ``...Z`` (naive values are taken as UTC, like every vendor time)."""

CoordinateText = Annotated[Money, PlainSerializer(str, return_type=str)]
"""A latitude/longitude the doc types as a string ("24.871641"): Decimal here, sent as its string."""


class TaskRequest(OurModel):
    """A body we send to Blink Logistics: Python names, the doc's camelCase on the wire."""

    def to_body(self) -> dict[str, Any]:
        return self.model_dump(mode="python", by_alias=True, exclude_none=True)


class _TaskFields(TaskRequest):
    """Fields Task Creation and Task Update share (all optional here; creation requires some)."""

    discount_code: str | None = Field(default=None, alias="discountCode")
    tax: Money | None = Field(default=None, ge=0)
    tax_percent: Money | None = Field(default=None, alias="taxPercent", ge=0)
    discount: Money | None = Field(default=None, ge=0)
    delivery_charges: Money | None = Field(default=None, alias="deliveryCharges", ge=0)
    sub_total: Money | None = Field(default=None, alias="subTotal", ge=0)
    payment_type: PaymentType | None = Field(default=None, alias="paymentType")
    description: str | None = None
    instruction: str | None = None
    customer_name: str | None = Field(default=None, alias="customerName")
    customer_email: str | None = Field(default=None, alias="customerEmail")
    customer_address: str | None = Field(default=None, alias="customerAddress")
    customer_phone: str | None = Field(default=None, alias="customerPhone")
    lat: CoordinateText | None = None
    lng: CoordinateText | None = None
    pick_up_time: UtcZDateTime | None = Field(default=None, alias="pickUpTime")
    delivery_time: UtcZDateTime | None = Field(default=None, alias="deliveryTime")
    type: TaskType = TaskType.NORMAL

    @model_validator(mode="after")
    def _delivery_after_pick_up(self) -> _TaskFields:
        if self.pick_up_time and self.delivery_time and self.delivery_time < self.pick_up_time:
            raise ValueError("deliveryTime must not be before pickUpTime")
        return self


class TaskCreateRequest(_TaskFields):
    """POST /api/client/task. Money is sent as exact JSON numbers, times as UTC ``...Z``."""

    source: str | None = None
    mapping_key: str = Field(alias="mappingKey", min_length=1)
    mapping_code: str = Field(alias="mappingCode", min_length=1)
    mapping_branch_id: Id = Field(alias="mappingBranchId", min_length=1)
    payment_type: PaymentType = Field(alias="paymentType")
    customer_name: str = Field(alias="customerName", min_length=1)
    customer_address: str = Field(alias="customerAddress", min_length=1)
    customer_phone: str = Field(alias="customerPhone", min_length=1)
    lat: CoordinateText
    lng: CoordinateText
    pick_up_time: UtcZDateTime = Field(alias="pickUpTime")
    delivery_time: UtcZDateTime = Field(alias="deliveryTime")


class TaskUpdateRequest(_TaskFields):
    """PUT /api/client/task: the task (Blink Logistics' id) and the fields that change."""

    task_id: str = Field(alias="taskId", min_length=1)
    type: TaskType  # required by the doc on update: no default that could turn a return into a normal task
