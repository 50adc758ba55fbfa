"""The HTTP front: API Gateway (REST API, Lambda proxy integration) for the template's routes.

A request becomes the proxy event that route produces in AWS; the handler's answer goes back as
API Gateway sends it. What API Gateway itself decides is done here too: an unknown route (or a
method the resource does not have) is ``403 {"message": "Missing Authentication Token"}``, a
route with ``ApiKeyRequired`` wants ``X-Api-Key`` (``403 {"message": "Forbidden"}``), a failed or
malformed Lambda answer is ``502 {"message": "Internal server error"}``.

A route with a Lambda authorizer (REQUEST or TOKEN) runs it first, through the same local runtime,
as API Gateway does: an error ``Unauthorized`` is ``401``, a Deny is ``403``, any other failure or
a malformed answer ``500``; an Allow's ``context`` reaches the handler as
``requestContext.authorizer`` (with ``principalId``). With ``ApiKeySourceType: AUTHORIZER`` the
route's API key is the Allow's ``usageIdentifierKey``, checked against the stack's API keys.

The translation (:func:`match`, :func:`proxy_event`, :func:`http_answer`) is pure and unit-tested;
:class:`ApiFront` is the WSGI app around it, served by a threaded werkzeug server.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from orderbridge_local.template import ACCOUNT_ID, DEFAULT_REGION, Route

logger = logging.getLogger("orderbridge_local.apigw")

LOCAL_API_ID = "local"
MISSING_TOKEN = (403, {"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException")
FORBIDDEN = (403, {"message": "Forbidden"}, "ForbiddenException")
INTERNAL_ERROR = (502, {"message": "Internal server error"}, None)
TIMED_OUT = (504, {"message": "Endpoint request timed out"}, None)
UNAUTHORIZED = (401, {"message": "Unauthorized"}, "UnauthorizedException")
DENIED = (
    403,
    {"Message": "User is not authorized to access this resource with an explicit deny"},
    "AccessDeniedException",
)
NOT_ALLOWED = (403, {"Message": "User is not authorized to access this resource"}, "AccessDeniedException")
AUTHORIZER_FAILED = (500, {"message": None}, "AuthorizerConfigurationException")

_TEXT_TYPES = {
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/yaml",
}


# ---------------------------------------------------------------------------------- matching


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/")] if path.strip("/") else []


def _match_resource(resource: str, path: str) -> dict[str, str] | None:
    """Path parameters if ``path`` is an instance of ``resource`` (``{name}``, greedy ``{name+}``)."""
    pattern, actual = _segments(resource), _segments(path)
    params: dict[str, str] = {}
    for index, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(actual):
                return None
            params[part[1:-2]] = "/".join(actual[index:])
            return params
        if index >= len(actual):
            return None
        if part.startswith("{") and part.endswith("}"):
            if not actual[index]:
                return None
            params[part[1:-1]] = actual[index]
        elif part != actual[index]:
            return None
    return params if len(pattern) == len(actual) else None


def _specificity(resource: str) -> tuple[int, ...]:
    """Lower is more specific: literal segments beat ``{param}``, which beats ``{param+}``."""
    return tuple(2 if p.endswith("+}") else 1 if p.startswith("{") else 0 for p in _segments(resource))


def match(routes: Sequence[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick for ``method path`` and its path parameters."""
    method = method.upper()
    candidates = []
    for route in routes:
        params = _match_resource(route.resource, path)
        if params is not None and route.method in (method, "ANY"):
            candidates.append((_specificity(route.resource), route.method == "ANY", route, params))
    if not candidates:
        return None
    candidates.sort(key=lambda c: (c[0], c[1]))
    _, _, route, params = candidates[0]
    return route, params


# ------------------------------------------------------------------------------------- event


