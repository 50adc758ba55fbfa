"""The order workflow's definition: generated from one source, every error name real, every
exception classified, every state reachable, every wait limit a template parameter
(statemachine/order_workflow.py)."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import runpy
from pathlib import Path

import aws_lambda_powertools.utilities.idempotency.exceptions as idempotency
import orderbridge
import orderbridge.actions.common as common
import pytest
from orderbridge.domain import waits
from orderbridge.domain.waits import Verdict, WaitKind
from orderbridge.errors import OrderbridgeError
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "statemachine" / "order_workflow.py"
generator = runpy.run_path(str(SOURCE))
DEFINITION = json.loads(generator["OUTPUT"].read_text())
STATES = DEFINITION["States"]
TEMPLATE = yaml_parse((ROOT / "template.yaml").read_text())
WORKFLOW = TEMPLATE["Resources"]["OrderWorkflow"]["Properties"]

# Names Step Functions gives errors itself: a task's own timeouts, and the catch-all.
STATES_ERRORS = {"States.ALL", "States.Timeout", "States.HeartbeatTimeout"}
# The names Step Functions gives a Lambda invocation's own failures (Step Functions guide, "Handle
# Lambda service exceptions"; Lambda guide, "Troubleshoot invocation issues").
LAMBDA_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
    "Sandbox.Timedout",
    "Runtime.ExitError",  # the function's process ended mid-invocation (killed, out of memory)
}
# Ours that never end a workflow task: the HTTP front's (webhooks, ops API) ...
HTTP_FRONT_ERRORS = {"BadRequest", "PayloadTooLarge", "InvalidPayload", "Unauthorized", "UnknownPartner"}
HTTP_FRONT_ERRORS |= {"UnknownBranch", "Conflict"}
# ... the ops API's sign-in (the authorizer) and its configuration writes ...
HTTP_FRONT_ERRORS |= {"AuthUnauthorized", "ConfigPartlyApplied"}
# ... base classes nothing raises as such, and what is turned into another error before it leaves
# (PlanRefused → ActionRefused in plan_order). The store's own signals (exceptions of
# ``orderbridge.store`` that are not an OrderbridgeError: a failed condition, a missing secret) are
# turned into its answer or its caller's error, and are left out below.
NEVER_LEAVE_A_TASK = {"OrderbridgeError", "VendorError", "PlanRefused"}
# Modules no workflow task runs: the scheduled syncs and the ops API's use cases.
NOT_RUN_BY_A_TASK = ("orderbridge.syncs.", "orderbridge.ops")


def our_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined in ``orderbridge``, by name (Step Functions matches a task's
    error by its exception's class name, exactly: not by base class)."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(orderbridge.__path__, "orderbridge."):
        module = importlib.import_module(info.name)
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[name] = obj
    return found


def task_exceptions() -> set[str]:
    """The exceptions of ours a workflow task (an action or a workflow step) can end with."""
    return {
        name
        for name, cls in our_exceptions().items()
        if name not in HTTP_FRONT_ERRORS | NEVER_LEAVE_A_TASK
        and not (cls.__module__.startswith("orderbridge.store.") and not issubclass(cls, OrderbridgeError))
        and not cls.__module__.startswith(NOT_RUN_BY_A_TASK)
    }


def idempotency_errors() -> set[str]:
    """Powertools idempotency's exceptions (an action's idempotency may end with them)."""
    return {
        name
        for name, obj in inspect.getmembers(idempotency, inspect.isclass)
        if issubclass(obj, Exception) and obj.__module__ == idempotency.__name__
    }


def wait_verdict_errors() -> set[str]:
    """The errors a wait is failed with (``domain.waits.verdict`` over every track value)."""
    source = inspect.getsource(waits)
    return {
        name
        for name in ("OrderRejected", "CourierCancelled", "RentExpired", "RentCancelled")
        if f'Verdict("{name}"' in source
    }


def test_the_committed_definition_is_the_generators_output():
    assert generator["OUTPUT"].read_text() == generator["render"](), (
        "run: .venv/bin/python statemachine/order_workflow.py"
    )


def test_every_error_named_in_a_retry_or_catch_can_happen():
    # Given every name a task can end with: ours, Powertools idempotency's, Lambda's, Step Functions'
    known = task_exceptions() | idempotency_errors() | LAMBDA_ERRORS | STATES_ERRORS | wait_verdict_errors()
    # When the definition's Retry and Catch rules are read
    named = {
        error
        for state in STATES.values()
        for rule in state.get("Retry", []) + state.get("Catch", [])
        for error in rule["ErrorEquals"]
    }
    # Then each of their names is one of those (a typo, or a renamed exception, fails here)
    assert named - known == set()
    assert {"NoLockerAvailable", "CourierCancelled", "OrderRejected", "VendorRateLimited"} <= named


def test_the_lists_of_errors_are_real_exceptions():
    known = task_exceptions() | idempotency_errors() | LAMBDA_ERRORS
    lists = common.RETRYABLE_ERRORS + common.RATE_LIMITED_ERRORS + common.IN_PROGRESS_ERRORS + common.PERMANENT_ERRORS
    assert set(lists + common.NEEDS_ATTENTION_ERRORS) - known == set()
    assert set(common.NEEDS_ATTENTION_ERRORS) <= set(common.PERMANENT_ERRORS)
    assert Verdict("OrderRejected").error == "OrderRejected" and WaitKind.BLINK_COMPLETED.value == "blink_completed"


def test_every_exception_a_task_can_end_with_is_retried_or_permanent_by_decision():
    # Given the exceptions of ours a task can end with, and the three lists the workflow's Retry
    # rules are built from (PERMANENT_ERRORS: the ones no Retry names, on purpose)
    lists = (common.RETRYABLE_ERRORS, common.RATE_LIMITED_ERRORS, common.IN_PROGRESS_ERRORS, common.PERMANENT_ERRORS)
    # Then each is in exactly one list: a new exception (a subclass too: ErrorEquals matches the
    # exact name) is classified in actions/common.py, or listed above as never leaving a task
    unclassified = {name for name in task_exceptions() if sum(name in names for names in lists) != 1}
    assert unclassified == set()


def test_every_lambda_task_has_the_one_retry_policy_and_a_catch_all():
    tasks = {name: s for name, s in STATES.items() if s["Type"] == "Task"}
    transient = [r for s in tasks.values() for r in s["Retry"] if "RetryableVendorError" in r["ErrorEquals"]]
    assert len(tasks) == len(transient) and all(r == transient[0] for r in transient)
    assert all(s["Catch"][-1]["ErrorEquals"] == ["States.ALL"] for s in tasks.values())


def test_each_retry_policy_is_written_once_in_the_source():
    # Given the generator's two retry policies
    policies = [generator["RETRY_TRANSIENT"], generator["RETRY_RATE_LIMITED"], generator["RETRY_IN_PROGRESS"]]
    # Then every Retry rule of the definition is one of them, each written once in the source
    assert all(rule in policies for state in STATES.values() for rule in state.get("Retry", []))
    assert SOURCE.read_text().count('"MaxAttempts"') == len(policies)
    assert policies[0]["ErrorEquals"] == list(common.RETRYABLE_ERRORS)
    assert policies[1]["ErrorEquals"] == list(common.RATE_LIMITED_ERRORS)
    assert policies[2]["ErrorEquals"] == list(common.IN_PROGRESS_ERRORS)
    assert not set(common.PERMANENT_ERRORS) & {e for p in policies for e in p["ErrorEquals"]}


def test_every_placeholder_is_a_definition_substitution_of_the_template():
    # Given the definition's ${...} placeholders and the state machine's DefinitionSubstitutions
    placeholders = set(re.findall(r"\$\{(\w+)\}", generator["OUTPUT"].read_text()))
    substitutions = WORKFLOW["DefinitionSubstitutions"]
    # Then each side has exactly the other's names
    assert placeholders == set(substitutions)


def test_every_wait_limit_is_a_template_parameter_read_by_the_definition():
    limits = generator["LIMITS"]
    selector = STATES["PlanOrder"]["ResultSelector"]["limits"]
    for name, parameter in limits.items():
        # Given a wait limit: a whole number of seconds the operator sets as a template parameter
        spec = TEMPLATE["Parameters"][parameter]
        assert (spec["Type"], spec["MinValue"]) == ("Number", 1)
        assert isinstance(spec["Default"], int)
        # Then it reaches the definition in one hop: DefinitionSubstitutions → PlanOrder's result
        assert WORKFLOW["DefinitionSubstitutions"][parameter] == {"Ref": parameter}
        assert selector[f"{name}.$"] == f"States.StringToJson('${{{parameter}}}')"
    # And no function's environment carries a wait limit any more
    environment = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert not [v for v in environment.values() if v in [{"Ref": p} for p in limits.values()]]


def test_every_wait_reads_its_limits_from_the_plan_or_from_the_collect_check():
    waits_ = {name: s for name, s in STATES.items() if s.get("Resource", "").endswith(".waitForTaskToken")}
    read = {s["TimeoutSecondsPath"] for s in waits_.values()} | {
        s["HeartbeatSecondsPath"] for s in waits_.values() if "HeartbeatSecondsPath" in s
    }
    limits = {f"$.plan.limits.{name}" for name in generator["LIMITS"]}
    # The extended collect wait: until the rent's new expiry, decided at run time
    assert read == limits | {"$.collect.result.timeout_seconds"}
    assert all(s["Parameters"]["Payload"]["timeout_seconds.$"] == s["TimeoutSecondsPath"] for s in waits_.values())


def test_every_state_is_reachable_and_every_transition_lands_on_a_state():
    def targets(state: dict) -> list[str]:
        found = [state.get("Next"), state.get("Default")] + [c["Next"] for c in state.get("Choices", [])]
        return [t for t in found + [c["Next"] for c in state.get("Catch", [])] if t]

    seen, todo = set(), [DEFINITION["StartAt"]]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += targets(STATES[name])
    assert seen == set(STATES)


def test_every_task_names_its_execution_for_the_idempotency_key():
    lambdas = [s for s in STATES.values() if s["Type"] == "Task"]
    assert all(s["Parameters"]["Payload"]["execution.$"] == "$$.Execution.Name" for s in lambdas)


def test_a_crashed_runs_in_progress_record_is_waited_out_not_raced():
    # Given the longest Timeout of a function the workflow invokes (a crashed invocation's
    # idempotency record stays "in progress" until then)
    resources = TEMPLATE["Resources"]
    invoked = set(re.findall(r"\$\{(\w+)FunctionArn\}", generator["OUTPUT"].read_text()))
    default = TEMPLATE["Globals"]["Function"]["Timeout"]
    longest = max(resources[f"{name}Function"]["Properties"].get("Timeout", default) for name in invoked)
    # Then every Lambda task waits longer than that before its first retry of an in-progress run,
    # and a killed worker's Runtime.ExitError is retried like any transient failure
    rule = generator["RETRY_IN_PROGRESS"]
    assert rule["IntervalSeconds"] > longest
    tasks = [s for s in STATES.values() if s["Type"] == "Task" and "waitForTaskToken" not in s["Resource"]]
    assert tasks and all(rule in s["Retry"] for s in tasks)
    assert "Runtime.ExitError" in generator["RETRY_TRANSIENT"]["ErrorEquals"]


# -- what a path costs: state transitions (counted, not timed) -------------------------------------
#
# A Standard workflow is billed per state transition: every state entered (a retry too) is one.
# The happy paths below are walked through the committed definition from the plan PlanOrder returns,
# every task and wait succeeding; a change that adds a state to a path fails here before it costs.

TRANSITION_BUDGET = {
    "locker delivery": 12,
    "locker delivery by DispatchNINJA": 12,
    "home delivery": 9,
    "home delivery by DispatchNINJA": 9,
    "locker pickup": 10,
    "counter pickup": 5,
    "dine-in": 5,
}


def a_plan(path: str, courier: str | None, **changes: object) -> dict[str, object]:
    """What PlanOrder returns (``domain.plan.OrderPlan``, as JSON) for a Blink order due now."""
    plan = {
        "order_id": "o-1",
        "merchant_id": "m-1",
        "source": "blink",
        "order_type": "DELIVERY",
        "path": path,
        "courier": courier,
        "courier_attempt": 1,
        "locker": path in ("locker_delivery", "locker_pickup"),
        "pickup_bloq_id": None,
        "allow_home_fallback": True,
        "submit_to_blink": False,
        "start_at": None,
    }
    return {**plan, **changes}


PLANS = {
    "locker delivery": a_plan("locker_delivery", "blink_logistics"),
    "locker delivery by DispatchNINJA": a_plan("locker_delivery", "dispatchninja"),
    "home delivery": a_plan("home_delivery", "blink_logistics"),
    "home delivery by DispatchNINJA": a_plan("home_delivery", "dispatchninja"),
    "locker pickup": a_plan("locker_pickup", None, order_type="PICK-UP", pickup_bloq_id="b-1"),
    "counter pickup": a_plan("counter_pickup", None, order_type="PICK-UP"),
    "dine-in": a_plan("dine_in", None, order_type="DINE-IN"),
}


def _read(document: dict, path: str) -> tuple[bool, object]:
    """(present, value) at a JSONPath of the simple form ``$.a.b.c``."""
    found: object = document
    for key in path.removeprefix("$.").split("."):
        if not isinstance(found, dict) or key not in found:
            return False, None
        found = found[key]
    return True, found


def _holds(rule: dict, document: dict) -> bool:
    """A Choice rule, with the operators the definition uses."""
    if "And" in rule:
        return all(_holds(r, document) for r in rule["And"])
    if "Or" in rule:
        return any(_holds(r, document) for r in rule["Or"])
    if "Not" in rule:
        return not _holds(rule["Not"], document)
    present, value = _read(document, rule["Variable"])
    if "IsPresent" in rule:
        return present is rule["IsPresent"]
    assert present, f"{rule['Variable']} is not in the state's input: Step Functions fails the execution"
    if "IsNull" in rule:
        return (value is None) is rule["IsNull"]
    operators = {"StringEquals": str, "BooleanEquals": bool, "NumericEquals": int}
    (operator,) = [o for o in operators if o in rule]
    return isinstance(value, operators[operator]) and value == rule[operator]


def happy_path(plan: dict) -> list[str]:
    """The states one execution enters when PlanOrder answers ``plan`` and every task and wait
    succeeds (the tasks' answers other than the plan's do not steer a happy path)."""
    document: dict = {"order_id": "o-1"}
    entered, name = [], DEFINITION["StartAt"]
    while name is not None:
        entered.append(name)
        assert len(entered) < 60, f"a loop: {entered}"
        state = STATES[name]
        if name == "PlanOrder":
            document["plan"] = {"result": plan, "limits": {}}
        if state["Type"] == "Choice":
            name = next((r["Next"] for r in state["Choices"] if _holds(r, document)), state.get("Default"))
        elif state["Type"] == "Pass" and "Result" in state:
            keys = state["ResultPath"].removeprefix("$.").split(".")
            target = document
            for key in keys[:-1]:
                target = target.setdefault(key, {})
            target[keys[-1]] = state["Result"]
            name = state.get("Next")
        else:
            name = None if state.get("End") or state["Type"] in ("Succeed", "Fail") else state["Next"]
    return entered


def blink_statuses(entered: list[str]) -> list[int]:
    """The Blink statuses the states entered send, in order."""
    sent = []
    for name in entered:
        payload = STATES[name].get("Parameters", {}).get("Payload", {})
        if STATES[name].get("Parameters", {}).get("FunctionName") == "${SyncOrderStatusToBlinkFunctionArn}":
            sent += [payload["status"], *payload.get("then", [])]
    return sent


@pytest.mark.parametrize("label", sorted(TRANSITION_BUDGET))
def test_each_happy_path_stays_within_its_state_transition_budget(label):
    # Given the plan of an order of that kind
    plan = PLANS[label]
    # When its execution runs with every task and wait succeeding
    entered = happy_path(plan)
    # Then it ends where it should, and enters no more states than its budget allows
    assert entered[-1] in ("RecordDelivered", "RecordCompleted"), entered
    assert len(entered) <= TRANSITION_BUDGET[label], f"{label}: {len(entered)} transitions: {entered}"


def test_the_locker_delivery_runs_in_a_line_after_the_one_choice():
    entered = happy_path(PLANS["locker delivery"])
    assert entered == [
        "PlanOrder",
        "Route",
        "ReserveLocker",
        "AcceptInBlink",
        "CreateBlinkLogisticsTask",
        "WaitForCourierPickup",
        "MarkReadyAndDispatchedInBlink",
        "WaitForDropOff",
        "NotifyCustomer",
        "WaitForCustomerPickup",
        "MarkDeliveredInBlink",
        "RecordDelivered",
    ]
    assert [STATES[name]["Type"] for name in entered].count("Choice") == 1


@pytest.mark.parametrize(
    ("label", "statuses", "courier_task"),
    [
        ("locker delivery", [1, 6, 2, 3], "${CreateBlinkLogisticsTaskFunctionArn}"),
        ("locker delivery by DispatchNINJA", [1, 6, 2, 3], "${CreateDispatchNinjaOrderFunctionArn}"),
        ("home delivery", [1, 6, 2, 3], "${CreateBlinkLogisticsTaskFunctionArn}"),
        ("home delivery by DispatchNINJA", [1, 6, 2, 3], "${CreateDispatchNinjaOrderFunctionArn}"),
        ("locker pickup", [1, 6, 3], None),
        ("counter pickup", [1], None),
    ],
)
def test_each_lane_tells_blink_its_statuses_in_order_and_sends_its_own_courier(label, statuses, courier_task):
    entered = happy_path(PLANS[label])
    assert blink_statuses(entered) == statuses
    couriers = {
        STATES[n]["Parameters"]["FunctionName"]
        for n in entered
        if STATES[n].get("Parameters", {}).get("FunctionName", "").startswith("${Create")
    }
    assert couriers == ({courier_task} if courier_task else set())
    waits_entered = [n for n in entered if STATES[n].get("Resource", "").endswith(".waitForTaskToken")]
    to_locker = PLANS[label]["path"] == "locker_delivery"
    assert ("WaitForDropOff" in waits_entered) is to_locker and ("WaitForHomeDelivery" in waits_entered) is (
        PLANS[label]["path"] == "home_delivery"
    )


def test_a_pre_order_and_a_partner_order_reach_the_same_lane():
    lane = happy_path(PLANS["locker delivery"])[2:]
    pre_order = happy_path({**PLANS["locker delivery"], "start_at": "2026-12-01T12:00:00+00:00"})
    partner = happy_path({**PLANS["locker delivery"], "submit_to_blink": True})
    assert pre_order[:4] == ["PlanOrder", "Route", "WaitUntilDue", "RouteWhenDue"] and pre_order[4:] == lane
    assert partner[:4] == ["PlanOrder", "Route", "SubmitToBlink", "RouteAfterSubmit"] and partner[4:] == lane


def test_a_booking_or_submission_in_doubt_waits_for_a_person_instead_of_failing():
    # Given the tasks that call a vendor offering no lookup (Blink submitOrder, a DispatchNINJA booking)
    in_doubt = [
        name
        for name, s in STATES.items()
        if s["Type"] == "Task"
        and any(f in json.dumps(s["Parameters"]) for f in ("SubmitOrderToBlink", "CreateDispatchNinja"))
    ]
    # Then each catches VendorOutcomeUnknown into the needs-attention path (a person checks at the
    # vendor, then retries), not into the failure path that a resume would only repeat
    assert in_doubt
    for name in in_doubt:
        targets = [c["Next"] for c in STATES[name]["Catch"] if "VendorOutcomeUnknown" in c["ErrorEquals"]]
        assert targets and STATES[targets[0]]["Next"] == "RecordNeedsAttention", name
