"""The order workflow, written once: this script is the source of ``order_workflow.asl.json``.

Run ``.venv/bin/python statemachine/order_workflow.py`` after changing it and commit both files;
``tests/unit/test_order_workflow_definition.py`` fails when the JSON is not this script's output,
when a Retry/Catch names an error nothing raises, when an exception is in none of
``actions.common``'s lists, or when a ``${...}`` is not one of the template's substitutions.

Each retry policy, the failure path and the error names are written here once: every Lambda task
gets the same ``Retry`` (:data:`RETRY_RATE_LIMITED`, :data:`RETRY_IN_PROGRESS` and
:data:`RETRY_TRANSIENT`, built from ``actions.common.RATE_LIMITED_ERRORS``, ``IN_PROGRESS_ERRORS``
and ``RETRYABLE_ERRORS``; a wait only the last), each
wait's errors are caught by the rules ``ON_...``, and every task's unexpected failure goes through
a small Pass state that names the step, then to the failure path (release an empty locker, record
the failure, fail). The paths per order type are in ``docs/workflow.md``: after the plan, one
Choice sends the order into its lane (:data:`LANES`), whose states run in a line — a Standard
workflow is billed per state entered (``tests/unit/test_order_workflow_definition.py`` walks each
path and holds it to its budget).

The waits' limits are template parameters that reach the definition in one hop: the state
machine's ``DefinitionSubstitutions`` put each value into ``PlanOrder``'s ``ResultSelector``
(:data:`LIMITS`), where ``States.StringToJson`` turns it into the number ``TimeoutSecondsPath``
and ``HeartbeatSecondsPath`` read (``$.plan.limits.<name>``) — no extra state, and the file stays
JSON. Only what is decided at run time comes from a Lambda: a pre-order's start time (the plan)
and the extended collect wait (``CheckCollectDeadline``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orderbridge.actions.common import (
    IN_PROGRESS_ERRORS,
    NEEDS_ATTENTION_ERRORS,
    RATE_LIMITED_ERRORS,
    RETRYABLE_ERRORS,
)
from orderbridge.domain.plan import BLINK_STATUS_PATHS, OrderPath
from orderbridge.models.config import CourierProvider

OUTPUT = Path(__file__).with_name("order_workflow.asl.json")

# Vendor and AWS hiccups: exponential backoff with full jitter, then the failure path.
RETRY_TRANSIENT = {
    "ErrorEquals": list(RETRYABLE_ERRORS),
    "IntervalSeconds": 2,
    "MaxAttempts": 4,
    "BackoffRate": 2.0,
    "MaxDelaySeconds": 60,
    "JitterStrategy": "FULL",
}
# A vendor asked us to come back later than the function could wait (429 + Retry-After).
RETRY_RATE_LIMITED = {
    "ErrorEquals": list(RATE_LIMITED_ERRORS),
    "IntervalSeconds": 30,
    "MaxAttempts": 6,
    "BackoffRate": 1.5,
    "MaxDelaySeconds": 300,
}
# The same action input is "in progress" (Powertools idempotency): after a crash its record holds
# until the crashed invocation's deadline, so the first wait is longer than any action function's
# Timeout (template.yaml: 30 s at most; tests/unit/test_order_workflow_definition.py checks).
RETRY_IN_PROGRESS = {
    "ErrorEquals": list(IN_PROGRESS_ERRORS),
    "IntervalSeconds": 35,
    "MaxAttempts": 3,
    "BackoffRate": 1.5,
}
BLINK_STATUS = {"accepted": 1, "ready": 6, "dispatched": 2, "delivered": 3, "rejected": 4}
# The errors a wait ends with besides success: its verdict's (``domain.waits``) or Step Functions'
# own timeout, each caught by one rule: (errors, the state that handles them).
CATCH_ALL = "States.ALL"
TIMED_OUT = "States.Timeout"
ON_REJECTED = (["OrderRejected"], "OrderRejected")
# A person cancelled the order (ops API): every wait and the plan end with it (docs/workflow.md).
ON_CANCELLED = (["OrderCancelled"], "RejectCancelledInBlink")
ON_COURIER_CANCELLED = (["CourierCancelled"], "CourierCancelled")
ON_DROPOFF_MISSED = ([TIMED_OUT, "RentCancelled"], "DropOffMissed")
ON_PICKUP_TIMED_OUT = ([TIMED_OUT], "CheckCollectDeadline")
ON_RENT_EXPIRED = (["RentExpired"], "ReturnUncollected")
# The waits' limits in seconds: name under ``$.plan.limits`` → the template parameter (a key of the
# state machine's DefinitionSubstitutions) that sets it.
LIMITS = {
    "courier_pickup": "WorkflowCourierPickupTimeoutSeconds",
    "dropoff": "WorkflowDropoffTimeoutSeconds",
    "collect": "WorkflowCollectTimeoutSeconds",
    "home_delivery": "WorkflowHomeDeliveryTimeoutSeconds",
    "blink_end": "WorkflowBlinkEndTimeoutSeconds",
    # courier waits fail when the courier keeper has not sent a heartbeat for this long
    "courier_heartbeat": "CourierHeartbeatSeconds",
}


@dataclass(frozen=True)
class Lane:
    """The states of one courier lane, in the order they run (``reserve``: a locker lane's)."""

    reserve: str | None
    accept: str
    create: str


# Each courier lane — (to a locker?, the plan's courier) — runs its steps in a line: the one Choice
# at the start picks the lane, so no Choice sits between a path's steps (Standard workflows bill
# every state entered). The lanes to a locker share the steps from the courier's pickup on, the
# lanes to the door theirs; the names of the Blink Logistics locker lane are the original ones.
COURIER_FUNCTIONS = {
    CourierProvider.BLINK_LOGISTICS: "CreateBlinkLogisticsTask",
    CourierProvider.DISPATCHNINJA: "CreateDispatchNinjaOrder",
}
LANES = {
    (True, CourierProvider.BLINK_LOGISTICS): Lane("ReserveLocker", "AcceptInBlink", "CreateBlinkLogisticsTask"),
    (True, CourierProvider.DISPATCHNINJA): Lane(
        "ReserveLockerForDispatchNinja", "AcceptForDispatchNinja", "CreateDispatchNinjaOrder"
    ),
    (False, CourierProvider.BLINK_LOGISTICS): Lane(None, "AcceptForDoorDelivery", "CreateBlinkLogisticsTaskToTheDoor"),
    (False, CourierProvider.DISPATCHNINJA): Lane(
        None, "AcceptForDispatchNinjaToTheDoor", "CreateDispatchNinjaOrderToTheDoor"
    ),
}
# What a plan no other rule matches takes: a delivery to the door by Blink Logistics.
DEFAULT_LANE = (False, CourierProvider.BLINK_LOGISTICS)
# No free locker and the branch allows home delivery: the lane to the door of the same courier.
FALLBACK_TO_THE_DOOR = {
    CourierProvider.BLINK_LOGISTICS: "FallBackToHomeDelivery",
    CourierProvider.DISPATCHNINJA: "FallBackToHomeDeliveryByDispatchNinja",
}

states: dict[str, dict[str, Any]] = {}


def payload(**extra: Any) -> dict[str, Any]:
    return {"order_id.$": "$.order_id", "execution.$": "$$.Execution.Name", **extra}


def limit(name: str) -> str:
    """Where a wait reads its limit (seconds): put there by ``PlanOrder``'s ``ResultSelector``."""
    if name not in LIMITS:
        raise KeyError(f"no workflow limit {name!r}; add it to LIMITS")
    return f"$.plan.limits.{name}"


def limits_selector() -> dict[str, str]:
    """Each limit as a number: ``${Parameter}`` is replaced by its value when the stack is deployed
    (DefinitionSubstitutions replace text only, so the value is parsed inside the definition)."""
    return {f"{name}.$": f"States.StringToJson('${{{parameter}}}')" for name, parameter in LIMITS.items()}


def failed_step(step: str) -> str:
    """The Pass state a task's unexpected failure goes through: it names the step for the record."""
    name = f"{step}Failed"
    states[name] = {"Type": "Pass", "Result": step, "ResultPath": "$.failed_step", "Next": "ReleaseLockerOnFailure"}
    return name


def task(
    name: str,
    function: str,
    nxt: str | None,
    *,
    args: dict[str, Any] | None = None,
    result: str | None = None,
    also: dict[str, Any] | None = None,
    catch: Sequence[tuple[list[str], str]] = (),
    fail_to: str | None = None,
    error_path: str = "$.error",
    comment: str | None = None,
) -> None:
    """A Lambda task: ``result`` is where its answer goes (``$.<result>.result``; None: dropped),
    beside the fields in ``also``."""
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": f"${{{function}FunctionArn}}", "Payload": payload(**(args or {}))},
    }
    if comment:
        state["Comment"] = comment
    if result:
        state["ResultSelector"] = {"result.$": "$.Payload", **(also or {})}
        state["ResultPath"] = f"$.{result}"
    else:
        state["ResultPath"] = None
    state["Retry"] = [RETRY_RATE_LIMITED, RETRY_IN_PROGRESS, RETRY_TRANSIENT]
    catches = [{"ErrorEquals": errors, "ResultPath": "$.error", "Next": to} for errors, to in catch]
    catches.append({"ErrorEquals": [CATCH_ALL], "ResultPath": error_path, "Next": fail_to or failed_step(name)})
    state["Catch"] = catches
    if nxt is None:
        state["End"] = True
    else:
        state["Next"] = nxt
    states[name] = state


