"""API Gateway's part, without a server: route matching, the proxy event, the answer."""

from __future__ import annotations

import base64
import json

import pytest
from orderbridge_local.apigw import ApiFront, InvokeOutcome, MalformedAnswer, http_answer, is_text, match, proxy_event
from orderbridge_local.template import Route
from werkzeug.test import Client

ROUTES = [
    Route("POST", "/webhooks/blink/orders", "BlinkOrderWebhookFunction", stage="local"),
    Route("POST", "/webhooks/partners/{partner}/orders", "PartnerOrderWebhookFunction", stage="local"),
    Route("GET", "/ops/orders", "OpsApiFunction", api_key_required=True, stage="local"),
    Route("GET", "/ops/orders/{order_id}", "OpsApiFunction", api_key_required=True, stage="local"),
    Route("GET", "/ops/orders/special", "SpecialFunction", stage="local"),
    Route("ANY", "/files/{proxy+}", "FilesFunction", stage="local", binary_media_types=("image/*",)),
]


# ------------------------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("POST", "/webhooks/blink/orders", "BlinkOrderWebhookFunction", {}),
        ("POST", "/webhooks/partners/demo-partner/orders", "PartnerOrderWebhookFunction", {"partner": "demo-partner"}),
        ("GET", "/ops/orders/abc-123", "OpsApiFunction", {"order_id": "abc-123"}),
        ("GET", "/ops/orders/special", "SpecialFunction", {}),  # a literal segment beats {order_id}
        ("DELETE", "/files/a/b/c.png", "FilesFunction", {"proxy": "a/b/c.png"}),  # greedy, any method
    ],
)
def test_the_most_specific_route_is_chosen_with_its_path_parameters(method, path, function, params):
    route, found = match(ROUTES, method, path)
    assert (route.function, found) == (function, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/webhooks/blink/orders"),
        ("POST", "/nowhere"),
        ("GET", "/ops"),
        ("GET", "/ops/orders/a/b"),
        ("GET", "/files"),
        ("POST", "/webhooks/partners//orders"),
    ],
)
def test_no_route_for_unknown_paths_or_methods(method, path):
    assert match(ROUTES, method, path) is None


# --------------------------------------------------------------------------------------- event


def _event(method="POST", path="/webhooks/partners/p1/orders", *, body=b"", headers=(), query=(), route=None):
    route = route or ROUTES[1]
    _, params = match([route], method, path)
    return proxy_event(
        route,
        method=method,
        path=path,
        path_params=params,
        query=list(query),
        headers=[("Host", "127.0.0.1:3000"), *headers],
        body=body,
        request_id="req-1",
    )


def test_the_event_is_shaped_as_api_gateway_sends_it():
    event = _event(
        body=b'{"a": 1}',
        headers=[("Content-Type", "application/json"), ("X-Thing", "1")],
        query=[("token", "t1"), ("tag", "a"), ("tag", "b")],
    )
    assert event["resource"] == "/webhooks/partners/{partner}/orders"
    assert event["path"] == "/webhooks/partners/p1/orders"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"partner": "p1"}
    assert event["queryStringParameters"] == {"token": "t1", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"token": ["t1"], "tag": ["a", "b"]}
    assert event["headers"]["X-Thing"] == "1"
    assert event["multiValueHeaders"]["X-Thing"] == ["1"]
    assert event["headers"]["X-Forwarded-Port"] == "3000"
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "local"
    assert context["path"] == "/local/webhooks/partners/p1/orders"
    assert context["resourcePath"] == "/webhooks/partners/{partner}/orders"
    assert context["requestId"] == "req-1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"


def test_no_query_no_path_parameters_no_body_are_null():
    route = ROUTES[0]
    event = proxy_event(route, method="POST", path=route.resource, path_params={}, query=[], headers=[], body=b"")
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        ("application/json", b'{"a": 1}', True),
        ("application/json; charset=utf-8", '{"name": "Café"}'.encode(), True),
        ("text/plain", b"hello", True),
        ("application/vnd.api+json", b"{}", True),
        ("application/x-www-form-urlencoded", b"a=1&b=2", True),
        (None, b"plain", True),
        ("application/octet-stream", b"\x00\x01\x02", False),
        ("application/json", b"\xff\xfe not utf-8", False),
        ("image/png", b"\x89PNG", False),
    ],
)
def test_text_or_base64(content_type, body, text):
    assert is_text(content_type, body) is text


