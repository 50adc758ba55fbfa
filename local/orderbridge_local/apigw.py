"""The HTTP front: API Gateway (REST API, Lambda proxy integration) for the template's routes.

A request becomes the proxy event that route produces in AWS; the handler's answer goes back as
API Gateway sends it. What API Gateway itself decides is done here too: an unknown route (or a
method the resource does not have) is ``403 {"message": "Missing Authentication Token"}``, a
route with ``ApiKeyRequired`` wants ``X-Api-Key`` (``403 {"message": "Forbidden"}``), a failed or
malformed Lambda answer is ``502 {"message": "Internal server error"}``.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from orderbridge_local.template import ACCOUNT_ID, Route

logger = logging.getLogger("orderbridge_local.apigw")

LOCAL_API_ID = "local"
MISSING_TOKEN = (403, {"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException")
FORBIDDEN = (403, {"message": "Forbidden"}, "ForbiddenException")
INTERNAL_ERROR = (502, {"message": "Internal server error"}, None)
TIMED_OUT = (504, {"message": "Endpoint request timed out"}, None)

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
                "apiKeyId": "local-ops-key" if api_key else None,
            },
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
    ) -> None:
        self.routes = list(routes)
        self.invoker = invoker
        self.api_key = api_key
        self.admin = admin
        self.access_log = access_log

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
        presented = request.headers.get("X-Api-Key")
        if route.api_key_required and not (
            presented and hmac.compare_digest(presented.encode(), self.api_key.encode())
        ):
            return gateway_error(FORBIDDEN, request_id), "API key missing or wrong"
        event = proxy_event(
            route,
            method=request.method,
            path=path,
            path_params={k: unquote(v) for k, v in params.items()},
            query=list(request.args.items(multi=True)),
            headers=list(request.headers.items()),
            body=request.get_data(),
            source_ip=request.remote_addr or "127.0.0.1",
            api_key=presented if route.api_key_required else None,
            request_id=request_id,
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
