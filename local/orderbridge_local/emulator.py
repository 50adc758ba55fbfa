"""Corrections that make moto behave like DynamoDB where Orderbridge depends on it.

DynamoDB applies each conditional write (and each transaction) atomically: two writers cannot
both pass a condition on the same item. moto checks and writes without a lock, so concurrent
requests — the 50-at-once duplicate deliveries, concurrent status events, the local stack's
threaded front — could both pass. :func:`serialise_dynamodb_writes` puts moto's DynamoDB writes
behind one lock (coarser than DynamoDB's per-item isolation, which only makes it stricter).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_patched = False


def serialise_dynamodb_writes() -> None:
    """Idempotent: patch moto's DynamoDB backend once per process."""
    global _patched
    with _LOCK:
        if _patched:
            return
        from moto.dynamodb.models import DynamoDBBackend

        for name in _WRITES:
            original = getattr(DynamoDBBackend, name)

            @functools.wraps(original)
            def locked(self: Any, *args: Any, __original=original, **kwargs: Any) -> Any:
                with _LOCK:
                    return __original(self, *args, **kwargs)

            setattr(DynamoDBBackend, name, locked)
        _patched = True