def is_text(content_type: str | None, body: bytes, binary_media_types: Sequence[str] = ()) -> bool:
    """Whether API Gateway would hand the body over as text (else base64, ``isBase64Encoded``)."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and any(fnmatch.fnmatch(mime, pattern.lower()) for pattern in binary_media_types):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not mime:
        return True
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith("+json") or mime.endswith("+xml")


def _single_and_multi(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    return {k: v[-1] for k, v in multi.items()}, multi


def proxy_event(
    route: Route,
    *,
    method: str,
    path: str,
    path_params: dict[str, str],
    query: Sequence[tuple[str, str]],
    headers: Sequence[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
    api_key: str | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
    api_key_id: str | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The REST API Lambda proxy event for a request on ``route`` (shaped as in AWS)."""
    now = now or datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    stage = route.stage or "local"
    header_map = {k.lower(): v for k, v in headers}
    host = header_map.get("host", "127.0.0.1")
    port = host.rsplit(":", 1)[1] if ":" in host else "80"
    forwarded = [
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", port),
        ("X-Forwarded-Proto", "http"),
        ("X-Amzn-Trace-Id", f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}"),
    ]
    all_headers = [*headers, *[(k, v) for k, v in forwarded if k.lower() not in header_map]]
    single_headers, multi_headers = _single_and_multi(all_headers)
    single_query, multi_query = _single_and_multi(query)
    text = is_text(header_map.get("content-type"), body, route.binary_media_types)
    if not body:
        event_body = None
    elif text:
        event_body = body.decode("utf-8")
    else:
        event_body = base64.b64encode(body).decode("ascii")
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.resource).hex[:6],
            "resourcePath": route.resource,
            "httpMethod": method.upper(),
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": header_map.get("user-agent"),
                "user": None,
                "apiKey": api_key,
                "apiKeyId": (api_key_id or "local-ops-key") if api_key else None,
            },
            **({"authorizer": authorizer} if authorizer is not None else {}),
            "domainName": host.split(":")[0],
            "apiId": LOCAL_API_ID,
        },
        "body": event_body,
        "isBase64Encoded": bool(body) and not text,
    }


# ------------------------------------------------------------------------------------ answer


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class MalformedAnswer(ValueError):
    pass


