"""A vendor asking for more time than the function has does not fail the order (issue 8, point 6).

Blink answers ``syncOrderStatus`` with 429 and ``Retry-After: 45`` for about 45 s, while the
function that calls it (SyncOrderStatusToBlinkFunction) has 30 s. The client must not sleep into
the function's timeout: each attempt ends at once as a ``VendorRateLimited`` (a
``RetryableVendorError``, the vendor's wait kept on it), and the workflow's own ``Retry`` carries
the order past the fault — no Lambda timeout, no failed order. Driven only through the
sandboxes, with the e2e driver (flow.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.e2e.flow import LOCKER_BRANCH, Flow, Placed

pytestmark = pytest.mark.e2e

SYNC_ORDER_STATUS = "/interface/v1/syncOrderStatus"
RETRY_AFTER_SECONDS = 45
FAULT_SECONDS = 45
ACCEPTED = 1
# Errors that would mean the function ran into its own timeout instead of ending the call itself.
LAMBDA_TIMEOUTS = {"Sandbox.Timedout", "Lambda.Unknown", "States.Timeout"}


@contextmanager
def blink_rate_limited(driver: Flow, seconds: float) -> Iterator[threading.Event]:
    """Blink answers syncOrderStatus (only) with 429 "Retry-After: 45" until ``seconds`` have
    passed; the event is set once the fault is cleared. Cleared on the way out whatever happens."""
    faults_url = f"{driver.sandbox('blink')}/_admin/faults"
    cleared = threading.Event()

    def clear() -> None:
        with httpx.Client(timeout=10.0, trust_env=False) as client:
            client.delete(faults_url).raise_for_status()
        cleared.set()

    driver.admin(
        "blink",
        "POST",
        "/_admin/faults",
        json={
            "error_rate": 1.0,
            "status_code": 429,
            "retry_after_seconds": RETRY_AFTER_SECONDS,
            "paths": [SYNC_ORDER_STATUS],
        },
    )
    timer = threading.Timer(seconds, clear)
    timer.daemon = True
    timer.start()
    try:
        yield cleared
    finally:
        timer.cancel()
        if not cleared.is_set():
            clear()


def sync_answers(driver: Flow, placed: Placed) -> list[dict[str, Any]]:
    """Every syncOrderStatus request Blink received about the order, with what it answered."""
    answers = driver.admin("blink", "GET", "/_admin/requests", params={"path": SYNC_ORDER_STATUS})
    return [a for a in answers if str((a["body"] or {}).get("blink_order_id")) == placed.blink_order_id]


def task_failures(driver: Flow, placed: Placed) -> list[str]:
    return [e["taskFailedEventDetails"]["error"] for e in driver.history(placed.order_id) if e["type"] == "TaskFailed"]


def test_a_429_with_retry_after_45_in_a_30_s_function_does_not_fail_the_order(flow: Flow) -> None:
    # Given Blink rate limiting syncOrderStatus with "Retry-After: 45" for 45 s
    with blink_rate_limited(flow, FAULT_SECONDS) as cleared:
        # When a dine-in order is placed in Blink (its workflow only syncs the status to Blink)
        placed = flow.place(type="DINE-IN", branch_id=LOCKER_BRANCH)

        # Then while the fault holds, Blink is asked and answers 429 with the header ...
        flow.wait_for(
            placed,
            lambda: any(a["status"] == 429 and a["fault"] == "error" for a in sync_answers(flow, placed)),
            "a rate-limited syncOrderStatus",
            timeout=40,
        )
        # ... and the order has not failed: the attempt ended as a retryable error, in time
        assert flow.execution_status(placed.order_id) == "RUNNING", flow.report(placed)
        assert ACCEPTED not in flow.blink_statuses(placed.blink_order_id), flow.report(placed)
        assert cleared.wait(FAULT_SECONDS + 10), "the fault was not cleared"

    # And once the fault has cleared, Blink is told the order is accepted
    flow.wait_for(
        placed, lambda: ACCEPTED in flow.blink_statuses(placed.blink_order_id), "Blink told accepted", timeout=120
    )
    report = flow.report(placed)
    # by the same workflow, which is still going (or done) — not failed
    assert flow.execution_status(placed.order_id) in ("RUNNING", "SUCCEEDED"), report
    assert flow.executions_of(placed.order_id) == [placed.order_id], report  # not resumed by hand
    # every failed try was the vendor asking for more time than the function had, none a function
    # running out of time
    failures = task_failures(flow, placed)
    assert failures and set(failures) == {"VendorRateLimited"}, report
    assert not LAMBDA_TIMEOUTS & set(failures), report
    # and each rate-limited try asked Blink once and ended: as many 429s as failed tries (a client
    # sleeping on "Retry-After" and asking again within the same try would show more)
    limited = [a for a in sync_answers(flow, placed) if a["status"] == 429]
    assert len(limited) == len(failures), report
