"""AWS clients, built once per container from one botocore session.

Timeouts are short because Blink gives a webhook 5 s in all: a slow DynamoDB call must fail
fast (and be answered with a retryable 5xx) rather than run past the sender's deadline.
Tests count round trips by listening on :data:`session`'s ``before-send`` event.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

session = boto3.session.Session()

_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "max_attempts": 3},
)


@cache
def client(service: str) -> Any:
    return session.client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget the cached clients (tests that switch emulator or region between cases)."""
    client.cache_clear()
