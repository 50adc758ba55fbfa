"""run_action gives every vendor call of the invocation a deadline: the Lambda's remaining time
less a margin for recording the answer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from orderbridge.actions.common import RATE_LIMITED_ERRORS, RETRYABLE_ERRORS
from orderbridge.actions.runtime import DEADLINE_MARGIN_SECONDS, invocation_deadline, run_action
from orderbridge.models.base import OurModel
from orderbridge.vendors.http import RetryableVendorError, VendorHttpClient, current_deadline

from tests.unit.vendors.support import ScriptedTransport, SleepRecorder, json_response


class FakeLambdaContext:
    """The one part of the Lambda context the deadline needs."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms
        self.function_name = "test-action"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class PingInput(OurModel):
    order_id: str


class PingOutput(OurModel):
    seconds_left: float | None


def report_deadline(*, request: PingInput, deps: object) -> PingOutput:
    """An action that tells what deadline its vendor calls would run under."""
    deadline = current_deadline()
    return PingOutput(seconds_left=None if deadline is None else deadline.remaining())


def call_vendor(*, request: PingInput, deps: SimpleNamespace) -> PingOutput:
    """An action that makes one vendor call with the container's client."""
    deps.client.request("GET", "/status")
    return PingOutput(seconds_left=None)


def test_an_actions_vendor_calls_end_the_margin_before_the_lambdas_time_runs_out() -> None:
    # Given an invocation with 30 s left
    context = FakeLambdaContext(30_000)

    # When an action runs
    out = run_action(report_deadline, {"order_id": "o-1"}, context, deps=SimpleNamespace())

    # Then its vendor calls had the remaining time less the margin
    assert 30 - DEADLINE_MARGIN_SECONDS - 1 < out["seconds_left"] <= 30 - DEADLINE_MARGIN_SECONDS
    # and the deadline ended with the invocation
    assert current_deadline() is None


def test_each_invocation_gets_its_own_deadline() -> None:
    # Given two invocations in turn, with 30 s and then 10 s left
    # When each runs the action
    first = run_action(report_deadline, {"order_id": "o-1"}, FakeLambdaContext(30_000), deps=SimpleNamespace())
    second = run_action(report_deadline, {"order_id": "o-1"}, FakeLambdaContext(10_000), deps=SimpleNamespace())

    # Then each had its own
    assert first["seconds_left"] > 26
    assert second["seconds_left"] <= 10 - DEADLINE_MARGIN_SECONDS


def test_a_context_without_remaining_time_sets_no_deadline() -> None:
    assert invocation_deadline(None) is None
    assert invocation_deadline(SimpleNamespace(function_name="script")) is None


def test_a_429_asking_for_longer_than_the_function_has_is_left_to_the_workflow() -> None:
    # Given a vendor answering 429 with Retry-After: 45, a client built once for the container,
    # and a 30 s function
    transport = ScriptedTransport(json_response({"message": "slow down"}, 429, headers={"Retry-After": "45"}))
    sleep = SleepRecorder()
    client = VendorHttpClient(vendor="blink", base_url="https://vendor.example.test", transport=transport, sleep=sleep)

    # When the action runs
    with pytest.raises(RetryableVendorError) as raised:
        run_action(
            call_vendor,
            {"order_id": "o-1"},
            FakeLambdaContext(30_000),
            deps=SimpleNamespace(client=client),
        )

    # Then it ended at once with the error the workflow retries after a longer wait, the
    # vendor's wait kept
    assert type(raised.value).__name__ == "VendorRateLimited"
    assert type(raised.value).__name__ in RETRYABLE_ERRORS + RATE_LIMITED_ERRORS
    assert raised.value.retry_after == 45.0
    assert len(transport.requests) == 1
    assert sleep.waits == []
    # And the same client, outside an invocation, still waits as the vendor asks
    transport.steps += [transport.steps[0], json_response({"ok": True})]
    assert client.request("GET", "/status").status_code == 200
    assert sleep.waits == [30.0]