def http_answer(result: Any) -> HttpAnswer:
    """The HTTP response API Gateway makes of a Lambda proxy result (a dict, or its JSON text)."""
    if isinstance(result, str | bytes):
        try:
            result = json.loads(result)
        except ValueError as exc:
            raise MalformedAnswer("the function's answer is not JSON") from exc
    if not isinstance(result, dict):
        raise MalformedAnswer("the function's answer is not an object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedAnswer(f"statusCode {status!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), _header_value(value)))
    present = {name.lower() for name, _ in headers}
    for name, value in (result.get("headers") or {}).items():
        if str(name).lower() not in present:
            headers.append((str(name), _header_value(value)))
    body = result.get("body")
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        try:
            data = base64.b64decode(str(body), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedAnswer("isBase64Encoded but the body is not base64") from exc
    else:
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpAnswer(status, headers, data)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def gateway_error(error: tuple[int, dict[str, Any], str | None], request_id: str) -> HttpAnswer:
    status, body, error_type = error
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return HttpAnswer(status, headers, json.dumps(body).encode())


# ------------------------------------------------------------------------------------- front


@dataclass
class InvokeOutcome:
    """What the integration returned: the Lambda result (JSON text), or a failure."""

    ok: bool
    result: str | None = None
    timed_out: bool = False
    error: dict[str, Any] | None = None  # the function's error (errorMessage, errorType) when not ok


Invoker = Callable[[Route, dict[str, Any]], InvokeOutcome]  # (route, proxy event) -> outcome


AccessLog = Callable[[str, str, int, float, str], None]  # method, path, status, ms, note


class ApiFront:
    """WSGI app: the template's REST routes (and, under ``/_local/``, the local stack's own admin
    endpoints, which API Gateway would not have)."""

    def __init__(
        self,
        routes: Sequence[Route],
        invoker: Invoker,
        *,
        api_key: str,
        admin: Callable[..., Any] | None = None,
        access_log: AccessLog | None = None,
        api_keys: Mapping[str, str] | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        self.routes = list(routes)
        self.invoker = invoker
        self.api_key = api_key
        self.admin = admin
        self.access_log = access_log
        # The usage plan's keys: value -> key id (default: the one ops key).
        self.api_keys = dict(api_keys) if api_keys is not None else {api_key: "local-ops-key"}
        self.region = region

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if self.admin is not None and (request.path == "/_local" or request.path.startswith("/_local/")):
            return self.admin(environ, start_response)
        began = time.perf_counter()
        request_id = str(uuid.uuid4())
        answer, note = self._handle(request, request_id)
        if self.access_log is not None:
            self.access_log(request.method, request.path, answer.status, (time.perf_counter() - began) * 1000, note)
        response = Response(answer.body, answer.status)
        response.headers.clear()
        for name, value in answer.headers:
            response.headers.add(name, value)
        if not any(name.lower() == "x-amzn-requestid" for name, _ in answer.headers):
            response.headers["x-amzn-RequestId"] = request_id
        return response(environ, start_response)

    def _handle(self, request: Request, request_id: str) -> tuple[HttpAnswer, str]:
        path = request.path if request.path == "/" else request.path.rstrip("/")
        found = match(self.routes, request.method, path)
        if found is None:
            return gateway_error(MISSING_TOKEN, request_id), "no such route"
        route, params = found
        request_fields: dict[str, Any] = {
            "method": request.method,
            "path": path,
            "path_params": {k: unquote(v) for k, v in params.items()},
            "query": list(request.args.items(multi=True)),
            "headers": list(request.headers.items()),
            "body": request.get_data(),
            "source_ip": request.remote_addr or "127.0.0.1",
            "request_id": request_id,
        }
        presented = request.headers.get("X-Api-Key") if route.api_key_source != "AUTHORIZER" else None
        authorizer_context: dict[str, Any] | None = None
        if route.authorizer:
            decision = self._authorize(route, proxy_event(route, **request_fields))
            if isinstance(decision, AuthorizerRefusal):
                return gateway_error(decision.error, request_id), decision.note
            authorizer_context = decision.context
            if route.api_key_source == "AUTHORIZER":
                presented = decision.usage_key
        key_id = self._key_id(presented) if route.api_key_required else None
        if route.api_key_required and key_id is None:
            return gateway_error(FORBIDDEN, request_id), "API key missing or wrong"
        event = proxy_event(
            route,
            **request_fields,
            api_key=presented if route.api_key_required else None,
            api_key_id=key_id,
            authorizer=authorizer_context,
        )
        outcome = self.invoker(route, event)
        if outcome.timed_out:
            return gateway_error(TIMED_OUT, request_id), "function timed out"
        if not outcome.ok:
            return gateway_error(INTERNAL_ERROR, request_id), "function failed"
        try:
            return http_answer(outcome.result), ""
        except MalformedAnswer as exc:
            logger.warning("Malformed Lambda proxy response from %s: %s", route.function, exc)
            return gateway_error(INTERNAL_ERROR, request_id), f"malformed Lambda proxy response: {exc}"

    def _key_id(self, presented: str | None) -> str | None:
        """The id of the stack's API key ``presented`` is (constant time), or None."""
        found = None
        for value, key_id in self.api_keys.items():
            if presented and hmac.compare_digest(presented.encode(), value.encode()):
                found = key_id
        return found

    def _authorize(self, route: Route, proxy: dict[str, Any]) -> AuthorizerAllow | AuthorizerRefusal:
        """Run the route's Lambda authorizer as API Gateway does (its result is never cached
        here: the template's authorizer has no identity source, so ``ReauthorizeEvery`` is 0)."""
        assert route.authorizer is not None
        event = authorizer_event(route, proxy, region=self.region)
        began = time.perf_counter()
        outcome = self.invoker(replace(route, function=route.authorizer), event)
        latency = int((time.perf_counter() - began) * 1000)
        if not outcome.ok or outcome.timed_out:
            if (outcome.error or {}).get("errorMessage") == "Unauthorized":
                return AuthorizerRefusal(UNAUTHORIZED, "authorizer: Unauthorized")
            return AuthorizerRefusal(AUTHORIZER_FAILED, "authorizer failed")
        try:
            return authorizer_decision(outcome.result, event["methodArn"], latency_ms=latency)
        except MalformedAnswer as exc:
            logger.warning("Malformed authorizer answer from %s: %s", route.authorizer, exc)
            return AuthorizerRefusal(AUTHORIZER_FAILED, f"malformed authorizer answer: {exc}")


# -------------------------------------------------------------------------------- authorizer


@dataclass
class AuthorizerAllow:
    context: dict[str, Any]  # requestContext.authorizer as the handler sees it
    usage_key: str | None  # usageIdentifierKey


@dataclass
class AuthorizerRefusal:
    error: tuple[int, dict[str, Any], str | None]
    note: str


def method_arn(route: Route, method: str, path: str, *, region: str) -> str:
    stage = route.stage or "local"
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{LOCAL_API_ID}/{stage}/{method.upper()}{path}"


def authorizer_event(route: Route, proxy: dict[str, Any], *, region: str) -> dict[str, Any]:
    """The event a Lambda authorizer gets for a request whose proxy event is ``proxy``: the
    request's parts (no body) for REQUEST, the ``Authorization`` header for TOKEN."""
    arn = method_arn(route, proxy["httpMethod"], proxy["path"], region=region)
    if route.authorizer_type == "token":
        token = next((v for k, v in (proxy["headers"] or {}).items() if k.lower() == "authorization"), None)
        return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}
    event = {k: v for k, v in proxy.items() if k not in ("body", "isBase64Encoded")}
    return {"type": "REQUEST", "methodArn": arn, **event}


def _policy_allows(policy: Any, arn: str) -> bool | None:
    """True for an Allow of ``arn`` and no Deny of it, False for a Deny, None for neither."""
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list):
        raise MalformedAnswer("policyDocument has no Statement list")
    allowed = False
    for statement in policy["Statement"]:
        if not isinstance(statement, dict):
            raise MalformedAnswer("a policy statement is not an object")
        resources = statement.get("Resource")
        resources = resources if isinstance(resources, list) else [resources]
        if not any(isinstance(r, str) and fnmatch.fnmatchcase(arn, r) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed |= statement.get("Effect") == "Allow"
    return True if allowed else None


def authorizer_decision(result: str | None, arn: str, *, latency_ms: int = 0) -> AuthorizerAllow | AuthorizerRefusal:
    """What API Gateway makes of a Lambda authorizer's answer for the method ``arn``."""
    try:
        answer = json.loads(result or "null")
    except ValueError as exc:
        raise MalformedAnswer("the authorizer's answer is not JSON") from exc
    if not isinstance(answer, dict) or "principalId" not in answer:
        raise MalformedAnswer("the authorizer's answer has no principalId")
    allowed = _policy_allows(answer.get("policyDocument"), arn)
    if allowed is False:
        return AuthorizerRefusal(DENIED, "authorizer: Deny")
    if allowed is None:
        return AuthorizerRefusal(NOT_ALLOWED, "authorizer: the policy does not allow this method")
    context = answer.get("context") or {}
    if not isinstance(context, dict) or any(isinstance(v, dict | list) for v in context.values()):
        raise MalformedAnswer("the authorizer's context must map names to strings, numbers or booleans")
    shown: dict[str, Any] = {k: _header_value(v) if v is not None else None for k, v in context.items()}
    shown.update({"principalId": str(answer["principalId"]), "integrationLatency": latency_ms})
    key = answer.get("usageIdentifierKey")
    return AuthorizerAllow(context=shown, usage_key=key if isinstance(key, str) else None)
