"""Fixtures for the vendor sandbox tests: a webhook receiver and an HTTP client, all on 127.0.0.1.

Every server is started on an ephemeral port and stopped in teardown; every wait is bounded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

WAIT_SECONDS = 5.0


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: str

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    """A tiny werkzeug server standing in for our webhook endpoints.

    It records every request and answers with the next scripted ``(status, body)`` (then with
    the default answer once the script is used up). ``on_receive``, when set, is called with each
    recorded request before it is answered (to hold the answer, or to call back the sender).
    """

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: deque[tuple[int, Any]] = field(default_factory=deque)
    default: tuple[int, Any] = (200, {"ok": True})
    on_receive: Callable[[Received], None] | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def answer(self, *answers: tuple[int, Any]) -> None:
        with self._cond:
            self.script.extend(answers)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        received = Received(
            method=request.method,
            path=request.path,
            query=request.args.to_dict(),
            headers=dict(request.headers.items()),
            raw=request.get_data(as_text=True),
        )
        with self._cond:
            self.received.append(received)
            status, body = self.script.popleft() if self.script else self.default
            self._cond.notify_all()
        if self.on_receive is not None:
            self.on_receive(received)
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        return response(environ, start_response)

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} webhook(s), got {len(self.received)}")
                self._cond.wait(remaining)
            return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    app.url = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT_SECONDS)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=WAIT_SECONDS, trust_env=False) as client:
        yield client


def _wait_until(predicate: Callable[[], Any], timeout: float = WAIT_SECONDS, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """``wait_until(predicate, timeout=5)``: poll until truthy, fail the test when time is up."""
    return _wait_until


@pytest.fixture(autouse=True)
def no_orphan_threads() -> Iterator[None]:
    """Every server a test starts is stopped with all of its threads by the end of the test."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"threads left running: {[t.name for t in left]}")
        time.sleep(0.02)
