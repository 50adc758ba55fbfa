"""The local API front runs a route's Lambda authorizer as API Gateway does (REQUEST authorizer,
``ApiKeySourceType: AUTHORIZER``): 401 for ``Unauthorized``, 403 for a Deny or a usage key that
is not one of the stack's keys, 500 for a broken authorizer; the Allow's context reaches the
handler as ``requestContext.authorizer``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from orderbridge_local.apigw import ApiFront, InvokeOutcome, authorizer_decision
from orderbridge_local.template import Route
from werkzeug.test import Client

OPS = Route(
    "GET",
    "/ops/orders",
    "OpsApiFunction",
    api_key_required=True,
    stage="local",
    authorizer="OpsAuthorizerFunction",
    authorizer_type="request",
    api_key_source="AUTHORIZER",
)
WEBHOOK = Route("POST", "/webhooks/bloq", "BloqWebhookFunction", stage="local", api_key_source="AUTHORIZER")
KEYS = {"ops-key-value": "key-ops", "console-key-value": "key-console"}
ARN = "arn:aws:execute-api:eu-west-1:123456789012:local/local/GET/ops/orders"


def allow(usage_key: str | None, *, effect: str = "Allow", resource: str = ARN, **context: Any) -> InvokeOutcome:
    answer: dict[str, Any] = {
        "principalId": "maria",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context or {"username": "maria", "kind": "user"},
    }
    if usage_key is not None:
        answer["usageIdentifierKey"] = usage_key
    return InvokeOutcome(ok=True, result=json.dumps(answer))


class Functions:
    """The runtime as the front sees it: the authorizer's outcome is set per test."""

    def __init__(self, authorizer: InvokeOutcome) -> None:
        self.authorizer = authorizer
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, route: Route, event: dict[str, Any]) -> InvokeOutcome:
        self.calls.append((route.function, event))
        if route.function == "OpsAuthorizerFunction":
            return self.authorizer
        return InvokeOutcome(ok=True, result=json.dumps({"statusCode": 200, "body": "[]"}))

    def handled(self) -> list[dict[str, Any]]:
        return [event for function, event in self.calls if function == "OpsApiFunction"]


def front(authorizer: InvokeOutcome) -> tuple[Client, Functions]:
    functions = Functions(authorizer)
    return Client(ApiFront([OPS, WEBHOOK], functions, api_key="ops-key-value", api_keys=KEYS)), functions


def test_an_allowed_person_reaches_the_handler_with_the_authorizer_context():
    # Given an authorizer that allows with the console's key
    client, functions = front(allow("console-key-value"))
    # When the ops API is called with a token
    response = client.get("/ops/orders?limit=5", headers={"Authorization": "Bearer token-1"})
    # Then the authorizer saw the request as a REQUEST event and the handler got its context
    assert response.status_code == 200
    (name, seen), _ = functions.calls
    assert name == "OpsAuthorizerFunction"
    assert (seen["type"], seen["methodArn"], seen["headers"]["Authorization"]) == ("REQUEST", ARN, "Bearer token-1")
    assert seen["queryStringParameters"] == {"limit": "5"} and "body" not in seen
    [event] = functions.handled()
    authorizer = event["requestContext"]["authorizer"]
    assert {k: authorizer[k] for k in ("username", "kind", "principalId")} == {
        "username": "maria",
        "kind": "user",
        "principalId": "maria",
    }
    assert event["requestContext"]["identity"]["apiKeyId"] == "key-console"


def test_with_the_authorizer_as_key_source_the_header_alone_is_not_the_key():
    # Given an authorizer that allows but names no usage key
    client, functions = front(allow(None))
    # When a valid key is only in the header, Then API Gateway has no key: 403
    response = client.get("/ops/orders", headers={"X-Api-Key": "ops-key-value"})
    assert response.status_code == 403
    assert response.get_json() == {"message": "Forbidden"}
    assert functions.handled() == []


def test_a_usage_key_that_is_not_one_of_the_stacks_keys_is_403():
    client, functions = front(allow("someone-elses-key"))
    response = client.get("/ops/orders", headers={"X-Api-Key": "someone-elses-key"})
    assert (response.status_code, response.get_json()) == (403, {"message": "Forbidden"})
    assert functions.handled() == []


def test_a_machine_key_the_authorizer_passes_on_is_checked_and_named():
    client, functions = front(allow("ops-key-value", username="api-key:ab12", kind="api-key"))
    assert client.get("/ops/orders", headers={"X-Api-Key": "ops-key-value"}).status_code == 200
    [event] = functions.handled()
    assert event["requestContext"]["identity"]["apiKeyId"] == "key-ops"
    assert event["requestContext"]["authorizer"]["kind"] == "api-key"


@pytest.mark.parametrize(
    ("outcome", "status", "body"),
    [
        (InvokeOutcome(ok=False, error={"errorMessage": "Unauthorized"}), 401, {"message": "Unauthorized"}),
        (
            allow("console-key-value", effect="Deny"),
            403,
            {"Message": "User is not authorized to access this resource with an explicit deny"},
        ),
        (
            allow("console-key-value", resource="arn:aws:execute-api:eu-west-1:123456789012:local/local/GET/other"),
            403,
            {"Message": "User is not authorized to access this resource"},
        ),
        (InvokeOutcome(ok=False, error={"errorMessage": "boom", "errorType": "KeyError"}), 500, {"message": None}),
        (InvokeOutcome(ok=True, result='{"policyDocument": {}}'), 500, {"message": None}),
        (InvokeOutcome(ok=False, timed_out=True), 500, {"message": None}),
    ],
)
def test_what_api_gateway_answers_when_the_authorizer_does_not_allow(outcome, status, body):
    client, functions = front(outcome)
    response = client.get("/ops/orders", headers={"Authorization": "Bearer x"})
    assert (response.status_code, response.get_json()) == (status, body)
    assert functions.handled() == []


def test_routes_without_an_authorizer_do_not_run_it():
    client, functions = front(InvokeOutcome(ok=False, error={"errorMessage": "Unauthorized"}))
    assert client.post("/webhooks/bloq", data=b"{}").status_code == 200
    assert [name for name, _ in functions.calls] == ["BloqWebhookFunction"]
    assert "authorizer" not in functions.calls[0][1]["requestContext"]


def test_a_wildcard_allow_covers_the_method_and_context_values_become_strings():
    decision = authorizer_decision(
        json.dumps(
            {
                "principalId": "p",
                "policyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ["arn:*/local/*"]}]
                },
                "context": {"admin": True, "level": 3},
            }
        ),
        ARN,
    )
    assert decision.context["admin"] == "true" and decision.context["level"] == "3"  # type: ignore[union-attr]
