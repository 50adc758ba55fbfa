"""Resuming the workflow: judge an order's open waits against its tracks and send the verdicts.

Late and duplicate callbacks are harmless: a wait is closed (conditionally on its token) before
its verdict is sent, so only one signaller sends it; and Step Functions' answer that a token is
already used or timed out is logged and dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from orderbridge.domain.waits import COURIER_WAITS, Verdict, WaitKind, verdict
from orderbridge.observability import logger, metrics
from orderbridge.store.waits import Wait, WaitStore

# Step Functions' answers for a token that can no longer be used.
SPENT_TOKEN = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


@dataclass
class Signaller:
    waits: WaitStore
    stepfunctions: Any
    clock: Callable[[], datetime]

    def register(self, order_id: str, kind: WaitKind, token: str, *, timeout_seconds: int) -> Verdict | None:
        """Park on ``token`` until ``kind`` is settled — or settle it now if it already is."""
        expires = int((self.clock() + timedelta(seconds=timeout_seconds + 86400)).timestamp())
        keeper = "courier" if kind in COURIER_WAITS else None
        self.waits.put(order_id, kind.value, token, now=self.clock(), expires_at=expires, keeper=keeper)
        logger.info("waiting", extra={"wait": kind.value, "timeout_seconds": timeout_seconds})
        settled = self.settle(order_id)
        return settled.get(kind.value)

    def settle(self, order_id: str) -> dict[str, Verdict]:
        """Send the verdict of every open wait of the order that its tracks now settle."""
        tracks = self.waits.tracks(order_id)
        if tracks is None:
            return {}
        sent: dict[str, Verdict] = {}
        for wait in self.waits.open_waits(order_id):
            result = verdict(WaitKind(wait.kind), tracks)
            if result is not None and self.waits.close(wait):
                self._send(wait, result)
                sent[wait.kind] = result
        return sent

    def _send(self, wait: Wait, result: Verdict) -> None:
        try:
            if result.ok:
                self.stepfunctions.send_task_success(
                    taskToken=wait.token, output=json.dumps({"order_id": wait.order_id, "wait": wait.kind})
                )
            else:
                self.stepfunctions.send_task_failure(taskToken=wait.token, error=result.error, cause=result.cause)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in SPENT_TOKEN:
                # Step Functions did not take the verdict: put the wait back for the stream's retry.
                self.waits.put(
                    wait.order_id,
                    wait.kind,
                    wait.token,
                    now=self.clock(),
                    expires_at=wait.expires_at,
                    keeper="courier" if WaitKind(wait.kind) in COURIER_WAITS else None,
                )
                raise
            logger.info("late callback ignored: the wait was already over", extra={"wait": wait.kind, "code": code})
            return
        metrics.add_metric(name="WaitsResumed" if result.ok else "WaitsFailed", unit=MetricUnit.Count, value=1)
        logger.info("wait over", extra={"wait": wait.kind, "error": result.error})


def start_workflow(stepfunctions: Any, state_machine_arn: str, order_id: str) -> bool:
    """Start the order's workflow once: the execution is named after the order. False if it
    already exists (a replayed stream record, a resumed order)."""
    try:
        stepfunctions.start_execution(
            stateMachineArn=state_machine_arn, name=order_id, input=json.dumps({"order_id": order_id})
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return False
        raise
    metrics.add_metric(name="WorkflowsStarted", unit=MetricUnit.Count, value=1)
    return True
