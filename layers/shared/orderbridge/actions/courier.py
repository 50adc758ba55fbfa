"""Courier actions: Blink Logistics tasks (create, update, read status) and DispatchNINJA orders
(create, read details).

Creating a courier job writes an alias from the courier's id to the order, so the Blink Logistics
task status webhook (alias ``blink_logistics`` + taskId) finds it. DispatchNINJA has no webhooks:
reading its details is how its progress reaches the order, as a courier timeline event whenever
the state changed, and on the courier track (monotonic, ``domain.courier_rules``).

Create and update change something at the courier: their Lambdas run them idempotently. Reads
are not: each read must see the courier's current state.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from orderbridge.actions.common import (
    ActionRefused,
    CustomerDetails,
    OrderInput,
    build,
    customer_of,
    missing,
    our_event,
    require_order,
    sent_once,
)
from orderbridge.actions.runtime import action
from orderbridge.deps import Deps
from orderbridge.domain import blink_submit, courier_rules, locker_rules
from orderbridge.domain.statuses import courier_status_update, new_courier_job
from orderbridge.models.base import OurModel
from orderbridge.models.blink_logistics import TaskCreateRequest, TaskType, TaskUpdateRequest
from orderbridge.models.dispatchninja import DispatchNinjaAddOrderRequest
from orderbridge.models.order import Customer, Order
from orderbridge.models.states import TaskEvent
from orderbridge.observability import logger
from orderbridge.vendors.blink_logistics import TaskNotFound

BLINK_LOGISTICS = "blink_logistics"  # alias source the task status webhook reads
DISPATCHNINJA = "dispatchninja"
TASK_SOURCE = "orderbridge"  # Blink Logistics' "source of the task creation"

# When the caller gives no times: the courier picks up shortly, and delivers within the hour.
DEFAULT_PICKUP_LEAD = timedelta(minutes=15)
DEFAULT_DELIVERY_WINDOW = timedelta(minutes=45)


def _contents(order: Order) -> str:
    """What the courier carries: item names (or ids) and quantities; nothing about the customer."""
    return ", ".join(f"{item.name or item.product_id or item.source_item_id} x{item.quantity}" for item in order.items)


# --------------------------------------------------------------------------------------------------
# Blink Logistics: create a task
# --------------------------------------------------------------------------------------------------


class CourierDispatch(OrderInput):
    """Where the courier goes and which attempt this is (the workflow dispatches again, once,
    after a courier cancelled)."""

    destination: Literal["home", "locker"] = "home"  # "locker": the order's reserved Bloq
    attempt: int = Field(default=1, ge=1)

    @field_validator("destination", mode="before")
    @classmethod
    def _from_path(cls, value: object) -> object:
        """The workflow passes the order's path (``domain.plan.OrderPath``)."""
        return {"locker_delivery": "locker", "home_delivery": "home"}.get(str(value), value)


class CreateBlinkLogisticsTaskInput(CourierDispatch):
    """Create the order's delivery task. Customer, address and coordinates come from the order
    unless given here (for a locker delivery: the Bloq's address and position)."""

    customer: CustomerDetails | None = None
    pick_up_time: AwareDatetime | None = None  # default: now + 15 min
    delivery_time: AwareDatetime | None = None  # default: the order's due time, else pickup + 45 min
    payment_type: Literal["COD", "ONLINE"] | None = None  # default: from the order's payment
    mapping_branch_id: str | None = None  # default: the order's branch id
    description: str | None = None  # default: the items and quantities
    instruction: str | None = None  # default: the order's note
    type: TaskType = TaskType.NORMAL


class BlinkLogisticsJob(OurModel):
    """The order and its Blink Logistics task: what the output of every task action names."""

    order_id: str
    task_id: str


class CourierTaskOutput(BlinkLogisticsJob):
    event: str  # Blink Logistics' event name, e.g. TASK_CREATED
    already_created: bool = False  # the order had a task already: nothing was sent