def wait(
    name: str,
    kind: str,
    timeout: str,
    nxt: str,
    *,
    catch: Sequence[tuple[list[str], str]] = (),
    heartbeat: bool = False,
) -> None:
    """Park on a task token until the order's tracks settle ``kind`` (``workflow.signals``), for at
    most the seconds at the path ``timeout``."""
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": "${RegisterWaitFunctionArn}",
            "Payload": payload(wait=kind, **{"token.$": "$$.Task.Token", "timeout_seconds.$": timeout}),
        },
        "TimeoutSecondsPath": timeout,
        "ResultPath": None,
        "Retry": [RETRY_TRANSIENT],
    }
    if heartbeat:
        state["HeartbeatSecondsPath"] = limit("courier_heartbeat")
    # every wait ends when a person cancels the order (domain.waits: the cancel request is judged first)
    rules = [ON_CANCELLED, *catch]
    state["Catch"] = [{"ErrorEquals": errors, "ResultPath": "$.error", "Next": to} for errors, to in rules]
    state["Catch"].append({"ErrorEquals": [CATCH_ALL], "ResultPath": "$.error", "Next": failed_step(name)})
    state["Next"] = nxt
    states[name] = state


def blink_status(
    name: str,
    status: str,
    nxt: str | None,
    *,
    comment: str | None = None,
    then: Sequence[str] = (),
    **kwargs: Any,
) -> None:
    """Set the order's status in Blink; ``then``: the statuses sent after it in the same invocation."""
    args: dict[str, Any] = {"status": BLINK_STATUS[status]}
    if then:
        args["then"] = [BLINK_STATUS[s] for s in then]
    if comment:
        args["comment"] = comment
    task(name, "SyncOrderStatusToBlink", nxt, args=args, **kwargs)


