"""Who may call the ops API: signed-in people (a Cognito ID token) and machines (an API key).

The ops routes sit behind one Lambda REQUEST authorizer (``OpsAuthorizerFunction``) and the API's
``ApiKeySourceType: AUTHORIZER``:

* ``Authorization: Bearer <IdToken>`` — the token is verified here: RS256 signature against the
  user pool's JWKS (fetched once per container, refetched for an unknown ``kid``), issuer (the
  pool), audience (the console's app client), ``token_use`` ``id``, expiry. Allowed with the
  console's own API key as the usage identifier and the Cognito username in the context.
* ``X-Api-Key: <key>`` — allowed with the presented key as the usage identifier: API Gateway then
  checks it against the usage plan's keys (``403 Forbidden`` when it is not one), so the keys
  themselves are never known here.
* neither, or a token that does not verify — ``Unauthorized`` (API Gateway answers 401). A token
  that is presented but wrong never falls back to the API key.

The handler gets the context under ``requestContext.authorizer``: ``username`` (the Cognito
username, or ``api-key:<fingerprint>``) and ``kind`` (``user`` or ``api-key``); :func:`caller`
names the caller for an audit trail.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict

BEARER = "bearer "
API_KEY_HEADER = "x-api-key"
# What API Gateway turns into 401 {"message": "Unauthorized"} when the authorizer raises it.
UNAUTHORIZED_MESSAGE = "Unauthorized"
_LEEWAY_SECONDS = 30  # clock skew between Cognito and Lambda


class AuthUnauthorized(Exception):
    """The request carries no credential, or one that does not verify (API Gateway: 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(UNAUTHORIZED_MESSAGE)
        self.reason = reason  # for the log; the caller only ever sees "Unauthorized"


class AuthSettings(BaseModel):
    """The authorizer's and the console's view of the user pool (the function's environment)."""

    model_config = ConfigDict(frozen=True)

    region: str
    user_pool_id: str
    client_id: str
    console_api_key_id: str = ""
    # Where Cognito answers: AWS's endpoint unless set (the local stack sets its emulator's).
    cognito_endpoint: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if env is None else env
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
            user_pool_id=env.get("USER_POOL_ID", ""),
            client_id=env.get("USER_POOL_CLIENT_ID", ""),
            console_api_key_id=env.get("CONSOLE_API_KEY_ID", ""),
            cognito_endpoint=env.get("COGNITO_ENDPOINT", ""),
        )

    @property
    def endpoint(self) -> str:
        """Cognito's API endpoint (``InitiateAuth`` is a JSON POST here), ending in ``/``."""
        endpoint = self.cognito_endpoint or f"https://cognito-idp.{self.region}.amazonaws.com/"
        return endpoint if endpoint.endswith("/") else endpoint + "/"

    @property
    def issuer(self) -> str:
        """The ``iss`` of the pool's tokens: always AWS's URL, wherever the endpoint is."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint}{self.user_pool_id}/.well-known/jwks.json"


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name and isinstance(value, str) and value.strip():
            return value.strip()
    return None


def fingerprint(api_key: str) -> str:
    """A stable name for an API key that does not reveal it (for logs and the audit trail)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:12]


class OpsAuthorizer:
    """Decides one REQUEST authorizer event. ``signing_key`` finds the public key a token was
    signed with (the pool's JWKS through ``jwt.PyJWKClient`` in Lambda); ``console_key`` gives
    the console's API key value (read once, on first use)."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        signing_key: Callable[[str], Any],
        console_key: Callable[[], str],
        now: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._signing_key = signing_key
        self._console_key_source = console_key
        self._now = now

    @cached_property
    def _console_key(self) -> str:
        return self._console_key_source()

    def authorize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        headers = event.get("headers")
        authorization = _header(headers, "authorization")
        if authorization is not None:
            if not authorization.lower().startswith(BEARER):
                raise AuthUnauthorized("the Authorization header is not a Bearer token")
            username = self.verify_id_token(authorization[len(BEARER) :].strip())
            return allow(event, username, kind="user", usage_key=self._console_key)
        api_key = _header(headers, API_KEY_HEADER)
        if api_key is not None:
            return allow(event, f"api-key:{fingerprint(api_key)}", kind="api-key", usage_key=api_key)
        raise AuthUnauthorized("neither a Bearer token nor an X-Api-Key")

    def verify_id_token(self, token: str) -> str:
        """The Cognito username of a valid ID token of our pool and client; else Unauthorized."""
        try:
            claims = jwt.decode(
                token,
                self._signing_key(token),
                algorithms=["RS256"],
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "token_use"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:  # PyJWKClientError is a PyJWTError
            raise AuthUnauthorized(f"the token does not verify: {type(exc).__name__}: {exc}") from exc
        if claims.get("token_use") != "id":
            raise AuthUnauthorized(f"token_use is {claims.get('token_use')!r}, not 'id'")
        username = claims.get("cognito:username") or claims.get("sub")
        if not isinstance(username, str) or not username:
            raise AuthUnauthorized("the token names no user")
        return username


def allow(event: Mapping[str, Any], username: str, *, kind: str, usage_key: str) -> dict[str, Any]:
    """The authorizer's Allow for this method (no caching: the resource is the method's ARN)."""
    return {
        "principalId": username,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}],
        },
        "context": {"username": username, "kind": kind},
        "usageIdentifierKey": usage_key,
    }


def caller(event: Mapping[str, Any]) -> str:
    """Who made this ops API request, for an audit trail: the Cognito username of a signed-in
    person, ``api-key:<key id>`` for a machine (``api-key:<fingerprint>`` when the key id is not
    in the event), ``unknown`` when no authorizer ran."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    username = authorizer.get("username")
    if authorizer.get("kind") == "api-key":
        key_id = (context.get("identity") or {}).get("apiKeyId")
        if key_id:
            return f"api-key:{key_id}"
    return str(username) if username else "unknown"
