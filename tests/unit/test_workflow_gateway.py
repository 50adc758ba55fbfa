"""The Workflow gateway is the one place that reads Step Functions' errors: the answers that are
results (an execution already started or not there, a spent task token) come back as values, any
other failure as WorkflowUnavailable, a retryable ServiceUnavailable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from orderbridge.errors import ServiceUnavailable
from orderbridge.store.workflow import Workflow, WorkflowUnavailable

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:orders"


class FakeStepFunctions:
    """Answers every call with ``answer``, or raises ``error``; records the calls."""

    def __init__(self, *, error: Exception | None = None, answer: dict[str, Any] | None = None) -> None:
        self.error = error
        self.answer = answer or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((operation, kwargs))
            if self.error is not None:
                raise self.error
            return self.answer

        return call


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "refused"}}, "Operation")


def test_start_names_the_execution_after_the_order_and_passes_its_id():
    client = FakeStepFunctions(answer={"executionArn": "arn:x"})

    assert Workflow(client, MACHINE).start("o-1") is True

    [(operation, kwargs)] = client.calls
    assert operation == "start_execution"
    assert kwargs == {"stateMachineArn": MACHINE, "name": "o-1", "input": json.dumps({"order_id": "o-1"})}


def test_a_resumed_execution_has_its_own_name():
    client = FakeStepFunctions()
    Workflow(client, MACHINE).start("o-1", name="o-1-r2")
    assert client.calls[0][1]["name"] == "o-1-r2"


def test_an_execution_that_already_exists_is_not_started_again():
    assert Workflow(FakeStepFunctions(error=refused("ExecutionAlreadyExists")), MACHINE).start("o-1") is False


def test_the_status_of_a_named_execution_is_read_from_its_arn():
    client = FakeStepFunctions(answer={"status": "RUNNING"})

    assert Workflow(client, MACHINE).status("o-1-r1") == "RUNNING"
    assert client.calls == [
        ("describe_execution", {"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:orders:o-1-r1"})
    ]


def test_an_execution_that_does_not_exist_has_no_status():
    assert Workflow(FakeStepFunctions(error=refused("ExecutionDoesNotExist")), MACHINE).status("o-1") is None


@pytest.mark.parametrize("code", ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"])
def test_a_spent_token_is_a_result_for_every_send(code):
    workflow = Workflow(FakeStepFunctions(error=refused(code)), MACHINE)
    assert workflow.succeed("tok", {"order_id": "o-1"}) is False
    assert workflow.fail("tok", "RentExpired", "the rent expired") is False
    assert workflow.heartbeat("tok") is False


def test_verdicts_and_heartbeats_reach_the_token():
    client = FakeStepFunctions()
    workflow = Workflow(client, MACHINE)

    assert workflow.succeed("t1", {"order_id": "o-1", "wait": "dropoff"}) is True
    assert workflow.fail("t2", "RentExpired", "expired") is True
    assert workflow.heartbeat("t3") is True

    assert client.calls == [
        ("send_task_success", {"taskToken": "t1", "output": json.dumps({"order_id": "o-1", "wait": "dropoff"})}),
        ("send_task_failure", {"taskToken": "t2", "error": "RentExpired", "cause": "expired"}),
        ("send_task_heartbeat", {"taskToken": "t3"}),
    ]


@pytest.mark.parametrize(
    "error", [refused("ThrottlingException"), refused("ServiceUnavailable"), EndpointConnectionError(endpoint_url="x")]
)
def test_any_other_failure_is_retryable_and_keeps_its_cause(error):
    workflow = Workflow(FakeStepFunctions(error=error), MACHINE)
    for call in (
        lambda: workflow.start("o-1"),
        lambda: workflow.status("o-1"),
        lambda: workflow.succeed("tok", {}),
        lambda: workflow.fail("tok", "E", "c"),
        lambda: workflow.heartbeat("tok"),
    ):
        with pytest.raises(WorkflowUnavailable) as raised:
            call()
        assert isinstance(raised.value, ServiceUnavailable) and raised.value.status_code == 503
        assert raised.value.__cause__ is error