def reserve_locker(name: str, nxt: str) -> None:
    """Book a locker (in the plan's pickup Bloq, or one of the branch's); none free: ``NoFreeLocker``."""
    task(
        name,
        "ReserveLocker",
        nxt,
        result="rent",
        args={"bloq_id.$": "$.plan.result.pickup_bloq_id"},
        catch=[(["NoLockerAvailable"], "NoFreeLocker")],
    )


def outcome(name: str, what: str, nxt: str | None, *, reason: str | None = None, error: bool = False) -> None:
    args: dict[str, Any] = {"outcome": what}
    if what == "completed":  # the order's path says how it ended (delivered, collected)
        args["path.$"] = "$.plan.result.path"
    if reason:
        args["reason"] = reason
    if error:  # every way here names the step first (a ...Failed / Name... Pass state)
        args.update({"error.$": "$.error", "step.$": "$.failed_step"})
    # Recording the outcome itself failing (after its retries) fails the execution: it is alarmed.
    task(name, "RecordWorkflowOutcome", nxt, args=args, fail_to="Failed", error_path="$.record_error")


def give_up(name: str, record: str, fail: str, *, step: str, outcome_: str, reason: str, error: str) -> None:
    """An unhappy ending: name the step (``name``), record the outcome (``record``), fail (``fail``)."""
    states[name] = {"Type": "Pass", "Result": step, "ResultPath": "$.failed_step", "Next": record}
    outcome(record, outcome_, fail, reason=reason, error=True)
    states[fail] = {"Type": "Fail", "Error": error, "Cause": reason}


