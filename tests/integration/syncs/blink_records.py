"""What the branches, customers and abandoned-carts sync tests share: the Blink sandbox served
in-process (an httpx WSGI transport) as the merchant's Blink, a fake Lambda time that each Blink
request uses up, the sync Lambdas fired through their real handlers, and the ops API called
through its handler (JSON or CSV answers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from orderbridge import aws as aws_clients
from orderbridge.config import get_settings
from orderbridge.deps import Deps, get_deps
from orderbridge.models.config import Merchant
from orderbridge.syncs import runner
from orderbridge.vendors.clients import VendorClients
from orderbridge.vendors.credentials import VendorCredentials
from orderbridge.vendors.http import Deadline
from orderbridge_local.sandboxes.blink import BlinkSandbox

from tests.support.apigw import LambdaContext, handler_module, proxy_event

MERCHANT = "m-demo"
# A moment after the doc's sample cart (2026-02-09 08:08:18) and every seeded customer.
NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)


class LambdaTime:
    """The Lambda's remaining time, used up by Blink's answers: each request to the sandbox takes
    ``per_request`` seconds of it (the run's deadline reads this clock)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.per_request = 0.0

    def clock(self) -> float:
        return self.now


class TimedSandbox:
    """The sandbox as a WSGI app whose every request advances :class:`LambdaTime`."""

    def __init__(self, sandbox: BlinkSandbox, time: LambdaTime) -> None:
        self.sandbox = sandbox
        self.time = time

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.time.now += self.time.per_request
        return self.sandbox(environ, start_response)


@pytest.fixture
def lambda_time(monkeypatch: pytest.MonkeyPatch) -> LambdaTime:
    time = LambdaTime()

    def deadline(context: Any) -> Deadline:
        return Deadline(time.now + context.get_remaining_time_in_millis() / 1000, time.clock)

    monkeypatch.setattr(runner, "_deadline", deadline)
    monkeypatch.setattr(runner, "RETRY_PAUSE_SECONDS", 0.0)
    return time


@pytest.fixture
def blink() -> BlinkSandbox:
    return BlinkSandbox({"webhook_mode": "sync"})


@pytest.fixture
def dead_letter_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    url: str = aws_clients.client("sqs").create_queue(QueueName="sync-dlq")["QueueUrl"]
    monkeypatch.setenv("SYNC_DEAD_LETTER_QUEUE_URL", url)
    return url


@pytest.fixture
def sync_deps(dead_letter_queue: str, blink: BlinkSandbox, lambda_time: LambdaTime) -> Deps:
    """The container's dependencies (the ones the sync Lambdas use), with the sandbox as Blink."""
    get_settings.cache_clear()
    get_deps.cache_clear()
    deps = get_deps()
    deps.clock = lambda: NOW
    credentials = VendorCredentials.model_validate(
        {"merchant_id": MERCHANT, "blink": {"username": blink.settings.username, "password": blink.settings.password}}
    )
    deps.vendors = VendorClients(
        deps.settings,
        transport=httpx.WSGITransport(app=TimedSandbox(blink, lambda_time)),
        credentials=lambda m: credentials,
    )
    deps.config.put(Merchant(merchant_id=MERCHANT, name="Demo Restaurant"))
    return deps


class Context(LambdaContext):
    """A LambdaContext with ``seconds`` of time left."""

    def __init__(self, seconds: float = 60, name: str = "sync") -> None:
        super().__init__(function_name=name)
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def fire(function_logical_id: str, seconds: float = 60) -> dict[str, Any]:
    """Invoke a sync Lambda through its handler module; its report."""
    context = Context(seconds, function_logical_id)
    report: dict[str, Any] = handler_module(function_logical_id).lambda_handler({}, context)
    return report


def dead_letters(url: str) -> list[dict[str, Any]]:
    answer = aws_clients.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def blink_requests(sandbox: BlinkSandbox, path: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests_log() if r.get("path") == path]


def ops(path: str, **query: str) -> tuple[int, Any, dict[str, str]]:
    """GET an ops route through the OpsApiFunction handler: status, body (JSON or text), headers."""
    event = proxy_event("GET", path, query=query or None, api_key="test-key")
    result = handler_module("OpsApiFunction").lambda_handler(event, LambdaContext(function_name="OpsApiFunction"))
    headers = {k: v for k, v in (result.get("headers") or {}).items()}
    headers |= {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items() if v}
    body = result.get("body") or ""
    content_type = headers.get("Content-Type", "")
    return result["statusCode"], (json.loads(body) if "json" in content_type else body), headers
