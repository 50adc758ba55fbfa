"""Corrections that make moto behave like DynamoDB where Orderbridge depends on it.

1. DynamoDB applies each conditional write (and each transaction) atomically: two writers cannot
   both pass a condition on the same item. moto checks and writes without a lock, so concurrent
   requests — the 50-at-once duplicate deliveries, concurrent status events, the local stack's
   threaded front — could both pass. Writes are put behind one lock (coarser than DynamoDB's
   per-item isolation, which only makes it stricter).
2. A transaction is judged before it writes, as DynamoDB does: every condition is evaluated
   against the items as they are, and only when all hold are the writes applied — a cancelled
   transaction writes nothing and leaves no stream record. moto instead writes as it goes and
   rolls a cancelled transaction back by swapping in a deep copy of every table it touches, taken
   before it: a copy of the whole table per transaction (the local stack's time and memory grew
   with every order), and a swapped-in copy whose stream shard the stream poller no longer holds.
   Should a write still fail half-way (an invalid update expression), the items it touched are put
   back and their stream records cut. Reading a stream shard takes the same lock, so a reader never
   sees a record of a transaction in flight.
3. A Query reads the items of one partition (or, on an index, sorts what it finds by the index's
   keys). moto's Query gathers and sorts *every* item of the table first — for each query: the
   local stack's one emulator process spent most of a burst sorting the whole orders table, and
   each order made every later query slower. :func:`partition_queries` hands a base-table query
   only its partition's items, and an index query the table's items unsorted (moto sorts the
   matches by the index's keys and then the table's: a total order, so the result is the same).
"""

from __future__ import annotations

import functools
import threading
import time
from contextlib import AbstractContextManager
from typing import Any

_LOCK = threading.RLock()
_waits = {"writes": 0, "waited": 0, "wait_ms_total": 0.0, "wait_ms_max": 0.0}
_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item")
_patched = False


def lock_waits() -> dict[str, float]:
    """How many DynamoDB writes took the lock, how many had to wait for it, and how long (ms)."""
    return {k: round(v, 1) for k, v in _waits.items()}


def _take_lock() -> None:
    """Acquire the DynamoDB lock, counting the wait."""
    if _LOCK.acquire(blocking=False):
        _waits["writes"] += 1
        return
    began = time.perf_counter()
    _LOCK.acquire()
    waited = (time.perf_counter() - began) * 1000
    _waits["writes"] += 1
    _waits["waited"] += 1
    _waits["wait_ms_total"] += waited
    _waits["wait_ms_max"] = max(_waits["wait_ms_max"], waited)


def dynamodb_lock() -> AbstractContextManager[bool]:
    """The lock every DynamoDB write (and stream read) holds: for code that must not interleave
    with a write, such as trimming a stream (:mod:`orderbridge_local.retention`)."""
    return _LOCK


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
                _take_lock()  # counted; the same lock as ``with _LOCK``
                try:
                    return __original(self, *args, **kwargs)
                finally:
                    _LOCK.release()

            setattr(DynamoDBBackend, name, locked)

        # Patching moto's method is the point here.
        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]

        from moto.dynamodb.models.table import StreamShard

        original_get = StreamShard.get

        @functools.wraps(original_get)
        def read(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _LOCK:  # never a record of a transaction that may still be rolled back
                return original_get(self, *args, **kwargs)

        StreamShard.get = read  # type: ignore[method-assign]  # the patch (see above)
        _patched = True


_QUERY = threading.local()
_queries_patched = False


def partition_queries() -> None:
    """Idempotent: Query reads its partition, not the whole table (the module's point 3)."""
    global _queries_patched
    with _LOCK:
        if _queries_patched:
            return
        from moto.dynamodb.models.table import Table

        original_query = Table.query
        original_all_items = Table.all_items

        @functools.wraps(original_query)
        def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
            index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
            _QUERY.scope = (self, None if index_name else hash_key)
            try:
                return original_query(self, hash_key, *args, **kwargs)
            finally:
                _QUERY.scope = None

        @functools.wraps(original_all_items)
        def all_items(self: Any) -> list[Any]:
            scope = getattr(_QUERY, "scope", None)
            if scope is None or scope[0] is not self:
                return original_all_items(self)
            hash_key = scope[1]
            if hash_key is None:  # an index query: moto sorts the matches itself
                return [item for held in list(self.items.values()) for item in _partition(self, held)]
            held = self.items.get(hash_key)
            return [] if held is None else _partition(self, held)

        # Patching moto's methods is the point here.
        Table.query = query  # type: ignore[method-assign]
        Table.all_items = all_items  # type: ignore[method-assign]
        _queries_patched = True


def _partition(table: Any, held: Any) -> list[Any]:
    """The items of one partition (``table.items[hash]``: range key → item, or the item itself)."""
    return list(held.values()) if table.range_key_attr else [held]


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems: all conditions first, then all writes (see the module's point 2)."""
    from moto.dynamodb.exceptions import TooManyTransactionsException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    _take_lock()
    try:
        _judge_and_apply(self, transact_items)
    finally:
        _LOCK.release()


def _judge_and_apply(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """A transaction's conditions judged, then its writes applied (the caller holds the lock)."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    plan: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, Any]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        table = self.get_table(table_name)
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        identity = (str(table_name), str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        current = self.get_item(table_name, key)
        condition = op.get("ConditionExpression")
        if condition is not None:
            holds = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current)
            if not holds:
                old = (
                    current.to_json()["Attributes"]
                    if (op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current)
                    else None
                )
                errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                continue
        errors.append((None, None, None))
        plan.append((op_type, op, table_name, key))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    _apply(self, plan)


def _apply(self: Any, plan: list[tuple[str, dict[str, Any], str, dict[str, Any]]]) -> None:
    """The writes of a transaction whose conditions all hold; a write failing half-way puts back
    the items written before it and cuts their stream records."""
    import copy

    before = [(name, key, copy.deepcopy(self.get_item(name, key))) for _, _, name, key in plan]
    # Where each stream ends now, as a sequence number (the shard's oldest records may be trimmed
    # meanwhile, which moves its start but never a record's number).
    shards = {
        name: (table.stream_shard, table.stream_shard.starting_sequence_number + len(table.stream_shard.items))
        for name, table in self.tables.items()
        if table.stream_shard is not None
    }
    try:
        for op_type, op, table_name, key in plan:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(
                    table_name, op["Item"], expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Delete":
                self.delete_item(table_name, key, expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception:
        for table_name, key, item in before:
            if item is None:
                if self.get_item(table_name, key) is not None:
                    self.delete_item(table_name, key)
            else:
                self.put_item(table_name, item.to_json()["Attributes"])
        for shard, end in shards.values():
            del shard.items[max(0, end - shard.starting_sequence_number) :]
        raise