def choice(name: str, choices: list[dict[str, Any]], default: str, comment: str | None = None) -> None:
    states[name] = {"Type": "Choice", "Choices": choices, "Default": default}
    if comment:
        states[name]["Comment"] = comment


def is_path(*paths: OrderPath) -> dict[str, Any]:
    rules = [{"Variable": "$.plan.result.path", "StringEquals": p.value} for p in paths]
    return rules[0] if len(rules) == 1 else {"Or": rules}


def is_courier(courier: CourierProvider) -> dict[str, Any]:
    return {"Variable": "$.plan.result.courier", "StringEquals": courier.value}


def lane_rules(first: Callable[[Lane], str]) -> list[dict[str, Any]]:
    """The Choice rules that send a plan to its courier lane's state ``first(lane)``: the rules
    naming a courier before those that do not (the default courier's), and none for the default
    lane (the Choice's ``Default``)."""
    rules = []
    for (to_locker, courier), lane in sorted(LANES.items(), key=lambda item: item[0][1] == DEFAULT_LANE[1]):
        if (to_locker, courier) == DEFAULT_LANE:
            continue
        path = is_path(OrderPath.LOCKER_DELIVERY if to_locker else OrderPath.HOME_DELIVERY)
        rule = path if courier == DEFAULT_LANE[1] else {"And": [path, is_courier(courier)]}
        rules.append({**rule, "Next": first(lane)})
    return rules


def release_rent(names: tuple[str, str, str], after: str, nxt: str, *, tolerate_failure: bool = False) -> None:
    """An order that ends early gives its locker back (``names``: release, check, cancel): an empty
    rent is cancelled and finished (``ReleaseEmptyLocker``); one holding the goods is only cancelled
    (a person collects them). ``tolerate_failure``: a failed release still goes on to ``nxt``."""
    release, check, cancel = names
    task(
        release,
        "ReleaseEmptyLocker",
        check,
        result="release",
        args={"after": after},
        fail_to=nxt if tolerate_failure else None,
        error_path="$.release_error" if tolerate_failure else "$.error",
        comment="an empty rent is cancelled and finished; one holding the goods is only cancelled",
    )
    choice(
        check,
        [
            {
                "And": [
                    {"Variable": "$.release.result.released", "BooleanEquals": False},
                    {"Variable": "$.release.result.rent_id", "IsPresent": True},
                    {"Not": {"Variable": "$.release.result.rent_id", "IsNull": True}},
                ],
                "Next": cancel,
            }
        ],
        nxt,
    )
    task(cancel, "CancelRent", nxt)


