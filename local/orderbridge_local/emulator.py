"""Corrections that make moto behave like DynamoDB where Orderbridge depends on it.

1. DynamoDB applies each conditional write (and each transaction) atomically: two writers cannot
   both pass a condition on the same item. moto checks and writes without a lock, so concurrent
   requests — the 50-at-once duplicate deliveries, concurrent status events, the local stack's
   threaded front — could both pass. Writes are put behind one lock (coarser than DynamoDB's
   per-item isolation, which only makes it stricter).
2. A cancelled transaction leaves no trace in DynamoDB Streams. moto rolls a cancelled
   transaction back by swapping in a deep copy of the table taken before it — stream shard
   included — so readers holding the live shard (the stream poller's iterator) stop seeing any
   later record, and items written before the failing condition leave records behind. After a
   rollback the live shard is put back, cut to where it was before the transaction. Reading a
   stream shard takes the same lock: a reader that saw a record of a transaction still in flight
   would move its iterator past that record's sequence number, and skip the committed record that
   reuses the number once the transaction is rolled back (a lost stream record: the order stream
   never re-judges the order's waits).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item")
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

        original_transact = DynamoDBBackend.transact_write_items

        @functools.wraps(original_transact)
        def transact(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _LOCK:
                shards = {name: (table, table.stream_shard, len(table.stream_shard.items))
                          for name, table in self.tables.items() if table.stream_shard is not None}
                try:
                    return original_transact(self, *args, **kwargs)
                finally:
                    for name, (table, shard, length) in shards.items():
                        current = self.tables.get(name)
                        if current is not None and current is not table:  # rolled back to a copy
                            del shard.items[length:]
                            shard.table = current
                            current.stream_shard = shard

        DynamoDBBackend.transact_write_items = transact

        from moto.dynamodb.models.table import StreamShard

        original_get = StreamShard.get

        @functools.wraps(original_get)
        def read(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _LOCK:  # never a record of a transaction that may still be rolled back
                return original_get(self, *args, **kwargs)

        StreamShard.get = read
        _patched = True
