"""A page of a list the ops API answers: ``limit`` and ``cursor`` read from the query string, the
next page's cursor written back (DynamoDB's ``LastEvaluatedKey``, opaque: URL-safe base64 JSON).

Bad values are collected into ``errors`` (each a :class:`FieldError`), so a query's every mistake
is reported in one 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from orderbridge.errors import FieldError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def page_limit(query: dict[str, str], errors: list[FieldError]) -> int:
    """``limit``: a whole number from 1 to :data:`MAX_LIMIT` (:data:`DEFAULT_LIMIT` when absent)."""
    try:
        limit = int(query.get("limit", str(DEFAULT_LIMIT)))
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        errors.append(FieldError("limit", f"a whole number from 1 to {MAX_LIMIT}"))
        return DEFAULT_LIMIT
    return limit


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """The cursor of the next page (None: this was the last)."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(
    cursor: str | None, errors: list[FieldError], *, partition: str | None = None
) -> dict[str, Any] | None:
    """The key to go on from, if ``cursor`` is one this API returned; with ``partition``, only a
    key of that partition (``pk``) with a sort key (a cursor of the same list)."""
    if not cursor:
        return None
    try:
        if len(cursor) > _CURSOR_MAX:
            raise ValueError
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(key, dict) or not _is_key(key):
            raise ValueError
        if partition is not None and not _of_partition(key, partition):
            raise ValueError
        return key
    except (ValueError, binascii.Error, AttributeError, RecursionError):
        errors.append(FieldError("cursor", "not a cursor this API returned"))
        return None


_CURSOR_MAX = 4096  # characters: a cursor this API returns is a few hundred


def _is_key(key: dict[str, Any]) -> bool:
    """A DynamoDB key as a ``LastEvaluatedKey`` holds one: ``pk``, ``sk`` and at most two index key
    attributes, each a non-empty string attribute that fits a key (anything else would reach
    DynamoDB as a ``ValidationException``: a 503 for a client's mistake)."""
    return (
        {"pk", "sk"} <= set(key)
        and len(key) <= 4
        and all(isinstance(name, str) and 0 < len(name) <= 64 for name in key)
        and all(
            isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) and 0 < len(v["S"]) <= 1024
            for v in key.values()
        )
    )


def _of_partition(key: dict[str, Any], partition: str) -> bool:
    return set(key) == {"pk", "sk"} and key["pk"] == {"S": partition}


def of_index(key: dict[str, Any], partition_attr: str, value: str, sort_attr: str) -> bool:
    """``key`` is a key of the index whose partition is ``partition_attr = value`` (sort key
    ``sort_attr``): the table's key and that index's, nothing else (a cursor of the same list)."""
    return set(key) == {"pk", "sk", partition_attr, sort_attr} and key[partition_attr] == {"S": value}
