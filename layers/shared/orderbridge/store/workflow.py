"""The order workflow's gateway: every Step Functions call the code makes, by name.

This is the one place that reads Step Functions' errors: an execution that already exists, one
that does not, a task token that can no longer be used become results (``False``/``None``); any
other failure becomes :class:`WorkflowUnavailable`, a retryable :class:`ServiceUnavailable`.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orderbridge.errors import ServiceUnavailable

# Step Functions' answers for a task token that can no longer be used: the execution moved on,
# ended, or the task timed out.
SPENT_TOKEN = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


class WorkflowUnavailable(ServiceUnavailable):
    """Step Functions did not take the call (throttled, down, refused): the caller should retry."""


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _unavailable(error: ClientError | BotoCoreError, operation: str) -> WorkflowUnavailable:
    code = _code(error) if isinstance(error, ClientError) else type(error).__name__
    return WorkflowUnavailable(f"Step Functions {operation} failed ({code}); please retry")


class Workflow:
    """The order workflow (one state machine): start an order's execution, read one's status,
    send a wait's verdict or heartbeat through its task token."""

    def __init__(self, stepfunctions: Any, state_machine_arn: str) -> None:
        self.client = stepfunctions
        self.state_machine_arn = state_machine_arn

    def start(self, order_id: str, *, name: str | None = None) -> bool:
        """Start an execution for the order, named ``name`` (the order's id by default, so an
        order's first workflow starts once). False if an execution of that name already exists."""
        started = self._call(
            "start_execution",
            frozenset({"ExecutionAlreadyExists"}),
            stateMachineArn=self.state_machine_arn,
            name=name or order_id,
            input=json.dumps({"order_id": order_id}),
        )
        return started is not None

    def status(self, name: str) -> str | None:
        """The status of the execution named ``name`` (``RUNNING``, ``SUCCEEDED``...); None if there
        is none."""
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
        execution = self._call("describe_execution", frozenset({"ExecutionDoesNotExist"}), executionArn=arn)
        return None if execution is None else str(execution["status"])

    def stop(self, name: str, *, error: str, cause: str) -> bool:
        """Stop the running execution named ``name`` (``error``, ``cause``: why, in its history).
        False if there is no such execution (stopping one that has ended changes nothing)."""
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
        stopped = self._call(
            "stop_execution", frozenset({"ExecutionDoesNotExist"}), executionArn=arn, error=error, cause=cause
        )
        return stopped is not None

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        """Resume the task waiting on ``token`` with ``output``. False if the token is spent."""
        return self._call("send_task_success", SPENT_TOKEN, taskToken=token, output=json.dumps(output)) is not None

    def fail(self, token: str, error: str, cause: str | None) -> bool:
        """Fail the task waiting on ``token`` with ``error`` (the name a ``Catch`` matches). False if
        the token is spent."""
        return self._call("send_task_failure", SPENT_TOKEN, taskToken=token, error=error, cause=cause) is not None

    def heartbeat(self, token: str) -> bool:
        """Tell the task waiting on ``token`` that its wait is kept. False if the token is spent."""
        return self._call("send_task_heartbeat", SPENT_TOKEN, taskToken=token) is not None

    def _call(self, operation: str, answered: frozenset[str], **kwargs: Any) -> dict[str, Any] | None:
        """Step Functions' answer to ``operation``; None when it refused with one of the
        ``answered`` error codes (a result for the caller, not a failure)."""
        try:
            answer = getattr(self.client, operation)(**kwargs)
        except ClientError as error:
            if _code(error) in answered:
                return None
            raise _unavailable(error, operation) from error
        except BotoCoreError as error:
            raise _unavailable(error, operation) from error
        return dict(answer or {})