@action(idempotent=True)
def create_blink_logistics_task(*, request: CreateBlinkLogisticsTaskInput, deps: Deps) -> CourierTaskOutput:
    order, tracks = require_order(deps, request.order_id)
    if order.blink_logistics_task_id and request.attempt <= order.courier_attempt:
        return CourierTaskOutput(
            order_id=order.order_id,
            task_id=order.blink_logistics_task_id,
            event=tracks.courier_status or "TASK_CREATED",
            already_created=True,
        )
    target, instruction = _destination(deps, order, request)
    customer = customer_of(order, target)
    missing(
        f"order {order.order_id} cannot get a Blink Logistics task",
        {
            "customer name": customer.name,
            "customer phone": customer.phone,
            "customer address": customer.address,
            "customer latitude": customer.latitude,
            "customer longitude": customer.longitude,
        },
    )
    pick_up, delivery = _task_times(deps, order, request)
    task = _new_task(order, request, customer, instruction, pick_up, delivery)
    logistics = deps.vendors.blink_logistics(order.merchant_id)
    answer = _existing_task(logistics, task.mapping_key) or logistics.create_task(task)
    task_id = answer.data.task_id
    logger.append_keys(task_id=task_id)
    event = our_event(
        deps,
        f"orderbridge:courier_task:{task_id}",
        "courier_task_created",
        f"Blink Logistics task {task_id} created ({answer.task_event.name})",
        detail={
            "task_id": task_id,
            "event_id": answer.event_id,
            "pick_up_time": pick_up.isoformat(),
            "delivery_time": delivery.isoformat(),
            "type": int(request.type),
        },
    )
    deps.orders.link_vendor(
        order.order_id,
        event,
        fields={"blink_logistics_task_id": task_id, "courier_attempt": request.attempt},
        alias=(BLINK_LOGISTICS, task_id),
        follow=new_courier_job(task_id, answer.task_event),
    )
    return CourierTaskOutput(order_id=order.order_id, task_id=task_id, event=answer.task_event.name)


def _task_times(deps: Deps, order: Order, request: CreateBlinkLogisticsTaskInput) -> tuple[datetime, datetime]:
    """When the courier picks up (asked, else shortly) and delivers (asked, else when the order is
    due, else within the hour of the pick-up)."""
    pick_up = request.pick_up_time or deps.clock() + DEFAULT_PICKUP_LEAD
    delivery = request.delivery_time or _due(order.due_at, pick_up) or pick_up + DEFAULT_DELIVERY_WINDOW
    return pick_up, delivery


def _new_task(
    order: Order,
    request: CreateBlinkLogisticsTaskInput,
    customer: Customer,
    instruction: str | None,
    pick_up: datetime,
    delivery: datetime,
) -> TaskCreateRequest:
    """The task Blink Logistics is asked to create: our reference (the order, and the attempt after
    a re-dispatch), the money, what the courier carries and where to."""
    amounts = order.amounts
    return build(
        TaskCreateRequest,
        f"order {order.order_id} does not make a valid Blink Logistics task",
        source=TASK_SOURCE,
        mapping_key=mapping_key(order.order_id, request.attempt),
        mapping_code=mapping_key(order.order_id, request.attempt),
        mapping_branch_id=request.mapping_branch_id or order.branch_id,
        tax=amounts.tax,
        discount=amounts.discount,
        delivery_charges=amounts.delivery_charges,
        sub_total=blink_submit.subtotal(order),
        payment_type=request.payment_type or courier_rules.payment_type(order),
        description=request.description or _contents(order),
        instruction=request.instruction or instruction or order.note,
        pick_up_time=pick_up,
        delivery_time=delivery,
        type=request.type,
        **_task_customer(customer),
    )


def _task_customer(customer: Customer | CustomerDetails) -> dict[str, Any]:
    """The customer fields of a Blink Logistics task, as created or updated."""
    return {
        "customer_name": customer.name,
        "customer_email": customer.email,
        "customer_address": customer.address,
        "customer_phone": customer.phone,
        "lat": customer.latitude,
        "lng": customer.longitude,
    }


def mapping_key(order_id: str, attempt: int) -> str:
    """Our reference on a Blink Logistics task: the order id, plus the attempt after a re-dispatch
    (a new task needs a new reference)."""
    return order_id if attempt <= 1 else f"{order_id}-{attempt}"


def _existing_task(logistics: Any, key: str) -> Any:
    """The task a previous attempt of this action created, if it got that far: creating a task is
    not idempotent at Blink Logistics, and a timeout after the request was sent (or a failure to
    record the answer) would otherwise give the order two couriers. A cancelled one is not reused.

    Only Blink Logistics' own "no task for this key" answer (``TaskNotFound``) means "none yet";
    any other failure of the lookup — a 5xx, a refused token, a 404 from a wrong base URL — ends
    the action as it is (retryable or permanent) rather than risk a second task."""
    try:
        found = logistics.get_task_status(key)
    except TaskNotFound:
        return None
    if found.task_event is TaskEvent.TASK_CANCELLED:
        return None
    logger.info("a task for this reference exists already: adopted, not created again")
    return found


