"""One BatchGetItem across tables: how a webhook reads everything it needs in one round trip."""

from __future__ import annotations

from typing import Any

from orderbridge.errors import ServiceUnavailable
from orderbridge.store.dynamo import aws_call, from_attrs, to_attrs

Key = dict[str, str]
_MAX_KEYS = 100  # BatchGetItem's limit per call
_MAX_ROUNDS = 5  # unprocessed keys are retried at most this many times


def batch_get(client: Any, wanted: dict[str, list[Key]], *, consistent: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Fetch ``wanted`` (table → keys); returns table → items found (missing keys are absent).

    Strongly consistent by default: a duplicate delivery right after the first must see it.
    """
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in wanted}
    pending = [(table, key) for table, keys in wanted.items() for key in _unique(keys)]
    rounds = 0
    while pending:
        chunk, pending = pending[:_MAX_KEYS], pending[_MAX_KEYS:]
        request: dict[str, Any] = {}
        for table, key in chunk:
            request.setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(to_attrs(key))
        with aws_call("read from DynamoDB"):
            answer = client.batch_get_item(RequestItems=request)
        for table, items in answer.get("Responses", {}).items():
            found[table].extend(from_attrs(item) for item in items)
        unprocessed = answer.get("UnprocessedKeys") or {}
        if unprocessed:
            rounds += 1
            if rounds > _MAX_ROUNDS:
                raise ServiceUnavailable("could not read (UnprocessedKeys); please retry")
            pending = [
                (table, from_attrs(key)) for table, spec in unprocessed.items() for key in spec["Keys"]
            ] + pending
    return found


def _unique(keys: list[Key]) -> list[Key]:
    seen: set[tuple[tuple[str, str], ...]] = set()
    out = []
    for key in keys:
        marker = tuple(sorted(key.items()))
        if marker not in seen:
            seen.add(marker)
            out.append(key)
    return out
