"""One readable line per event: time, function, what triggered it, order id when known, outcome
(HTTP status, ``ok`` or the error), duration — built from the invocation and the function's own
JSON log lines (Powertools), which also say which order it was about.

    16:47:37.120  BlinkOrderWebhookFunction    POST /webhooks/blink/orders        200  order=blink-1236589   38 ms
                  ↳ WARNING request refused (error=unauthorized)

Warnings and errors the function logged follow their line, indented; ``verbose`` prints every
line the function wrote.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime
from typing import Any, TextIO

from orderbridge_local.runtime import Invocation

_PROBLEM_LEVELS = {"WARNING", "ERROR", "CRITICAL", "EXCEPTION"}


def parse_line(line: str) -> dict[str, Any] | None:
    """A JSON log record (Powertools), or None for plain text and EMF metric documents."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or "_aws" in record:
        return None
    return record


def order_id_of(invocation: Invocation) -> str | None:
    """The order the invocation was about: the function's logged ``order_id`` (or correlation id),
    else an ``order_id`` in its answer's body."""
    found = None
    for line in invocation.logs:
        record = parse_line(line)
        if record:
            found = record.get("order_id") or record.get("correlation_id") or found
    if found:
        return str(found)
    body = _answer_body(invocation)
    if isinstance(body, dict) and body.get("order_id"):
        return str(body["order_id"])
    return None


def _answer(invocation: Invocation) -> Any:
    if not invocation.ok or not invocation.result:
        return None
    try:
        return json.loads(invocation.result)
    except ValueError:
        return None


def _answer_body(invocation: Invocation) -> Any:
    answer = _answer(invocation)
    if isinstance(answer, dict) and isinstance(answer.get("body"), str):
        try:
            return json.loads(answer["body"])
        except ValueError:
            return None
    return answer


def outcome_of(invocation: Invocation) -> str:
    if not invocation.ok:
        return (invocation.error or {}).get("errorType", "error")
    answer = _answer(invocation)
    if isinstance(answer, dict) and isinstance(answer.get("statusCode"), int):
        return str(answer["statusCode"])
    return "ok"


def problems(invocation: Invocation) -> list[str]:
    out = []
    for line in invocation.logs:
        record = parse_line(line)
        if record and str(record.get("level", "")).upper() in _PROBLEM_LEVELS:
            extra = {k: record[k] for k in ("error", "status_code") if k in record}
            detail = " (" + ", ".join(f"{k}={v}" for k, v in extra.items()) + ")" if extra else ""
            out.append(f"{record.get('level')} {record.get('message')}{detail}")
            if record.get("exception"):
                out.append(str(record["exception"]).strip().splitlines()[-1])
    if invocation.error:
        out.append(f"{invocation.error.get('errorType')}: {invocation.error.get('errorMessage')}")
    return out


def annotate(invocation: Invocation) -> None:
    """Fill in the invocation's ``status`` and ``order_id`` (the runtime's first listener)."""
    invocation.status = outcome_of(invocation)
    invocation.order_id = order_id_of(invocation)


class EventLog:
    """Prints the local stack's events (thread-safe) and keeps them short."""

    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.verbose = verbose
        self._lock = threading.Lock()

    def _emit(self, lines: list[str]) -> None:
        with self._lock:
            for line in lines:
                self.stream.write(line + "\n")
            self.stream.flush()

    @staticmethod
    def _time(epoch: float | None = None) -> str:
        moment = datetime.fromtimestamp(epoch) if epoch else datetime.now()
        return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"

    def invocation(self, invocation: Invocation) -> None:
        order = f"order={invocation.order_id}" if invocation.order_id else ""
        cold = f" (cold start {invocation.cold_init_ms:.0f} ms)" if invocation.cold_init_ms is not None else ""
        line = (
            f"{self._time(invocation.started_at)}  {invocation.function:<32} {invocation.source:<44} "
            f"{invocation.status:>4}  {order:<28} {invocation.duration_ms:>6.0f} ms{cold}"
        )
        extra = [f"{'':14}↳ {p}" for p in problems(invocation)]
        if self.verbose:
            extra += [f"{'':14}| {raw}" for raw in invocation.logs]
        self._emit([line.rstrip(), *extra])

    def gateway(self, method: str, path: str, status: int, ms: float, note: str) -> None:
        """Requests API Gateway answers itself (no function ran): unknown route, API key."""
        if not note or note.startswith(("function", "malformed")):
            if note:
                self._emit([f"{self._time()}  {'API Gateway':<32} {method + ' ' + path:<44} {status:>4}  {note}"])
            return
        self._emit(
            [f"{self._time()}  {'API Gateway':<32} {method + ' ' + path:<44} {status:>4}  {note:<28} {ms:>6.0f} ms"]
        )

    def info(self, message: str) -> None:
        self._emit([f"{self._time()}  {message}"])
