"""Sign-in on the local stack: the template's Cognito user pool and app client and its API Gateway
API keys, made in the emulator after the deploy (moto's CloudFormation creates none of them), a
dev user with a generated password, and a same-origin proxy of the emulator's Cognito for the
browser.

* ``AWS::Cognito::UserPool`` / ``UserPoolClient`` are created through moto's cognito-idp API
  from the template's own properties (password policy, MFA, token validity ...); the functions
  whose environment referred to them (placeholders ``local-<LogicalId>``) get the real ids.
* ``AWS::ApiGateway::ApiKey``: the usage plan's keys, made in moto's API Gateway with known values
  — the ops key SAM generates for the usage plan gets the dev ops key, any other key (the
  console's) a generated value — so the authorizer reads the console key as in AWS
  (``GetApiKey``) and the front checks ``usageIdentifierKey`` against the same values.
* moto signs ID tokens with its own key pair and serves the JWKS at
  ``/<pool id>/.well-known/jwks.json`` of cognito-idp; its ``iss`` is AWS's URL for the pool, as
  in AWS. The emulator routes only signed requests (by SigV4 scope), and a browser's
  ``InitiateAuth`` is neither signed nor same-origin: :class:`CognitoProxy` serves
  ``/_cognito/…`` on the API front and forwards it to the emulator as a cognito-idp request. The
  console's ``config.json`` and the authorizer's JWKS URL point there (``COGNITO_ENDPOINT``).
  Locally only: in AWS the console calls Cognito's own endpoint, which answers CORS.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from orderbridge_local import aws_emulator as emu
from orderbridge_local.template import LocalTemplate

PROXY_PREFIX = "/_cognito/"
_PLACEHOLDER = re.compile(r"local-([A-Za-z0-9]+)")  # what the emulator view puts for a left-out resource
DEV_USERNAME = "dev"
DEV_EMAIL = "dev@orderbridge.local"
# CloudFormation property -> cognito-idp API parameter (the rest of the template's properties
# have no effect on what the emulator does).
_POOL_PROPERTIES = {
    "UserPoolName": "PoolName",
    "Policies": "Policies",
    "AdminCreateUserConfig": "AdminCreateUserConfig",
    "MfaConfiguration": "MfaConfiguration",
    "AutoVerifiedAttributes": "AutoVerifiedAttributes",
    "UsernameConfiguration": "UsernameConfiguration",
    "AccountRecoverySetting": "AccountRecoverySetting",
    "DeletionProtection": "DeletionProtection",
}
_CLIENT_PROPERTIES = (
    "ClientName",
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AuthSessionValidity",
    "IdTokenValidity",
    "AccessTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
)


@dataclass
class LocalAuth:
    """What was made: physical ids by logical id, the API keys (value -> id), the dev user."""

    ids: dict[str, str] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)
    user_pool_id: str | None = None
    client_id: str | None = None
    username: str | None = None
    password: str | None = None
    endpoint: str = ""  # the same-origin proxy (COGNITO_ENDPOINT)


def dev_password(length: int = 20) -> str:
    """A password any Cognito password policy accepts (lower, upper, digit, symbol; ≥14)."""
    rng = secrets.SystemRandom()
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#%+-=?@^_"]
    chars = [rng.choice(c) for c in classes]
    chars += [rng.choice("".join(classes)) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


def provision(
    emulator: emu.Emulator,
    local: LocalTemplate,
    deployed: emu.DeployedStack,
    *,
    front_url: str,
    ops_api_key: str,
) -> tuple[emu.DeployedStack, LocalAuth]:
    """Make the template's user pools, app clients and API keys in the emulator, a dev user in
    the (first) pool, and give the functions their ids. Returns the stack with the functions'
    environments completed, and what was made."""
    auth = LocalAuth(endpoint=f"{front_url}{PROXY_PREFIX}")
    resources = local.translated["Resources"]

    def resolved(props: dict[str, Any]) -> Any:
        return emu.resolve_in_stack(deployed.name, _with_ids(props, auth.ids), region=deployed.region)

    cognito = emulator.client("cognito-idp")
    for name, res in _of_type(resources, "AWS::Cognito::UserPool"):
        props = resolved(res.get("Properties") or {})
        params = {api: props[cfn] for cfn, api in _POOL_PROPERTIES.items() if cfn in props}
        params.setdefault("PoolName", name)
        auth.ids[name] = cognito.create_user_pool(**params)["UserPool"]["Id"]
        auth.user_pool_id = auth.user_pool_id or auth.ids[name]
    for name, res in _of_type(resources, "AWS::Cognito::UserPoolClient"):
        props = resolved(res.get("Properties") or {})
        params = {key: props[key] for key in _CLIENT_PROPERTIES if key in props}
        params.setdefault("ClientName", name)
        client = cognito.create_user_pool_client(UserPoolId=props["UserPoolId"], **params)["UserPoolClient"]
        auth.ids[name] = client["ClientId"]
        if props["UserPoolId"] == auth.user_pool_id:
            auth.client_id = auth.client_id or client["ClientId"]
    if auth.user_pool_id is not None:
        auth.username, auth.password = DEV_USERNAME, dev_password()
        cognito.admin_create_user(
            UserPoolId=auth.user_pool_id,
            Username=auth.username,
            UserAttributes=[{"Name": "email", "Value": DEV_EMAIL}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=auth.user_pool_id, Username=auth.username, Password=auth.password, Permanent=True
        )

    apigateway = emulator.client("apigateway")
    for name, res in _of_type(resources, "AWS::ApiGateway::ApiKey"):
        props = res.get("Properties") or {}
        # SAM's own key for the usage plan (it has StageKeys) is the dev ops key.
        value = ops_api_key if "StageKeys" in props else props.get("Value") or secrets.token_urlsafe(30)
        made = apigateway.create_api_key(name=f"{deployed.name}-{name}", value=value, enabled=True)
        auth.ids[name] = made["id"]
        auth.api_keys[value] = made["id"]
    if not auth.api_keys:
        auth.api_keys[ops_api_key] = "local-ops-key"

    pools = {auth.ids[name] for name, _ in _of_type(resources, "AWS::Cognito::UserPool")}
    functions = {}
    for logical_id, function in deployed.functions.items():
        environment = {k: _fill(v, auth.ids) for k, v in function.environment.items()}
        if pools & set(environment.values()):
            environment["COGNITO_ENDPOINT"] = auth.endpoint
        functions[logical_id] = replace(function, environment=environment)
    return replace(deployed, functions=functions), auth


def _of_type(resources: dict[str, Any], kind: str) -> Iterable[tuple[str, dict[str, Any]]]:
    return sorted((name, res) for name, res in resources.items() if res.get("Type") == kind)


def _with_ids(value: Any, ids: dict[str, str]) -> Any:
    """``Ref`` to a resource made here → its id (the emulator's CloudFormation does not know it)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in ids:
            return ids[value["Ref"]]
        return {k: _with_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_ids(v, ids) for v in value]
    return copy.deepcopy(value)


def _fill(value: str, ids: dict[str, str]) -> str:
    """A deployed environment value with the placeholders of what was made here replaced."""
    return _PLACEHOLDER.sub(lambda m: ids.get(m.group(1), m.group(0)), value)


# --------------------------------------------------------------------------------------- proxy


class CognitoProxy:
    """WSGI: ``/_cognito/<rest>`` on the API front → the emulator's cognito-idp ``/<rest>``
    (Cognito's JSON API for ``InitiateAuth`` and the rest, and the pools' JWKS); every other path
    → ``app``. Same origin as the console, so the browser needs no CORS."""

    _FORWARDED = ("content-type", "x-amz-target", "x-amz-user-agent")

    def __init__(self, app: Callable[..., Any], emulator_url: str, region: str) -> None:
        self.app = app
        self.emulator_url = emulator_url
        self.region = region

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(PROXY_PREFIX):
            return self.app(environ, start_response)
        request = Request(environ)
        headers = {k: v for k, v in request.headers.items() if k.lower() in self._FORWARDED}
        # The emulator routes by the SigV4 scope and checks no signature.
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=local/20260101/{self.region}/cognito-idp/aws4_request, "
            "SignedHeaders=host, Signature=local"
        )
        target = f"{self.emulator_url}/{path[len(PROXY_PREFIX) :]}"
        try:  # a connection per call: sign-ins and JWKS reads are rare
            answer = httpx.request(
                request.method,
                target,
                content=request.get_data(),
                headers=headers,
                params=list(request.args.items(multi=True)),
                timeout=10.0,
                trust_env=False,
            )
        except httpx.HTTPError as exc:
            body = json.dumps(
                {"__type": "InternalErrorException", "message": f"the emulator did not answer: {type(exc).__name__}"}
            )
            return Response(body, 502, content_type="application/x-amz-json-1.1")(environ, start_response)
        response = Response(answer.content, answer.status_code)
        response.headers["Content-Type"] = answer.headers.get("content-type", "application/x-amz-json-1.1")
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)
