"""Field types for vendor payloads as the vendors really send them.

Blink sends numbers as strings ("7199.980"), ids as strings or ints, many fields null, and
naive timestamps that mean UTC. These annotated types accept all of that and give us
``Decimal`` money, ``str`` ids and timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Protocol, TypeVar

from annotated_types import Ge, Lt
from pydantic import AfterValidator, BeforeValidator, PlainSerializer, StringConstraints

MONEY_DIGITS = 38
"""Significant digits a Money value may have: DynamoDB's Number holds 38."""
MONEY_LIMIT = Decimal(10) ** 26
"""Any Money value (sums and products of amounts included) is under 1e26 in magnitude."""
AMOUNT_LIMIT = Decimal(10) ** 12
"""A price or total a vendor sends is under a trillion: far above any order, inside every vendor's
range; with quantities up to :data:`QUANTITY_LIMIT` and a body's worth of items, every sum we make
of them stays under :data:`MONEY_LIMIT`."""
QUANTITY_LIMIT = 1_000_000
"""Item and option quantities are at most a million."""
ID_MAX_LENGTH = 128
"""An id becomes part of DynamoDB keys (a sort key holds 1,024 bytes): vendors' ids are far shorter."""
FREE_TEXT_MAX_LENGTH = 2_000
"""Names, notes, instructions, addresses a client sends: at most this many characters (a kitchen
note or an address is a few hundred at most); longer is a 422 naming the field."""
ORDER_LINES_LIMIT = 300
"""An order has at most this many lines (items plus their options); a body with more is a 422.

Why a body within ``max_body_bytes`` (256 KiB) then fits DynamoDB's 400 KB item (409,600 bytes):
the order item holds the payload's text decoded (never longer than its bytes in the body: JSON
escapes only shrink) plus our attribute names per line, measured at about 105 bytes a line for a
partner line (``test_the_largest_order_the_limits_allow_is_stored_under_400_kb``): at most
262,144 + 300 x 105 = 293,644 bytes, leaving over 100 KB for the names a partner item's mapping adds.
The timeline event holds the raw body (at most 262,144 bytes) beside its detail, whose free text is
capped (:data:`FREE_TEXT_MAX_LENGTH`, at most 8,000 bytes a field) and whose per-line part (a
partner order's unmapped lines) is about 32 bytes a line: about 280,000 bytes at most (measured
280,213), a Blink status's three free-text fields adding at most 24,000. Without a cap on lines,
7,500 one-character partner items in 256 KiB made an order item over 400 KB (503, ValidationException)."""
INT_LIMIT = 2**63
"""Integers (counts, statuses, pages) fit a signed 64-bit integer, as every vendor's do."""

_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y %I:%M %p", "%Y-%m-%d")


def _to_decimal(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a number is expected, not a boolean")
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text == "":
            return None
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return number
    raise ValueError("a number or a numeric string is expected")


def _bounded_money(value: Decimal | None) -> Decimal | None:
    """Finite, at most :data:`MONEY_DIGITS` significant digits, under :data:`MONEY_LIMIT`."""
    if value is None:
        return None
    if not value.is_finite():
        raise ValueError("a finite number is expected")
    if abs(value) >= MONEY_LIMIT:
        raise ValueError(f"must be less than {MONEY_LIMIT:,} in magnitude")
    if len("".join(map(str, value.as_tuple().digits)).rstrip("0")) > MONEY_DIGITS:
        raise ValueError(f"has more than {MONEY_DIGITS} significant digits")
    return value


def _to_id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("an id is expected, not a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _to_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("an integer is expected, not a boolean")
    text = value.strip() if isinstance(value, str) else ""
    if text and text.isascii() and text.lstrip("-").isdigit():
        if len(text.lstrip("-")) > 19:
            raise ValueError("an integer of at most 19 digits is expected")
        value = int(text)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, int) and not -INT_LIMIT < value < INT_LIMIT:
        raise ValueError("an integer of at most 19 digits is expected")
    return value


def _to_utc(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = _parse_timestamp(value)
    else:
        raise ValueError("a date-time string is expected")
    # Vendors document their naive timestamps as UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_timestamp(value: str) -> datetime:
    """ISO-8601 (``Z`` included), else the first of the vendors' formats that reads it (maybe naive)."""
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date-time")


def _to_bool(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", ""}:
        return False
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    AfterValidator(_bounded_money),
    PlainSerializer(str, return_type=str, when_used="json"),
]
"""Money and other decimal quantities: never float; finite and within :data:`MONEY_LIMIT` and
:data:`MONEY_DIGITS` (what DynamoDB and the vendors hold). Serialised to JSON as a string. Signed:
amounts that cannot be negative say so on their field (``Field(ge=0)``)."""

Amount = Annotated[Money, Ge(0), Lt(AMOUNT_LIMIT)]
"""A price, total, tax or charge a vendor sends: not negative, under :data:`AMOUNT_LIMIT`."""

Id = Annotated[str, BeforeValidator(_to_id), StringConstraints(max_length=ID_MAX_LENGTH)]
"""An identifier that may arrive as a string or an int; at most :data:`ID_MAX_LENGTH` characters."""

FreeText = Annotated[str, StringConstraints(max_length=FREE_TEXT_MAX_LENGTH)]
"""Free text a client sends (a name, note, instruction, address): at most :data:`FREE_TEXT_MAX_LENGTH`
characters, so no payload field can make a stored order outgrow DynamoDB's 400 KB item."""

FlexInt = Annotated[int, BeforeValidator(_to_int)]
"""An integer that may arrive as a numeric string ("0", "8")."""

UtcDateTime = Annotated[datetime, BeforeValidator(_to_utc)]
"""A timezone-aware UTC datetime; naive vendor timestamps are taken as UTC."""

FlexBool = Annotated[bool, BeforeValidator(_to_bool)]

NullableList = BeforeValidator(lambda value: [] if value is None else value)
"""On a list field (``Annotated[list[X], NullableList]``): a null the vendor sends is read as []."""

NullableDict = BeforeValidator(lambda value: {} if value is None else value)
"""On a dict field: a null the vendor sends is read as {}."""


class _HasOptions(Protocol):
    @property
    def options(self) -> Sequence[object]: ...


_Line = TypeVar("_Line", bound=_HasOptions)


def _bounded_lines(items: list[_Line]) -> list[_Line]:
    """Refuse an order of more than :data:`ORDER_LINES_LIMIT` lines (items plus their options)."""
    lines = len(items) + sum(len(item.options) for item in items)
    if lines > ORDER_LINES_LIMIT:
        raise ValueError(f"at most {ORDER_LINES_LIMIT} lines (items and their options) are accepted, not {lines}")
    return items


OrderLines = Annotated[list[_Line], AfterValidator(_bounded_lines)]
"""An order's items (each with its ``options``), at most :data:`ORDER_LINES_LIMIT` lines in all."""


def utcnow() -> datetime:
    return datetime.now(UTC)
