"""The ops API's authorizer: a person's Cognito ID token or a machine's API key, on the same routes.

Tokens are made here with RSA keys generated for the test; the pool's JWKS is served from a file
(``COGNITO_ENDPOINT`` = ``file://...``) for the handler as deployed (``functions/ops_authorizer``).
"""

from __future__ import annotations

import json
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from orderbridge.web.console_config import config_response, console_config
from orderbridge.web.ops_auth import AuthSettings, AuthUnauthorized, OpsAuthorizer, caller, fingerprint

from tests.support.apigw import LambdaContext

REGION = "eu-west-1"
POOL = "eu-west-1_TestPool"
CLIENT = "console-client-id"
CONSOLE_KEY = "console-usage-plan-key-value-0123456789"
MACHINE_KEY = "machine-api-key-value-0123456789abcdef"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/ops/orders"
SETTINGS = AuthSettings(region=REGION, user_pool_id=POOL, client_id=CLIENT, console_api_key_id="key-id")


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def id_token(key: rsa.RSAPrivateKey, *, kid: str = "pool-key-1", now: float | None = None, **claims: Any) -> str:
    issued = int(time.time() if now is None else now)
    payload = {
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}",
        "sub": "5f1c1a6e-0000-4000-8000-000000000001",
        "aud": CLIENT,
        "token_use": "id",
        "cognito:username": "maria",
        "iat": issued,
        "auth_time": issued,
        "exp": issued + 3600,
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def request(**headers: str) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/ops/orders",
        "path": "/ops/orders",
        "httpMethod": "GET",
        "headers": headers,
        "requestContext": {"stage": "prod"},
    }


@pytest.fixture
def authorizer(pool_key: rsa.RSAPrivateKey) -> OpsAuthorizer:
    reads: list[str] = []

    def console_key() -> str:
        reads.append("read")
        return CONSOLE_KEY

    found = OpsAuthorizer(SETTINGS, signing_key=lambda token: pool_key.public_key(), console_key=console_key)
    found.reads = reads  # type: ignore[attr-defined]  # the test looks at how often the key was read
    return found


# ------------------------------------------------------------------------------ people


def test_a_valid_id_token_is_allowed_with_the_console_key_and_the_username(authorizer, pool_key):
    # Given a person's ID token of our pool and client
    token = id_token(pool_key)
    # When the ops API is called with it
    answer = authorizer.authorize(request(Authorization=f"Bearer {token}"))
    # Then the method is allowed, billed to the console's key, and the handler learns who it is
    assert answer["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
    ]
    assert answer["usageIdentifierKey"] == CONSOLE_KEY
    assert answer["principalId"] == "maria"
    assert answer["context"] == {"username": "maria", "kind": "user"}


def test_the_console_key_is_read_once_per_container(authorizer, pool_key):
    for _ in range(3):
        authorizer.authorize(request(authorization=f"bearer {id_token(pool_key)}"))
    assert authorizer.reads == ["read"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-client"}, "InvalidAudience"),
        ({"iss": f"https://cognito-idp.{REGION}.amazonaws.com/eu-west-1_OtherPool"}, "InvalidIssuer"),
        ({"token_use": "access", "aud": None, "client_id": CLIENT}, "aud"),  # an access token has no aud
        ({"token_use": "access"}, "token_use is 'access'"),
        ({"token_use": None}, "token_use"),
    ],
)
def test_a_token_that_is_not_an_id_token_of_our_pool_and_client_is_401(authorizer, pool_key, claims, reason):
    # Given a current token signed by the pool, but wrong in one claim
    token = id_token(pool_key, **claims)
    # When it is presented, Then the request is Unauthorized (API Gateway: 401), for that claim
    with pytest.raises(AuthUnauthorized) as refused:
        authorizer.authorize(request(Authorization=f"Bearer {token}"))
    assert str(refused.value) == "Unauthorized"
    assert reason in refused.value.reason


def test_an_expired_token_is_401(authorizer, pool_key):
    token = id_token(pool_key, now=time.time() - 2 * 3600)  # expired an hour ago
    with pytest.raises(AuthUnauthorized, match="Unauthorized") as refused:
        authorizer.authorize(request(Authorization=f"Bearer {token}"))
    assert "expired" in refused.value.reason.lower()


def test_a_token_signed_with_another_key_is_401(authorizer, other_key):
    token = id_token(other_key)
    with pytest.raises(AuthUnauthorized) as refused:
        authorizer.authorize(request(Authorization=f"Bearer {token}"))
    assert "Signature" in refused.value.reason


