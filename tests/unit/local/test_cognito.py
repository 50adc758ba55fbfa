"""The local stack's sign-in pieces: the dev password, the ids put into the functions' environment,
and the same-origin proxy of the emulator's Cognito."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from orderbridge_local.cognito import CognitoProxy, _fill, dev_password
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response


def test_the_dev_password_meets_the_pools_policy():
    for _ in range(50):
        password = dev_password()
        assert len(password) >= 14
        assert all(re.search(p, password) for p in ("[a-z]", "[A-Z]", "[0-9]", "[^A-Za-z0-9]"))
    assert len({dev_password() for _ in range(20)}) == 20


def test_placeholders_become_the_ids_made_here_and_only_whole_names_match():
    ids = {"OpsUserPool": "eu-west-1_abc", "OpsUserPoolClient": "client123"}
    assert _fill("local-OpsUserPoolClient", ids) == "client123"
    assert _fill("local-OpsUserPool", ids) == "eu-west-1_abc"
    assert _fill("arn:...:userpool/local-OpsUserPool", ids) == "arn:...:userpool/eu-west-1_abc"
    assert _fill("local-SomethingElse", ids) == "local-SomethingElse"


@pytest.fixture
def emulator() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for the emulator's endpoint that records what reached it."""
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        seen.append({"path": request.path, "headers": dict(request.headers), "body": request.get_data(as_text=True)})
        body = json.dumps({"AuthenticationResult": {"IdToken": "t"}})
        return Response(body, 200, content_type="application/x-amz-json-1.1")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.socket.getsockname()[1]}", seen
    server.shutdown()
    server.server_close()


def front(environ: dict[str, Any], start_response: Any) -> Any:
    return Response("front", 200)(environ, start_response)


def test_cognito_calls_on_the_fronts_origin_reach_the_emulator_as_cognito_idp(emulator):
    url, seen = emulator
    client = Client(CognitoProxy(front, url, "eu-west-1"))
    # When the console signs in on /_cognito/
    answer = client.post(
        "/_cognito/",
        data='{"AuthFlow": "USER_PASSWORD_AUTH"}',
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            "Cookie": "not-forwarded=1",
        },
    )
    # Then the emulator got it scoped to cognito-idp in the stack's region, and the answer came back
    assert answer.status_code == 200
    assert json.loads(answer.get_data()) == {"AuthenticationResult": {"IdToken": "t"}}
    [request] = seen
    assert request["path"] == "/"
    assert "/eu-west-1/cognito-idp/aws4_request" in request["headers"]["Authorization"]
    assert request["headers"]["X-Amz-Target"] == "AWSCognitoIdentityProviderService.InitiateAuth"
    assert "Cookie" not in request["headers"]
    assert request["body"] == '{"AuthFlow": "USER_PASSWORD_AUTH"}'
    # and the JWKS path keeps its pool id
    client.get("/_cognito/eu-west-1_abc/.well-known/jwks.json")
    assert seen[1]["path"] == "/eu-west-1_abc/.well-known/jwks.json"


def test_other_paths_go_to_the_front():
    client = Client(CognitoProxy(front, "http://127.0.0.1:9", "eu-west-1"))
    assert client.get("/ops/orders").get_data(as_text=True) == "front"
    assert client.get("/_cognitoish").get_data(as_text=True) == "front"


def test_an_emulator_that_does_not_answer_is_a_502():
    client = Client(CognitoProxy(front, "http://127.0.0.1:9", "eu-west-1"))
    answer = client.post("/_cognito/", data="{}")
    assert answer.status_code == 502
    assert json.loads(answer.get_data())["__type"] == "InternalErrorException"
