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
}
# Ours that never end a workflow task: the HTTP front's (webhooks, ops API) ...
HTTP_FRONT_ERRORS = {"BadRequest", "PayloadTooLarge", "InvalidPayload", "Unauthorized", "UnknownPartner"}
HTTP_FRONT_ERRORS |= {"UnknownBranch", "Conflict"}
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
    lists = common.RETRYABLE_ERRORS + common.RATE_LIMITED_ERRORS + common.PERMANENT_ERRORS
    assert set(lists + common.NEEDS_ATTENTION_ERRORS) - known == set()
    assert set(common.NEEDS_ATTENTION_ERRORS) <= set(common.PERMANENT_ERRORS)
    assert Verdict("OrderRejected").error == "OrderRejected" and WaitKind.BLINK_COMPLETED.value == "blink_completed"


def test_every_exception_a_task_can_end_with_is_retried_or_permanent_by_decision():
    # Given the exceptions of ours a task can end with, and the three lists the workflow's Retry
    # rules are built from (PERMANENT_ERRORS: the ones no Retry names, on purpose)
    lists = (common.RETRYABLE_ERRORS, common.RATE_LIMITED_ERRORS, common.PERMANENT_ERRORS)
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
    policies = [generator["RETRY_TRANSIENT"], generator["RETRY_RATE_LIMITED"]]
    # Then every Retry rule of the definition is one of them, each written once in the source
    assert all(rule in policies for state in STATES.values() for rule in state.get("Retry", []))
    assert SOURCE.read_text().count('"MaxAttempts"') == len(policies)
    assert policies[0]["ErrorEquals"] == list(common.RETRYABLE_ERRORS)
    assert policies[1]["ErrorEquals"] == list(common.RATE_LIMITED_ERRORS)
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
