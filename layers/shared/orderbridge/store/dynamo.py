"""Small helpers over the low-level DynamoDB client: (de)serialisation, and the one place where
AWS errors become ours (:func:`aws_call`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from orderbridge.errors import ServiceUnavailable

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def plain(value: Any) -> Any:
    """Python values DynamoDB accepts: datetimes as ISO-8601 UTC strings, enums as values,
    Decimals kept (never floats), empty strings dropped from maps."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        raise TypeError("floats are not stored: use Decimal")
    return value


def to_attrs(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in plain(item).items()}


def to_value(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(plain(value)))


def from_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in attrs.items()}


def ints(value: Any) -> Any:
    """Whole-number Decimals back to int, in ``value`` and all it holds (DynamoDB returns every
    number as Decimal)."""

    def conv(v: Any) -> Any:
        if isinstance(v, Decimal) and v == v.to_integral_value() and v.as_tuple().exponent == 0:
            return int(v)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(value)


class ConditionFailed(Exception):
    """A write refused by its condition: a conditional request, or a transaction cancelled
    because of conditions. ``codes`` has one code per item of a transaction (``"None"`` where the
    item passed; ``["ConditionalCheckFailed"]`` for a single request). Raised only inside
    ``aws_call(..., conditional=True)``: the store decides what a failed condition means."""

    def __init__(self, codes: list[str], what: str) -> None:
        super().__init__(f"condition failed: {what} ({', '.join(codes)})")
        self.codes = codes
        self.what = what

    def at(self, start: int, stop: int | None = None) -> bool:
        """True when an item in ``codes[start:stop]`` failed its condition."""
        return "ConditionalCheckFailed" in self.codes[start:stop]

    def unexpected(self) -> ServiceUnavailable:
        """A condition the caller did not expect to fail: retryable, like any other failure."""
        return ServiceUnavailable(f"could not {self.what} (TransactionCanceledException); please retry")


@contextmanager
def aws_call(what: str, *, conditional: bool = False) -> Iterator[None]:
    """Turn an AWS failure inside the block into ours: :class:`ServiceUnavailable` (the sender
    should retry) — or, with ``conditional``, :class:`ConditionFailed` when a condition refused
    the write (a conditional request, or a transaction cancelled for its conditions). ``what``
    says what could not be done."""
    try:
        yield
    except ClientError as error:
        codes = _condition_codes(error) if conditional else None
        if codes is not None:
            raise ConditionFailed(codes, what) from error
        raise _unavailable(error, what) from error
    except BotoCoreError as error:
        raise _unavailable(error, what) from error


def query_items(client: Any, what: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item ``query`` (a DynamoDB Query's parameters) answers, as plain values, page after
    page (its ``LastEvaluatedKey``) as the caller goes on; ``what`` as for :func:`aws_call`."""
    query = dict(query)
    while True:
        with aws_call(what):
            page = client.query(**query)
        yield from (from_attrs(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def aws_error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _condition_codes(error: ClientError) -> list[str] | None:
    """Per-item codes of a write refused by a condition; None for any other failure."""
    code = aws_error_code(error)
    if code == "ConditionalCheckFailedException":
        return ["ConditionalCheckFailed"]
    if code == "TransactionCanceledException":
        codes = [r.get("Code", "None") for r in error.response.get("CancellationReasons") or []]
        if "ConditionalCheckFailed" in codes:
            return codes
    return None


def _unavailable(error: ClientError | BotoCoreError, what: str) -> ServiceUnavailable:
    """An AWS failure that is not a condition: the sender should retry."""
    code = aws_error_code(error) if isinstance(error, ClientError) else type(error).__name__
    return ServiceUnavailable(f"could not {what} ({code}); please retry")