def test_a_binary_body_is_base64_encoded():
    data = b"\x89PNG\r\n\x1a\n\x00"
    event = _event("PUT", "/files/x.png", body=data, headers=[("Content-Type", "image/png")], route=ROUTES[5])
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data


def test_binary_media_types_force_base64_even_for_utf8():
    event = _event(
        "PUT", "/files/x.png", body=b"looks like text", headers=[("Content-Type", "image/png")], route=ROUTES[5]
    )
    assert event["isBase64Encoded"] is True


# -------------------------------------------------------------------------------------- answer


def test_the_answer_becomes_the_http_response():
    answer = http_answer(
        json.dumps(
            {
                "statusCode": 201,
                "headers": {"Content-Type": "application/json", "X-One": "1"},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                "body": '{"ok": true}',
            }
        )
    )
    assert answer.status == 201
    assert ("Set-Cookie", "a=1") in answer.headers and ("Set-Cookie", "b=2") in answer.headers
    assert ("X-One", "1") in answer.headers
    assert answer.body == b'{"ok": true}'


def test_a_base64_answer_is_decoded():
    answer = http_answer(
        {
            "statusCode": 200,
            "isBase64Encoded": True,
            "body": base64.b64encode(b"\x00\x01").decode(),
            "headers": {"Content-Type": "application/octet-stream"},
        }
    )
    assert answer.body == b"\x00\x01"


def test_a_missing_content_type_is_json_and_a_missing_body_is_empty():
    answer = http_answer({"statusCode": 204})
    assert ("Content-Type", "application/json") in answer.headers
    assert answer.body == b""


@pytest.mark.parametrize(
    "result",
    [
        "not json",
        "[]",
        '{"body": "x"}',
        '{"statusCode": "abc"}',
        '{"statusCode": 99}',
        '{"statusCode": 200, "isBase64Encoded": true, "body": "%%%"}',
    ],
)
def test_malformed_answers_are_refused(result):
    with pytest.raises(MalformedAnswer):
        http_answer(result)


# --------------------------------------------------------------------------------------- front


class FakeInvoker:
    def __init__(self, outcome: InvokeOutcome) -> None:
        self.outcome = outcome
        self.events: list[dict] = []

    def __call__(self, route, event):
        self.events.append(event)
        return self.outcome


def _client(outcome=None):
    invoker = FakeInvoker(outcome or InvokeOutcome(ok=True, result=json.dumps({"statusCode": 200, "body": "{}"})))
    return Client(ApiFront(ROUTES, invoker, api_key="dev-key")), invoker


def test_an_unknown_route_is_missing_authentication_token():
    client, invoker = _client()
    response = client.get("/nowhere")
    assert response.status_code == 403
    assert response.get_json() == {"message": "Missing Authentication Token"}
    assert invoker.events == []


def test_api_key_routes_need_the_key():
    client, invoker = _client()
    assert client.get("/ops/orders/x").status_code == 403
    assert client.get("/ops/orders/x", headers={"X-Api-Key": "wrong"}).get_json() == {"message": "Forbidden"}
    assert invoker.events == []
    assert client.get("/ops/orders/x", headers={"x-api-key": "dev-key"}).status_code == 200
    assert invoker.events[0]["requestContext"]["identity"]["apiKey"] == "dev-key"


def test_the_front_passes_the_request_through():
    client, invoker = _client()
    client.post(
        "/webhooks/partners/p%201/orders?token=t&token=u",
        data=b'{"x": 1}',
        headers={"Content-Type": "application/json"},
    )
    event = invoker.events[0]
    assert event["pathParameters"] == {"partner": "p 1"}
    assert event["multiValueQueryStringParameters"] == {"token": ["t", "u"]}
    assert event["body"] == '{"x": 1}'


@pytest.mark.parametrize(
    ("outcome", "status", "message"),
    [
        (InvokeOutcome(ok=False, result='{"errorType": "KeyError"}'), 502, "Internal server error"),
        (InvokeOutcome(ok=True, result='{"no": "status"}'), 502, "Internal server error"),
        (InvokeOutcome(ok=False, timed_out=True), 504, "Endpoint request timed out"),
    ],
)
def test_function_failures_are_gateway_errors(outcome, status, message):
    client, _ = _client(outcome)
    response = client.post("/webhooks/blink/orders", data=b"{}")
    assert response.status_code == status
    assert response.get_json() == {"message": message}
