"""AWS clients, built once per container from one botocore session.

Timeouts are short because Blink gives a webhook 5 s in all: a slow DynamoDB call must fail
fast (and be answered with a retryable 5xx) rather than run past the sender's deadline. They are
settings (``AWS_CONNECT_TIMEOUT_SECONDS``, ``AWS_READ_TIMEOUT_SECONDS``): the local stack's
emulator answers slower than AWS under load and gives them more.
Tests count round trips by listening on :data:`session`'s ``before-send`` event.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

import boto3
from botocore.config import Config

from orderbridge.config import get_settings

session = boto3.session.Session()


@cache
def client(service: str) -> Any:
    settings = get_settings()
    config = Config(
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        retries={"mode": "standard", "max_attempts": 3},
    )
    # Any: the stubs type a client per literal service name; callers name theirs in ``deps``.
    return cast(Any, session).client(service, config=config)


def reset_clients() -> None:
    """Forget the cached clients (tests that switch emulator or region between cases)."""
    client.cache_clear()
