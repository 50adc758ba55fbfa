"""Signed-in people only, on the local stack: the dev user signs in as the console does (Cognito
``InitiateAuth``, ``USER_PASSWORD_AUTH``, a JSON POST to the stack's same-origin Cognito endpoint)
and calls the ops API with the ID token; a machine keeps its API key; anyone else gets 401."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e
INITIATE_AUTH = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
}


def sign_in(http: httpx.Client, console: dict[str, Any], password: str) -> httpx.Response:
    return http.post(
        console["cognito_endpoint"],
        headers=INITIATE_AUTH,
        json={
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": console["client_id"],
            "AuthParameters": {"USERNAME": console["username"], "PASSWORD": password},
        },
    )


@pytest.fixture(scope="module")
def id_token(stack: dict[str, Any], http: httpx.Client) -> str:
    answer = sign_in(http, stack["console"], stack["console"]["password"])
    assert answer.status_code == 200, answer.text
    return str(answer.json()["AuthenticationResult"]["IdToken"])


def test_the_dev_user_and_the_console_are_in_stack_json(stack):
    console = stack["console"]
    assert console["url"] == f"{stack['api']}/console/"
    assert console["username"] and len(console["password"]) >= 14
    # the browser signs in on the stack's own origin (no CORS needed)
    assert console["cognito_endpoint"].startswith(f"{stack['api']}/")


def test_a_signed_in_person_reads_the_orders(stack, http, id_token):
    # Given the dev user's ID token (signed in as the console does)
    # When the ops API is called with it
    answer = http.get(f"{stack['api']}/ops/orders", headers={"Authorization": f"Bearer {id_token}"})
    # Then the orders are listed
    assert answer.status_code == 200, answer.text
    assert isinstance(answer.json()["orders"], list)


def test_without_a_credential_the_ops_api_is_401(stack, http):
    answer = http.get(f"{stack['api']}/ops/orders")
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})


def test_a_machine_keeps_its_api_key(stack, http):
    answer = http.get(f"{stack['api']}/ops/orders", headers={"X-Api-Key": stack["ops_api_key"]})
    assert answer.status_code == 200, answer.text


def test_a_wrong_api_key_is_forbidden_and_a_forged_token_unauthorized(stack, http, id_token):
    # a key that is not in the usage plan: API Gateway's own 403
    wrong_key = http.get(f"{stack['api']}/ops/orders", headers={"X-Api-Key": "not-a-key-of-this-stack"})
    assert (wrong_key.status_code, wrong_key.json()) == (403, {"message": "Forbidden"})
    # the dev user's token with its signature tampered with: 401
    header, payload, signature = id_token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    answer = http.get(f"{stack['api']}/ops/orders", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401


def test_a_wrong_password_does_not_sign_in(stack, http):
    answer = sign_in(http, stack["console"], stack["console"]["password"] + "x")
    assert answer.status_code == 400
    assert answer.json()["__type"] == "NotAuthorizedException"
