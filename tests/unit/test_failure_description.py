"""A failure in plain sight: step, error kind, vendor, HTTP status, one line — never a stack trace
(workflow.steps.describe_failure, from what Step Functions' Catch gives)."""

from __future__ import annotations

import json

from orderbridge.workflow.steps import OutcomeInput, describe_failure


def outcome(error: str, cause: str | None, **extra) -> OutcomeInput:
    return OutcomeInput.model_validate(
        {"order_id": "o", "outcome": "failed", "error": {"Error": error, "Cause": cause}, **extra}
    )


def test_a_vendor_error_names_the_vendor_and_its_http_status_without_the_trace():
    cause = json.dumps(
        {
            "errorType": "RetryableVendorError",
            "errorMessage": "bloqit HTTP 503 [busy]: Service\nUnavailable",
            "stackTrace": ['  File "x.py", line 1, in f\n    raise\n'] * 30,
        }
    )
    failure = describe_failure(outcome("RetryableVendorError", cause, step="ReserveLocker"))
    assert failure.model_dump() == {
        "step": "ReserveLocker",
        "kind": "RetryableVendorError",
        "vendor": "bloqit",
        "http_status": 503,
        "message": "Service Unavailable",
    }


def test_a_refusal_is_its_message_in_one_line():
    cause = json.dumps(
        {
            "errorType": "ActionRefused",
            "errorMessage": "order o cannot be submitted to Blink: no Blink "
            "item is mapped for items[0] (item 9): add the item mapping, then retry",
        }
    )
    failure = describe_failure(outcome("ActionRefused", cause, step="SubmitToBlink"))
    assert (failure.kind, failure.vendor, failure.http_status) == ("ActionRefused", None, None)
    assert failure.message.startswith("order o cannot be submitted to Blink: no Blink item is mapped")


def test_a_wait_that_timed_out_and_a_reason_given_by_the_workflow():
    assert describe_failure(outcome("States.Timeout", None, step="WaitForDropOff")).message == (
        "the wait passed its deadline"
    )
    given = describe_failure(
        outcome("CourierCancelled", "the courier cancelled the delivery", reason="the courier cancelled twice")
    )
    assert (given.kind, given.message) == ("CourierCancelled", "the courier cancelled twice")


def test_a_long_message_is_cut():
    cause = json.dumps({"errorType": "ActionRefused", "errorMessage": "x" * 5000})
    assert len(describe_failure(outcome("ActionRefused", cause)).message) == 300