def _destination(deps: Deps, order: Order, request: CourierDispatch) -> tuple[CustomerDetails | None, str | None]:
    """Who and where the courier delivers to, and what it must be told.

    Home: the customer (with the caller's overrides). Locker: the reserved Bloq's address and
    position, the customer as the contact, and the drop-off code in the instructions — the code
    goes to the courier company only; it is in no output, log or timeline event.
    """
    override = getattr(request, "customer", None)
    if request.destination == "home":
        return override, None
    rent = locker_rules.current_rent(deps.rents.for_order(order.order_id))
    if rent is None or not rent.bloq_id:
        raise ActionRefused(f"order {order.order_id} has no reserved locker to send the courier to")
    bloq = deps.vendors.bloqit(order.merchant_id).get_bloq(rent.bloq_id)
    lat, lng = _position(bloq.location)
    place = bloq.title or bloq.code or rent.bloq_id
    address = ", ".join(part for part in (bloq.address, bloq.postal_code, bloq.city) if part) or None
    target = CustomerDetails(
        name=(override.name if override and override.name else None) or order.customer.name,
        phone=(override.phone if override and override.phone else None) or order.customer.phone,
        address=address,
        latitude=lat,
        longitude=lng,
    )
    instruction = (
        f"Deliver to the Bloq.It locker {place}"
        + (f", locker {rent.locker_id}" if rent.locker_id else "")
        + (f"; drop-off code {rent.dropoff_code}" if rent.dropoff_code else "")
    )
    return target, instruction


def _position(location: Any) -> tuple[Decimal | None, Decimal | None]:
    """(latitude, longitude) of a Bloq.It location: explicit fields, or GeoJSON [longitude, latitude]."""
    if location is None:
        return None, None
    if location.latitude is not None and location.longitude is not None:
        return Decimal(str(location.latitude)), Decimal(str(location.longitude))
    if location.coordinates and len(location.coordinates) >= 2:
        return Decimal(str(location.coordinates[1])), Decimal(str(location.coordinates[0]))
    return None, None


def _courier_job(order: Order, job_id: str | None, what: str, log_key: str) -> str:
    """The order's courier job (task / DispatchNINJA order) an action works on: refused without one."""
    if not job_id:
        raise ActionRefused(f"order {order.order_id} has no {what}")
    logger.append_keys(**{log_key: job_id})
    return job_id


def _due(due_at: datetime | None, pick_up: datetime) -> datetime | None:
    return due_at if due_at is not None and due_at > pick_up else None


# --------------------------------------------------------------------------------------------------
# Blink Logistics: update a task
# --------------------------------------------------------------------------------------------------


class UpdateBlinkLogisticsTaskInput(OrderInput):
    """Change the order's task: only what is given here changes."""

    customer: CustomerDetails | None = None
    pick_up_time: AwareDatetime | None = None
    delivery_time: AwareDatetime | None = None
    payment_type: Literal["COD", "ONLINE"] | None = None
    description: str | None = None
    instruction: str | None = None
    # Blink Logistics requires it on every update; no default, so an update cannot turn a return
    # task (2) into a normal one (1) by leaving it out.
    type: TaskType

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateBlinkLogisticsTaskInput:
        changes = self.model_dump(exclude_none=True, exclude={"order_id", "type", "customer"})
        if not changes and not (self.customer and self.customer.model_dump(exclude_none=True)):
            raise ValueError("nothing to change: give at least one field of the task")
        return self

    def task_fields(self) -> dict[str, Any]:
        """The fields of the task this update sets (None: left as they are), but the customer's."""
        return self.model_dump(
            include={"pick_up_time", "delivery_time", "payment_type", "description", "instruction", "type"}
        )


