"""Resuming the workflow: judge an order's open waits against its tracks and send the verdicts.

Late and duplicate callbacks are harmless: a wait is closed (conditionally on its token) before
its verdict is sent, so only one signaller sends it; and Step Functions' answer that a token is
already used or timed out is logged and dropped. Step Functions is reached through the
``Workflow`` gateway (``store.workflow``), which reads its errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from orderbridge.deps import Deps
from orderbridge.domain.waits import COURIER_WAITS, Verdict, WaitKind, verdict
from orderbridge.observability import logger, metrics
from orderbridge.store.waits import Wait, WaitStore
from orderbridge.store.workflow import Workflow, WorkflowUnavailable


@dataclass
class Signaller:
    waits: WaitStore
    workflow: Workflow
    clock: Callable[[], datetime]

    @classmethod
    def of(cls, deps: Deps) -> Signaller:
        return cls(deps.waits, deps.workflow, deps.clock)

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
            if result.error is None:
                taken = self.workflow.succeed(wait.token, {"order_id": wait.order_id, "wait": wait.kind})
            else:
                taken = self.workflow.fail(wait.token, result.error, result.cause)
        except WorkflowUnavailable:
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
        if not taken:
            logger.info("late callback ignored: the wait was already over", extra={"wait": wait.kind})
            return
        metrics.add_metric(name="WaitsResumed" if result.ok else "WaitsFailed", unit=MetricUnit.Count, value=1)
        logger.info("wait over", extra={"wait": wait.kind, "error": result.error})


def start_workflow(workflow: Workflow, order_id: str) -> bool:
    """Start the order's workflow once: the execution is named after the order. False if it
    already exists (a replayed stream record, a resumed order)."""
    if not workflow.start(order_id):
        return False
    metrics.add_metric(name="WorkflowsStarted", unit=MetricUnit.Count, value=1)
    return True
