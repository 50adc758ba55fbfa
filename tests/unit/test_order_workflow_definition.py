"""The order workflow's definition: generated from one source, every error name real, every state
reachable (statemachine/order_workflow.py)."""

from __future__ import annotations

import inspect
import json
import runpy
from pathlib import Path

import orderbridge.actions.common as common
import orderbridge.actions.runtime as runtime
import orderbridge.vendors.blink_logistics as blink_logistics
import orderbridge.vendors.credentials as credentials
import orderbridge.vendors.http as http
from orderbridge import errors
from orderbridge.domain import waits
from orderbridge.domain.waits import Verdict, WaitKind

SOURCE = Path(__file__).resolve().parents[2] / "statemachine" / "order_workflow.py"
generator = runpy.run_path(str(SOURCE))
DEFINITION = json.loads(generator["OUTPUT"].read_text())
STATES = DEFINITION["States"]

# Names Step Functions and Lambda raise themselves.
AWS_ERRORS = {"States.ALL", "States.Timeout", "States.HeartbeatTimeout"}
LAMBDA_ERRORS = {e for e in common.RETRYABLE_ERRORS if e.startswith(("Lambda.", "Sandbox."))}
IDEMPOTENCY_ERRORS = {e for e in common.RETRYABLE_ERRORS if e.startswith("Idempotency")}


def exception_names() -> set[str]:
    """Every exception class an action can end with (what Step Functions matches by name)."""
    names: set[str] = set()
    for module in (common, runtime, http, blink_logistics, credentials, errors):
        names |= {n for n, obj in inspect.getmembers(module, inspect.isclass) if issubclass(obj, Exception)}
    return names


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
    known = exception_names() | AWS_ERRORS | LAMBDA_ERRORS | IDEMPOTENCY_ERRORS | wait_verdict_errors()
    named = {
        error
        for state in STATES.values()
        for rule in state.get("Retry", []) + state.get("Catch", [])
        for error in rule["ErrorEquals"]
    }
    assert named - known == set()
    assert {"NoLockerAvailable", "CourierCancelled", "OrderRejected", "VendorRateLimited"} <= named


def test_the_lists_of_errors_are_real_exceptions():
    for name in common.PERMANENT_ERRORS + common.NEEDS_ATTENTION_ERRORS + common.RATE_LIMITED_ERRORS:
        assert name in exception_names(), name
    assert not set(common.RETRYABLE_ERRORS) & set(common.PERMANENT_ERRORS)
    assert Verdict("OrderRejected").error == "OrderRejected" and WaitKind.BLINK_COMPLETED.value == "blink_completed"


def test_every_lambda_task_has_the_one_retry_policy_and_a_catch_all():
    tasks = {name: s for name, s in STATES.items() if s["Type"] == "Task"}
    transient = [r for s in tasks.values() for r in s["Retry"] if "RetryableVendorError" in r["ErrorEquals"]]
    assert len(tasks) == len(transient) and all(r == transient[0] for r in transient)
    assert all(s["Catch"][-1]["ErrorEquals"] == ["States.ALL"] for s in tasks.values())


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
