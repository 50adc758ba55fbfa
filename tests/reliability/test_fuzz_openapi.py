"""The reliability suite's property-based fuzzing (issue 13 point 8): schemathesis generates requests
from ``docs/openapi.json`` — the document generated from the handlers' own models — both ones that
follow it and ones that break it, for every operation; each goes through the operation's real
handler, authenticated (so the body reaches the parser). Every answer is below 500, and a refused
request (4xx) writes nothing.

``make test`` runs a smoke share (10 cases per operation); ``make reliability``
(``RELIABILITY_FULL=1``) 500 per operation. "Writes nothing" is checked by the DynamoDB writes that
succeeded while the request was handled (botocore's ``after-call``), not by scanning the tables.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orderbridge import aws as aws_clients
from orderbridge_local.openapi import OUTPUT
from samtranslator.yaml_helper import yaml_parse
from schemathesis import GenerationMode

from tests.support.apigw import invoke, proxy_event
from tests.support.hub import BLINK_TOKEN, LOGISTICS_TOKEN, PARTNER_TOKEN, bloq_headers

pytestmark = pytest.mark.reliability

CASES = 500 if os.environ.get("RELIABILITY_FULL") == "1" else 10
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
DOCUMENT = json.loads(OUTPUT.read_text())
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = sorted((op.path, op.method.upper()) for op in (r.ok() for r in SCHEMA.get_all_operations()))
TOKENS = {
    "/webhooks/blink/orders": BLINK_TOKEN,
    "/webhooks/blink/order-status": BLINK_TOKEN,
    "/webhooks/blink/logistics/task-status": LOGISTICS_TOKEN,
    "/webhooks/partners/{partner}/orders": PARTNER_TOKEN,
}


def _functions() -> dict[tuple[str, str], str]:
    """(path, METHOD) → the logical id of the function the template routes it to."""
    template = yaml_parse((OUTPUT.parents[1] / "template.yaml").read_text())
    routes = {}
    for logical_id, resource in template["Resources"].items():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                routes[(props["Path"], str(props["Method"]).upper())] = logical_id
    return routes


FUNCTIONS = _functions()


def event_of(case: Any, resource: str) -> dict[str, Any]:
    """The API Gateway proxy event of a generated case, authenticated as the route's caller."""
    raw = None if case.body is None or type(case.body).__name__ == "NotSet" else case.body
    body: str | bytes | None = raw if raw is None or isinstance(raw, bytes) else json.dumps(raw)
    params = {k: unquote(str(v)) for k, v in (case.path_parameters or {}).items()}
    query = {k: str(v if not isinstance(v, list) else (v[0] if v else "")) for k, v in (case.query or {}).items()}
    headers = {"X-Webhook-Token": TOKENS[resource]} if resource in TOKENS else {}
    if resource == "/webhooks/bloq":
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body or ""
        headers = bloq_headers(text)
    return proxy_event(
        case.method,
        case.formatted_path,
        resource=resource,
        path_params=params or None,
        query=query or None,
        headers=headers,
        body=body,
        base64_body=isinstance(body, bytes),
    )


@pytest.fixture
def writes(hub) -> list[str]:
    """The DynamoDB writes that succeeded from now on (operation names)."""
    done: list[str] = []

    def record(http_response: Any, model: Any, **_: Any) -> None:
        if model.name in WRITES and http_response.status_code == 200:
            done.append(model.name)

    aws_clients.client("dynamodb").meta.events.register("after-call", record)
    return done


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_generated_requests_are_answered_below_500_and_a_refusal_writes_nothing(writes, path, method):
    operation = SCHEMA[path][method]
    function = FUNCTIONS[(path, method)]
    statuses: dict[int, int] = {}

    @settings(
        max_examples=CASES,
        deadline=None,
        derandomize=CASES < 500,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)))
    def check(case: Any) -> None:
        before = len(writes)
        answer = invoke(function, event_of(case, path))
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        assert answer.status < 500, (answer.status, answer.body, case.body)
        if answer.status >= 400:
            assert writes[before:] == [], (answer.status, writes[before:], case.body)

    check()
    # Then the cases reached the handler (each answered) and, where a request has parts a client
    # chooses, reached the refusing side too
    assert sum(statuses.values()) >= min(CASES, 10), statuses
    declared = DOCUMENT["paths"][path][method.lower()]
    if declared.get("parameters") or declared.get("requestBody"):
        assert any(400 <= status < 500 for status in statuses), statuses