def build() -> dict[str, Any]:
    states.clear()
    needs = NEEDS_ATTENTION_ERRORS
    # -- start: plan, submit a partner order, wait for a pre-order's start time, take the lane.
    # One Choice decides each of these (fewer state transitions: Standard workflows bill by them),
    # and from there each lane runs its steps in a line: no Choice between them (LANES).
    submit = {"Variable": "$.plan.result.submit_to_blink", "BooleanEquals": True, "Next": "SubmitToBlink"}
    pre_order = {
        "And": [
            {"Variable": "$.plan.result.start_at", "IsPresent": True},
            {"Not": {"Variable": "$.plan.result.start_at", "IsNull": True}},
        ],
        "Next": "WaitUntilDue",
    }
    paths = [
        *lane_rules(lambda steps: steps.reserve or steps.accept),
        {**is_path(OrderPath.LOCKER_PICKUP), "Next": "ReserveLockerForPickup"},
        {**is_path(*sorted(BLINK_STATUS_PATHS)), "Next": "AcceptForKitchen"},
    ]
    task(
        "PlanOrder",
        "PlanOrder",
        "Route",
        result="plan",
        also={"limits": limits_selector()},
        catch=[ON_CANCELLED, (list(needs), "PlanOrderNeedsAttention")],
    )
    default = LANES[DEFAULT_LANE].accept
    choice("Route", [submit, pre_order, *paths], default)
    task(
        "SubmitToBlink", "SubmitOrderToBlink", "RouteAfterSubmit", catch=[(list(needs), "SubmitToBlinkNeedsAttention")]
    )
    choice("RouteAfterSubmit", [pre_order, *paths], default)
    states["WaitUntilDue"] = {
        "Type": "Wait",
        "Comment": "a pre-order books nothing before due_at minus the lead time",
        "TimestampPath": "$.plan.result.start_at",
        "Next": "RouteWhenDue",
    }
    choice("RouteWhenDue", paths, default)

    # -- the courier lanes: book a locker (to a locker), accept, send the courier, wait for them
    # to have the goods, tell Blink ready and dispatched (one invocation), then the destination.
    destination = {"destination.$": "$.plan.result.path", "attempt.$": "$.plan.result.courier_attempt"}
    on_courier = [ON_COURIER_CANCELLED, ON_REJECTED]
    for (to_locker, courier), steps in LANES.items():
        if steps.reserve:
            reserve_locker(steps.reserve, steps.accept)
        blink_status(steps.accept, "accepted", steps.create)
        handover = "WaitForCourierPickup" if to_locker else "WaitForCourierPickupToTheDoor"
        # A courier booking whose outcome is unknown (VendorOutcomeUnknown: DispatchNINJA has no
        # lookup) waits for a person, who checks at the courier and retries: no blind second booking.
        in_doubt = (["VendorOutcomeUnknown"], f"{steps.create}NeedsAttention")
        task(steps.create, COURIER_FUNCTIONS[courier], handover, args=destination, catch=[in_doubt])
    for handover, told, then in (
        ("WaitForCourierPickup", "MarkReadyAndDispatchedInBlink", "WaitForDropOff"),
        ("WaitForCourierPickupToTheDoor", "MarkReadyAndDispatchedToTheDoor", "WaitForHomeDelivery"),
    ):
        wait(handover, "courier_picked_up", limit("courier_pickup"), told, catch=on_courier, heartbeat=True)
        # Blink's statuses one after the other, as the courier has the goods: ready (6), dispatched (2)
        blink_status(told, "ready", then, then=["dispatched"])
    wait(
        "WaitForHomeDelivery",
        "courier_finished",
        limit("home_delivery"),
        "MarkDeliveredInBlink",
        catch=on_courier,
        heartbeat=True,
    )
    wait(
        "WaitForDropOff",
        "dropoff",
        limit("dropoff"),
        "NotifyCustomer",
        catch=[ON_COURIER_CANCELLED, ON_DROPOFF_MISSED, ON_REJECTED],
    )

    # -- a locker pickup: book a locker in the branch's Bloq, accept; the staff drop the order off
    reserve_locker("ReserveLockerForPickup", "AcceptLockerPickup")
    blink_status("AcceptLockerPickup", "accepted", "WaitForStaffDropOff")
    wait(
        "WaitForStaffDropOff",
        "dropoff",
        limit("dropoff"),
        "MarkPickupReadyInBlink",
        catch=[ON_DROPOFF_MISSED, ON_REJECTED],
    )
    blink_status("MarkPickupReadyInBlink", "ready", "NotifyCustomer")

    # -- no free locker: home delivery (if the branch allows it), the counter (a pickup), or reject
    fallbacks = [
        {
            "And": [
                is_path(OrderPath.LOCKER_DELIVERY),
                {"Variable": "$.plan.result.allow_home_fallback", "BooleanEquals": True},
                *([is_courier(courier)] if (False, courier) != DEFAULT_LANE else []),
            ],
            "Next": FALLBACK_TO_THE_DOOR[courier],
        }
        for courier in sorted(COURIER_FUNCTIONS, key=lambda c: (False, c) == DEFAULT_LANE)
    ]
    choice(
        "NoFreeLocker",
        [*fallbacks, {**is_path(OrderPath.LOCKER_PICKUP), "Next": "FallBackToCounterPickup"}],
        "RejectNoLockerInBlink",
    )
    for courier, name in FALLBACK_TO_THE_DOOR.items():
        states[name] = {
            "Type": "Pass",
            "Result": OrderPath.HOME_DELIVERY.value,
            "ResultPath": "$.plan.result.path",
            "Next": LANES[(False, courier)].accept,
        }
    states["FallBackToCounterPickup"] = {
        "Type": "Pass",
        "Result": OrderPath.COUNTER_PICKUP.value,
        "ResultPath": "$.plan.result.path",
        "Next": "AcceptForKitchen",
    }
    blink_status(
        "RejectNoLockerInBlink",
        "rejected",
        "RecordNoLockerRejection",
        comment="No pickup locker is available for this order",
    )
    outcome("RecordNoLockerRejection", "rejected", None, reason="no free locker and no home delivery fallback")

    # -- the goods are in the locker: tell the customer, wait for them to collect
    task("NotifyCustomer", "NotifyLockerCustomer", "WaitForCustomerPickup")
    # A rent cancelled while the goods are inside cannot be returned (Bloq.It returns only an
    # expired delivery): the failure path records it for a person (the locker is not released).
    on_pickup = [ON_PICKUP_TIMED_OUT, ON_RENT_EXPIRED, ON_REJECTED]
    wait("WaitForCustomerPickup", "pickup", limit("collect"), "MarkDeliveredInBlink", catch=on_pickup)
    task("CheckCollectDeadline", "CheckCollectDeadline", "RentExtended", result="collect")
    choice(
        "RentExtended",
        [{"Variable": "$.collect.result.extended", "BooleanEquals": True, "Next": "WaitForCustomerPickupAgain"}],
        "ReturnUncollected",
        comment="Bloq.It rent.extended moved the expiry: wait until the new one",
    )
    wait(
        "WaitForCustomerPickupAgain",
        "pickup",
        "$.collect.result.timeout_seconds",
        "MarkDeliveredInBlink",
        catch=on_pickup,
    )
    blink_status("MarkDeliveredInBlink", "delivered", "RecordDelivered")
    outcome("RecordDelivered", "completed", None)

    # -- counter pickup, dine-in, the platform's own rider: the kitchen ends it in Blink
    blink_status("AcceptForKitchen", "accepted", "WaitForBlinkCompleted")
    wait(
        "WaitForBlinkCompleted",
        "blink_completed",
        limit("blink_end"),
        "RecordCompleted",
        catch=[ON_REJECTED],
    )
    outcome("RecordCompleted", "completed", None)

    # -- the courier cancelled: one more courier, then give up
    choice(
        "CourierCancelled",
        [{"Variable": "$.plan.result.courier_attempt", "NumericEquals": 1, "Next": "SecondCourierAttempt"}],
        "CourierGaveUp",
        comment="dispatch one more courier, then give up",
    )
    states["SecondCourierAttempt"] = {
        "Type": "Pass",
        "Result": 2,
        "ResultPath": "$.plan.result.courier_attempt",
        "Next": "DispatchCourier",
    }
    choice(
        "DispatchCourier",
        lane_rules(lambda steps: steps.create),
        LANES[DEFAULT_LANE].create,
        comment="the same lane's courier again",
    )
    choice(
        "CourierGaveUp",
        [{**is_path(OrderPath.LOCKER_DELIVERY), "Next": "CancelRentAfterCourier"}],
        "AlertCourierGaveUp",
    )
    task("CancelRentAfterCourier", "CancelRent", "FinishRentAfterCourier")
    task("FinishRentAfterCourier", "FinishRent", "AlertCourierGaveUp")
    give_up(
        "AlertCourierGaveUp",
        "RecordCourierGaveUp",
        "FailCourier",
        step="CourierCancelled",
        outcome_="failed",
        reason="the courier cancelled twice",
        error="CourierCancelled",
    )

    # -- the drop-off deadline passed (or the rent was cancelled before it)
    task("DropOffMissed", "CancelRent", "FinishMissedRent")
    task("FinishMissedRent", "FinishRent", "RejectMissedDropOff")
    blink_status(
        "RejectMissedDropOff", "rejected", "NameMissedDropOff", comment="The order was not put in the locker in time"
    )
    give_up(
        "NameMissedDropOff",
        "RecordMissedDropOff",
        "FailMissedDropOff",
        step="WaitForDropOff",
        outcome_="failed",
        reason="the drop-off deadline passed",
        error="DropOffMissed",
    )

    # -- the customer did not collect: return the delivery
    task("ReturnUncollected", "ReturnExpiredDelivery", "NameUncollected")
    give_up(
        "NameUncollected",
        "RecordUncollected",
        "FailUncollected",
        step="WaitForCustomerPickup",
        outcome_="uncollected",
        reason="the customer did not collect",
        error="Uncollected",
    )

    # -- rejected in Blink while waiting: an empty rent is released, one holding the goods cancelled
    choice(
        "OrderRejected",
        [
            {
                "And": [
                    {"Variable": "$.rent", "IsPresent": True},
                    is_path(OrderPath.LOCKER_DELIVERY, OrderPath.LOCKER_PICKUP),
                ],
                "Next": "ReleaseRentOfRejected",
            }
        ],
        "RecordRejected",
    )
    release_rent(
        ("ReleaseRentOfRejected", "RentStillHoldsTheGoods", "CancelRentOfRejected"),
        "rejected",
        "RecordRejected",
        tolerate_failure=True,
    )
    outcome("RecordRejected", "rejected", None, reason="rejected in Blink")

    # -- cancelled by a person (POST /ops/orders/{id}/cancel): a wait or the plan ends with
    # OrderCancelled. Blink is told rejected (4) with the person's reason (not when Blink has it
    # rejected or delivered already, nor when the order never reached Blink), then the rent goes
    # the rejected order's way; no courier step: neither courier's API offers a cancel (the outcome
    # names a courier job still open). A step failing takes the failure path: cancel it again.
    task(
        "RejectCancelledInBlink",
        "SyncOrderStatusToBlink",
        "ReleaseRentOfCancelled",
        args={"status": BLINK_STATUS["rejected"], "cancelled": True},
        comment="the comment is the cancel request's reason, read from the order",
    )
    release_rent(
        ("ReleaseRentOfCancelled", "CancelledRentStillHoldsTheGoods", "CancelRentOfCancelled"),
        "cancelled",
        "RecordCancelled",
    )
    outcome("RecordCancelled", "cancelled", None, reason="cancelled by a person")

    # -- a person must act (an unmapped item, a refused submission): no retry can help
    for step in ("PlanOrder", "SubmitToBlink", *sorted({lane.create for lane in LANES.values()})):
        states[f"{step}NeedsAttention"] = {
            "Type": "Pass",
            "Result": step,
            "ResultPath": "$.failed_step",
            "Next": "RecordNeedsAttention",
        }
    outcome("RecordNeedsAttention", "needs_attention", "WaitingForAPerson", error=True)
    states["WaitingForAPerson"] = {
        "Type": "Succeed",
        "Comment": "fix what the order's failure says, then POST /ops/orders/{id}/retry",
    }

    # -- anything else: free an empty locker (unless a courier is on its way to it), record, fail
    task(
        "ReleaseLockerOnFailure",
        "ReleaseEmptyLocker",
        "RecordFailure",
        args={"after": "failed"},
        result="release",
        fail_to="RecordFailure",
        error_path="$.release_error",
        comment="free the locker if nothing was dropped off and no courier is on the way to it",
    )
    outcome("RecordFailure", "failed", "Failed", error=True)
    states["Failed"] = {
        "Type": "Fail",
        "Error": "OrderWorkflowFailed",
        "Cause": "see the order's failure in the ops API; resume it once the cause is gone",
    }
    return {
        "Comment": "One order from acceptance to its end (docs/workflow.md). "
        "Generated by statemachine/order_workflow.py: edit that, not this file.",
        "StartAt": "PlanOrder",
        "States": dict(states),
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT} ({len(states)} states)", file=sys.stderr)
