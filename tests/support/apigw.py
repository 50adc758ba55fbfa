"""One builder for API Gateway (REST, proxy integration) events, shaped like
`sam local generate-event apigateway aws-proxy`, and a way to call a function's real handler."""

from __future__ import annotations

import base64
import importlib.util
import json
import uuid
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from tests.support.template import function_code_dir


def proxy_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    body: str | bytes | dict | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
    base64_body: bool = False,
    api_key: str | None = None,
) -> dict[str, Any]:
    if isinstance(body, dict):
        body = json.dumps(body)
    raw = body.encode() if isinstance(body, str) else body
    hdrs = {"Content-Type": "application/json", "Host": "api.example.test", **(headers or {})}
    if api_key:
        hdrs["X-Api-Key"] = api_key
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1", "apiKey": api_key},
            "apiId": "local",
        },
        "body": None if raw is None else (base64.b64encode(raw).decode() if base64_body else raw.decode()),
        "isBase64Encoded": base64_body,
    }


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@cache
def handler_module(function_logical_id: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` of a template function under a unique module name."""
    path = function_code_dir(function_logical_id) / "app.py"
    spec = importlib.util.spec_from_file_location(f"handler_{function_logical_id}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def invoke(function_logical_id: str, event: dict[str, Any]) -> Answer:
    result = handler_module(function_logical_id).lambda_handler(event, LambdaContext(function_name=function_logical_id))
    body = result.get("body")
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return Answer(result["statusCode"], json.loads(body) if body else None, result.get("headers") or {})