@pytest.mark.parametrize("header", ["Basic bWFyaWE6c2VjcmV0", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c"])
def test_a_malformed_authorization_header_is_401(authorizer, header):
    with pytest.raises(AuthUnauthorized):
        authorizer.authorize(request(Authorization=header))


def test_a_wrong_token_never_falls_back_to_an_api_key(authorizer, other_key):
    # Given a bad token next to a good-looking API key
    event = request(Authorization=f"Bearer {id_token(other_key)}", **{"X-Api-Key": MACHINE_KEY})
    # Then the token decides: 401
    with pytest.raises(AuthUnauthorized):
        authorizer.authorize(event)


# ----------------------------------------------------------------------------- machines


def test_an_api_key_is_allowed_with_that_key_for_api_gateway_to_check(authorizer):
    # Given a machine client's X-Api-Key (the authorizer does not know the plan's keys)
    answer = authorizer.authorize(request(**{"x-api-key": MACHINE_KEY}))
    # Then API Gateway is handed that key to check against the usage plan, and no secret is in
    # the context
    assert answer["usageIdentifierKey"] == MACHINE_KEY
    assert answer["context"] == {"username": f"api-key:{fingerprint(MACHINE_KEY)}", "kind": "api-key"}
    assert MACHINE_KEY not in json.dumps(answer["context"]) + answer["principalId"]
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_neither_token_nor_key_is_401(authorizer):
    with pytest.raises(AuthUnauthorized) as refused:
        authorizer.authorize(request(Accept="application/json"))
    assert str(refused.value) == "Unauthorized"
    with pytest.raises(AuthUnauthorized):
        authorizer.authorize({"methodArn": METHOD_ARN, "headers": None})


def test_the_caller_is_the_username_or_the_key_id():
    person = {"requestContext": {"authorizer": {"username": "maria", "kind": "user"}, "identity": {"apiKeyId": "k1"}}}
    machine = {
        "requestContext": {
            "authorizer": {"username": "api-key:ab12", "kind": "api-key"},
            "identity": {"apiKeyId": "k9"},
        }
    }
    assert caller(person) == "maria"
    assert caller(machine) == "api-key:k9"
    assert caller({"requestContext": {"authorizer": {"username": "api-key:ab12", "kind": "api-key"}}}) == "api-key:ab12"
    assert caller({"requestContext": {}}) == "unknown"


# ------------------------------------------------------------------ the deployed handler


@pytest.fixture
def deployed_authorizer(tmp_path: Path, monkeypatch, pool_key):
    """``functions/ops_authorizer`` with its template environment; the pool's JWKS served over
    HTTP on 127.0.0.1 (as the local stack's emulator serves it)."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(pool_key.public_key()))
    jwks = tmp_path / POOL / ".well-known" / "jwks.json"
    jwks.parent.mkdir(parents=True)
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "pool-key-1", "alg": "RS256", "use": "sig"}]}))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name, value in {
        "AWS_REGION": REGION,
        "USER_POOL_ID": POOL,
        "USER_POOL_CLIENT_ID": CLIENT,
        "CONSOLE_API_KEY_ID": "key-id",
        "COGNITO_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}/",
        "NO_PROXY": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)
    import orderbridge.store.api_keys as api_keys
    from orderbridge.entry import authorizer_handler

    monkeypatch.setattr(api_keys, "api_key_value", lambda client, key_id: CONSOLE_KEY)
    monkeypatch.setattr("orderbridge.aws.client", lambda service: object())
    yield authorizer_handler()
    server.shutdown()
    server.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def test_the_deployed_handler_verifies_against_the_pools_jwks(deployed_authorizer, pool_key, other_key):
    context = LambdaContext(function_name="OpsAuthorizerFunction")
    answer = deployed_authorizer(request(Authorization=f"Bearer {id_token(pool_key)}"), context)
    assert (answer["usageIdentifierKey"], answer["context"]["username"]) == (CONSOLE_KEY, "maria")
    # a key id the JWKS does not have: refused (API Gateway turns exactly this message into 401)
    with pytest.raises(Exception, match="^Unauthorized$"):
        deployed_authorizer(request(Authorization=f"Bearer {id_token(other_key, kid='unknown')}"), context)
    with pytest.raises(Exception, match="^Unauthorized$"):
        deployed_authorizer(request(), context)


# ------------------------------------------------------------------------ config.json


def test_the_console_config_names_the_pool_the_client_and_the_endpoint():
    event = {"requestContext": {"domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "stage": "prod"}}
    assert console_config(event, SETTINGS) == {
        "auth": {
            "region": REGION,
            "userPoolId": POOL,
            "clientId": CLIENT,
            "endpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
        },
        "apiBase": "/prod",
    }


def test_locally_the_console_signs_in_through_the_stacks_own_origin():
    local = SETTINGS.model_copy(update={"cognito_endpoint": "http://127.0.0.1:3000/_cognito"})
    found = console_config({"requestContext": {"domainName": "127.0.0.1", "stage": "local"}}, local)
    assert found["auth"]["endpoint"] == "http://127.0.0.1:3000/_cognito/"
    assert found["apiBase"] == ""
    assert local.jwks_url == f"http://127.0.0.1:3000/_cognito/{POOL}/.well-known/jwks.json"
    assert local.issuer == f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}"


def test_config_json_is_answered_as_json_and_never_cached():
    event = {"requestContext": {"domainName": "ops.example.com", "stage": "prod"}}
    answer = config_response(event, SETTINGS)
    assert (answer.status_code, answer.content_type) == (200, "application/json")
    assert json.loads(answer.body) == console_config(event, SETTINGS)
    assert json.loads(answer.body)["apiBase"] == ""  # a custom domain carries no stage
    assert answer.headers["Cache-Control"] == "no-store"