@action(idempotent=True)
def update_blink_logistics_task(*, request: UpdateBlinkLogisticsTaskInput, deps: Deps) -> CourierTaskOutput:
    order, _ = require_order(deps, request.order_id)
    task_id = _courier_job(order, order.blink_logistics_task_id, "Blink Logistics task to update", "task_id")
    customer = request.customer or CustomerDetails()
    change = build(
        TaskUpdateRequest,
        f"the update of task {task_id} is not valid",
        task_id=task_id,
        **request.task_fields(),
        **_task_customer(customer),
    )
    body = change.model_dump(mode="json", exclude_none=True, exclude={"task_id"})
    answer = deps.vendors.blink_logistics(order.merchant_id).update_task(change)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    event = our_event(
        deps,
        f"orderbridge:courier_task_update:{task_id}:{digest}",
        "courier_task_updated",
        f"Blink Logistics task {task_id} updated: {', '.join(sorted(body))}",
        detail={"task_id": task_id, "event_id": answer.event_id, "changed": sorted(body)},
    )
    update = courier_status_update(answer.task_event)
    deps.orders.record_event(order.order_id, event, update.of(task_id) if update else None)
    return CourierTaskOutput(order_id=order.order_id, task_id=task_id, event=answer.task_event.name)


# --------------------------------------------------------------------------------------------------
# Blink Logistics: read a task's status
# --------------------------------------------------------------------------------------------------


class CourierTaskStatusOutput(BlinkLogisticsJob):
    event_id: int
    event: str
    reason: str | None = None
    agent_name: str | None = None  # the rider's name; the rider's phone stays in the timeline
    tracking_link: str | None = None
    courier_status: str | None = None  # the order's courier track after this read
    recorded: bool  # a new timeline event was recorded (the status was not seen before)


@action(idempotent=False)
def get_blink_logistics_task_status(*, request: OrderInput, deps: Deps) -> CourierTaskStatusOutput:
    order, tracks = require_order(deps, request.order_id)
    answer = deps.vendors.blink_logistics(order.merchant_id).get_task_status(
        mapping_key(order.order_id, order.courier_attempt)
    )
    data = answer.data
    logger.append_keys(task_id=data.task_id)
    event = our_event(
        deps,
        f"logistics:{data.task_id}:{answer.event_id}:read",
        "task_status",
        answer.summary(read_from="Blink Logistics"),
        detail=answer.timeline_detail(),
        source=BLINK_LOGISTICS,
    )
    update = courier_status_update(answer.task_event)
    # The task may have been created by an earlier run that failed before recording it: link it.
    outcome = deps.orders.link_vendor(
        order.order_id,
        event,
        fields={"blink_logistics_task_id": data.task_id},
        alias=(BLINK_LOGISTICS, data.task_id),
        update=update.of(data.task_id) if update else None,
    )
    applied = outcome.created and not outcome.stale and update is not None
    return CourierTaskStatusOutput(
        order_id=order.order_id,
        task_id=data.task_id,
        event_id=answer.event_id,
        event=answer.task_event.name,
        reason=data.reason or None,
        agent_name=data.agent.name if data.agent else None,
        tracking_link=data.tracking_link,
        courier_status=update.value if applied and update is not None else tracks.courier_status,
        recorded=outcome.created,
    )


# --------------------------------------------------------------------------------------------------
# DispatchNINJA: create an order
# --------------------------------------------------------------------------------------------------


class CreateDispatchNinjaOrderInput(CourierDispatch):
    """Create the order's DispatchNINJA delivery. The pickup is the branch (its name and address)
    unless given; the customer comes from the order unless given."""

    customer: CustomerDetails | None = None
    client_name: str | None = None  # pickup: default the branch's name
    client_address: str | None = None  # pickup: default the branch's address
    comments: str | None = None  # default: the items and quantities, and the order's note


class DispatchNinjaJob(OurModel):
    """The order and its DispatchNINJA order: what the output of every DispatchNINJA action names."""

    order_id: str
    dispatchninja_order_id: str


class DispatchNinjaOrderOutput(DispatchNinjaJob):
    already_created: bool = False


