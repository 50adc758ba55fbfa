"""Tracing off costs nothing: Powertools' Tracer runs on :class:`NoTracing`, which records nothing and
never imports the X-Ray SDK's recorder (a fresh interpreter's view: tests/unit/test_deps.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from orderbridge.observability import NoTracing, tracer, tracing_disabled


def test_outside_lambda_tracing_is_off_and_the_tracer_records_nothing() -> None:
    # Given the unit tests' process: no LAMBDA_TASK_ROOT, as Powertools reads "outside Lambda"
    # Then the container's tracer is off, on the provider that records nothing
    assert tracing_disabled()
    assert tracer.disabled
    assert isinstance(tracer.provider, NoTracing)


def test_a_handler_under_the_tracer_answers_as_it_would_alone() -> None:
    # Given a handler decorated as entry.orderbridge_middleware decorates every handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "echo": event["n"]}

    traced = tracer.capture_lambda_handler(handler, capture_response=False)

    # When it is invoked
    answer = traced({"n": 7}, None)

    # Then its answer is the handler's own
    assert answer == {"statusCode": 200, "echo": 7}


def test_an_error_in_a_traced_handler_reaches_the_caller_unchanged() -> None:
    # Given a traced handler that fails
    class Boom(Exception):
        pass

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise Boom("no")

    traced = tracer.capture_lambda_handler(handler)

    # When it is invoked, Then the same error is raised
    with pytest.raises(Boom, match="no"):
        traced({}, None)


def test_no_tracing_subsegments_take_annotations_and_patches_do_nothing() -> None:
    # Given the provider that records nothing
    provider = NoTracing()

    # When code annotates a subsegment (sync and async) and asks for patches
    with provider.in_subsegment("## step") as subsegment:
        subsegment.put_annotation("ColdStart", True)
        subsegment.put_metadata("answer", {"x": 1})

    async def in_async() -> str:
        async with provider.in_subsegment_async("## async step") as segment:
            segment.put_annotation("k", "v")
            return "done"

    provider.patch(["botocore", "httpx"])
    provider.patch_all()

    # Then nothing fails and the async block ran to its end
    assert asyncio.run(in_async()) == "done"
