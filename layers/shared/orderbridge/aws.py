"""AWS clients, built once per container from one botocore session.

Timeouts are short because Blink gives a webhook 5 s in all: a slow DynamoDB call must fail
fast (and be answered with a retryable 5xx) rather than run past the sender's deadline. They are
settings (``AWS_CONNECT_TIMEOUT_SECONDS``, ``AWS_READ_TIMEOUT_SECONDS``): the local stack's
emulator answers slower than AWS under load and gives them more.
Tests count round trips by listening on :data:`session`'s ``before-send`` event.

DynamoDB cancels a transaction that meets another one on the same item (reason
``TransactionConflict``) and refuses a single write that meets a transaction
(``TransactionConflictException``); botocore retries neither. The DynamoDB client retries both
(:func:`retry_transaction_conflicts`): concurrent events for one order all land, without a 503 to a
sender that may never retry (Blink).
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any, cast

import boto3
from botocore.config import Config

from orderbridge.config import get_settings

session = boto3.session.Session()


@cache
def client(service: str) -> Any:
    from orderbridge.observability import tracer

    tracer.patch(["botocore"])  # its calls as X-Ray subsegments (once; nothing when tracing is off)
    settings = get_settings()
    config = Config(
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        retries={"mode": "standard", "max_attempts": 3},
    )
    # Any: the stubs type a client per literal service name; callers name theirs in ``deps``.
    made = cast(Any, session).client(service, config=config)
    if service == "dynamodb":
        made.meta.events.register("needs-retry.dynamodb", retry_transaction_conflicts)
    return made


# Retries of a write that met a concurrent transaction: a jittered wait of at most 25 ms × 2^n, so
# all four take under 0.8 s — inside a webhook's budget (Blink waits 5 s) — and what still
# conflicts after them is the store's retryable 503.
CONFLICT_RETRIES = 4
CONFLICT_BASE_SECONDS = 0.025


def retry_transaction_conflicts(response: Any = None, attempts: int = 1, **_: Any) -> float | None:
    """botocore's ``needs-retry`` hook: seconds to wait before sending a write again that failed
    only because a concurrent transaction held its item; None to leave the answer as it is."""
    if response is None or attempts > CONFLICT_RETRIES:
        return None
    parsed = response[1]
    code = (parsed.get("Error") or {}).get("Code")
    if code == "TransactionCanceledException":
        reasons = {reason.get("Code") or "None" for reason in parsed.get("CancellationReasons") or []}
        if "TransactionConflict" not in reasons or reasons - {"TransactionConflict", "None"}:
            return None
    elif code != "TransactionConflictException":
        return None
    return random.uniform(0, CONFLICT_BASE_SECONDS * 2**attempts)  # noqa: S311 - jitter, not a secret


def reset_clients() -> None:
    """Forget the cached clients (tests that switch emulator or region between cases)."""
    client.cache_clear()