@action(idempotent=True)
def create_dispatchninja_order(*, request: CreateDispatchNinjaOrderInput, deps: Deps) -> DispatchNinjaOrderOutput:
    order, _ = require_order(deps, request.order_id)
    if order.dispatchninja_order_id and request.attempt <= order.courier_attempt:
        return DispatchNinjaOrderOutput(
            order_id=order.order_id, dispatchninja_order_id=order.dispatchninja_order_id, already_created=True
        )
    target, instruction = _destination(deps, order, request)
    customer = customer_of(order, target)
    client_name, client_address = _pickup(deps, order, request)
    what = f"order {order.order_id} cannot get a DispatchNINJA delivery"
    missing(
        what,
        {
            "pickup name (client_name)": client_name,
            "pickup address (client_address)": client_address,
            "customer name": customer.name,
            "customer address": customer.address,
        },
    )
    add = build(
        DispatchNinjaAddOrderRequest,
        what,
        client_name=client_name,
        client_address=client_address,
        customer_name=customer.name,
        customer_address=customer.address,
        customer_email=customer.email,
        customer_phone=customer.phone,
        comments=request.comments or _courier_note(instruction, order),
    )
    attempt = request.attempt
    with sent_once(deps, order.order_id, "dispatchninja_add", attempt, vendor=DISPATCHNINJA, what="the delivery"):
        created = deps.vendors.dispatchninja(order.merchant_id).add_order(add)
    logger.append_keys(dispatchninja_order_id=created.order_id)
    event = our_event(
        deps,
        f"orderbridge:courier_order:{DISPATCHNINJA}:{created.order_id}",
        "courier_order_created",
        f"DispatchNINJA order {created.order_id} created",
        detail={"dispatchninja_order_id": created.order_id, "message": created.message},
    )
    deps.orders.link_vendor(
        order.order_id,
        event,
        fields={"dispatchninja_order_id": created.order_id, "courier_attempt": request.attempt},
        alias=(DISPATCHNINJA, created.order_id),
        follow=new_courier_job(created.order_id, TaskEvent.TASK_CREATED),
    )
    return DispatchNinjaOrderOutput(order_id=order.order_id, dispatchninja_order_id=created.order_id)


def _courier_note(instruction: str | None, order: Order) -> str:
    """The delivery's comments: where to (a locker), what it carries, and the order's note."""
    return "; ".join(part for part in (instruction, _contents(order), order.note) if part)


def _pickup(deps: Deps, order: Order, request: CreateDispatchNinjaOrderInput) -> tuple[str | None, str | None]:
    """Where the courier picks up (name, address): as given, else the order's branch."""
    branch = None if request.client_name and request.client_address else deps.config.branch(order.branch_id)
    client_name = request.client_name or (branch.name if branch else None)
    client_address = request.client_address or (branch.address if branch else None)
    return client_name, client_address


# --------------------------------------------------------------------------------------------------
# DispatchNINJA: read an order's details
# --------------------------------------------------------------------------------------------------


class DispatchNinjaDetailsOutput(DispatchNinjaJob):
    status: str | None = None
    status_id: int | None = None
    completed: bool
    canceled: bool
    completed_at: datetime | None = None
    canceled_at: datetime | None = None
    cancelled_reason: str | None = None
    has_driver: bool
    courier_status: str  # the state on the courier track's vocabulary (TASK_*)
    changed: bool  # a new courier timeline event was recorded


# The output's fields that DispatchNINJA's details carry under the same name: copied as they are.
_AS_IN_DETAILS = {"status", "status_id", "cancelled_reason"}


@action(idempotent=False)
def get_dispatchninja_order_details(*, request: OrderInput, deps: Deps) -> DispatchNinjaDetailsOutput:
    order, _ = require_order(deps, request.order_id)
    dn_id = _courier_job(order, order.dispatchninja_order_id, "DispatchNINJA order", "dispatchninja_order_id")
    details = deps.vendors.dispatchninja(order.merchant_id).order_details(dn_id)
    update = courier_rules.dispatchninja_update(details)
    event = our_event(
        deps,
        f"{DISPATCHNINJA}:{dn_id}:{courier_rules.dispatchninja_state_key(details)}",
        "courier_status",
        f"DispatchNINJA order {details.status or 'status ' + str(details.status_id)} ({update.value})"
        + (f": {details.cancelled_reason}" if details.cancelled_reason else ""),
        detail={
            "dispatchninja_order_id": dn_id,
            "status": details.status,
            "status_id": details.status_id,
            "completed": details.completed.isoformat() if details.completed else None,
            "canceled": details.canceled.isoformat() if details.canceled else None,
            "cancelled_reason": details.cancelled_reason,
            "driver": details.driver,
            "tracking_hash": details.tracking_hash,
        },
        source=DISPATCHNINJA,
        at=details.modified,
    )
    outcome = deps.orders.record_event(order.order_id, event, update.of(dn_id))
    return DispatchNinjaDetailsOutput(
        order_id=order.order_id,
        dispatchninja_order_id=dn_id,
        **details.model_dump(include=_AS_IN_DETAILS),
        completed=details.is_completed,
        canceled=details.is_canceled,
        completed_at=details.completed,
        canceled_at=details.canceled,
        has_driver=bool(details.driver),
        courier_status=update.value,
        changed=outcome.created,
    )
