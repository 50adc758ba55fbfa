"""Helpers shared by the vendor client tests (plain functions, so no conftest is needed)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from orderbridge.observability import logger

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class ScriptedTransport(httpx.MockTransport):
    """Answers requests with a fixed script of responses (or exceptions) and records every request.

    The last step repeats once the script is exhausted, so "always 503" is a one-step script.
    """

    def __init__(self, *steps: Step) -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise step
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return httpx.Response(step.status_code, headers=step.headers, content=step.content)


class SleepRecorder:
    """Stands in for time.sleep: records how long each wait would have been."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the Orderbridge logger writes, formatted exactly as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    python_logger = logging.getLogger(logger.name)
    python_logger.addHandler(handler)
    try:
        yield stream
    finally:
        python_logger.removeHandler(handler)


def log_records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response whose body is ``body`` as JSON text (a str is sent verbatim, to keep "7199.980")."""
    content = body if isinstance(body, str) else json.dumps(body)
    return httpx.Response(
        status_code, content=content.encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
