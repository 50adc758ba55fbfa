"""Small helpers over the low-level DynamoDB client: (de)serialisation and transaction errors."""

from __future__ import annotations

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
    return _serializer.serialize(plain(value))


def from_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in attrs.items()}


def ints(item: dict[str, Any]) -> dict[str, Any]:
    """Whole-number Decimals back to int (DynamoDB returns every number as Decimal)."""

    def conv(v: Any) -> Any:
        if isinstance(v, Decimal) and v == v.to_integral_value() and v.as_tuple().exponent == 0:
            return int(v)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(item)


def cancellation_codes(error: ClientError) -> list[str]:
    """Per-item codes of a cancelled transaction (``None`` where the item passed)."""
    reasons = error.response.get("CancellationReasons") or []
    return [r.get("Code", "None") for r in reasons]


def unavailable(error: ClientError | BotoCoreError, what: str) -> ServiceUnavailable:
    """A DynamoDB failure that is not a condition: the sender should retry."""
    code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else type(error).__name__
    return ServiceUnavailable(f"could not {what} ({code}); please retry")
