"""Field types for vendor payloads as the vendors really send them.

Blink sends numbers as strings ("7199.980"), ids as strings or ints, many fields null, and
naive timestamps that mean UTC. These annotated types accept all of that and give us
``Decimal`` money, ``str`` ids and timezone-aware UTC datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Protocol, TypeVar

from annotated_types import Ge, Lt
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    ValidationInfo,
)

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


LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _no_lone_surrogates(value: Any) -> Any:
    """A lone UTF-16 surrogate (JSON's ``"\\ud800"``) is no Unicode text: DynamoDB cannot store it."""
    if isinstance(value, str) and LONE_SURROGATES.search(value):
        raise ValueError("has a lone UTF-16 surrogate (\\ud800-\\udfff): not valid Unicode text")
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

Id = Annotated[
    str,
    BeforeValidator(_no_lone_surrogates),
    BeforeValidator(_to_id),
    StringConstraints(max_length=ID_MAX_LENGTH),
]
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


# =================================================================================================
# Text and entries in vendor *answers* (what we read from a vendor's API, not what a client sends).
#
# A webhook with a field too long is refused (422) and the client fixes it. An answer we fetched
# cannot be sent back: a sync reads it and stores it. So the bounds there are (1) an id is within
# DynamoDB's key limits and not empty, else the entry is refused; (2) short codes (a phone, an
# e-mail, a status name, a promo code) are refused when longer than any real one; (3) free text (a
# name, a description, an address, a note) is cut to :data:`VENDOR_TEXT_MAX_LENGTH` characters with
# a visible marker in the text and a log line naming the field; (4) an entry of a vendor's list
# that its model refuses is left out with its reason (:func:`split_entries`), the others kept.
# =================================================================================================

VENDOR_TEXT_MAX_LENGTH = FREE_TEXT_MAX_LENGTH
"""Free text read from a vendor's answer is kept to this many characters (the same bound as a
webhook's free text, so an answer mapped onto a webhook model fits it); longer is cut, marked."""
VENDOR_CODE_MAX_LENGTH = 200
"""A short code read from a vendor's answer (a phone, an e-mail, a status name, a payment method, a
promo code): at most this many characters; longer is no such code, and its entry is refused."""
TRUNCATED_MARKER = " [... truncated by Orderbridge: {length} characters in all]"
"""Appended to vendor text cut to :data:`VENDOR_TEXT_MAX_LENGTH`: the record says it is not whole."""


def _replace_lone_surrogates(value: Any) -> Any:
    return LONE_SURROGATES.sub("\ufffd", value) if isinstance(value, str) else value


def cap_text(value: str, *, field: str | None = None, limit: int = VENDOR_TEXT_MAX_LENGTH) -> str:
    """``value`` cut to ``limit`` characters (:data:`VENDOR_TEXT_MAX_LENGTH`), ending with
    :data:`TRUNCATED_MARKER` (so the stored text says it is not whole), and logged (the field and
    the lengths, never the text)."""
    if len(value) <= limit:
        return value
    marker = TRUNCATED_MARKER.format(length=len(value))
    # Imported here: only a truncation needs the logger (models stay free of it at import).
    from orderbridge.observability import logger

    logger.warning(
        "vendor text truncated",
        extra={"field": field or "?", "length": len(value), "kept": limit, "truncated": True},
    )
    return value[: limit - len(marker)] + marker


def _cap_text(value: str, info: ValidationInfo) -> str:
    return cap_text(value, field=info.field_name)


VendorText = Annotated[str, BeforeValidator(_replace_lone_surrogates), AfterValidator(_cap_text)]
"""Free text from a vendor's answer: cut to :data:`VENDOR_TEXT_MAX_LENGTH` characters with
:data:`TRUNCATED_MARKER` (logged); a lone surrogate becomes U+FFFD."""

VendorCode = Annotated[str, BeforeValidator(_no_lone_surrogates), StringConstraints(max_length=VENDOR_CODE_MAX_LENGTH)]
"""A short code from a vendor's answer (phone, e-mail, status name, promo code): at most
:data:`VENDOR_CODE_MAX_LENGTH` characters, valid Unicode; else its entry is refused."""

VendorId = Annotated[
    str,
    BeforeValidator(_no_lone_surrogates),
    BeforeValidator(_to_id),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=ID_MAX_LENGTH),
]
"""An id from a vendor's answer that we key records by: not empty, at most :data:`ID_MAX_LENGTH`
characters (DynamoDB keys), valid Unicode; else its entry is refused."""


class RefusedEntry(BaseModel):
    """An entry of a vendor's list that its model refused: where it was, what names it as far as
    that is readable (``ref``), and why — the fields and reasons, never the values."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use (cold start)

    index: int
    ref: str | None = None
    reason: str


REF_MAX_LENGTH = 64
"""How much of a refused entry's id names it in logs and dead letters."""
_REASON_MAX_LENGTH = 300


def refusal_reason(error: ValidationError) -> str:
    """A validation error as ``field: reason; ...`` without the values (customer data, huge text)."""
    parts = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in problem["loc"]) or "(entry)"
        parts.append(f"{where}: {problem['msg'][:100]}")
    return "; ".join(parts)[:_REASON_MAX_LENGTH]


def entry_ref(entry: Any, *keys: str) -> str | None:
    """The first of ``keys`` an entry has as a short string or int (cut to :data:`REF_MAX_LENGTH`,
    with its length when cut)."""
    if not isinstance(entry, dict):
        return None
    for key in keys:
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int):
            continue
        text = LONE_SURROGATES.sub("?", str(value))
        if len(text) > REF_MAX_LENGTH:
            return f"{text[:REF_MAX_LENGTH]}... ({len(text)} characters)"
        return text
    return None


_Entry = TypeVar("_Entry", bound=BaseModel)


def split_entries(raw: Any, model: type[_Entry], *ref_keys: str) -> tuple[Any, list[RefusedEntry]]:
    """Each entry of the list ``raw`` validated alone as ``model``: the valid ones (as models) and
    the refused ones (:class:`RefusedEntry`). Not a list: ``raw`` as it is (the field's own
    validation says what is wrong with it)."""
    if not isinstance(raw, list):
        return raw, []
    kept: list[_Entry] = []
    refused: list[RefusedEntry] = []
    for index, entry in enumerate(raw):
        try:
            kept.append(model.model_validate(entry))
        except ValidationError as error:
            refused.append(RefusedEntry(index=index, ref=entry_ref(entry, *ref_keys), reason=refusal_reason(error)))
    return kept, refused


def keep_valid_entries(data: Any, field: str, model: type[BaseModel], *ref_keys: str) -> Any:
    """For a list answer's ``model_validator(mode="before")``: ``data[field]`` split by
    :func:`split_entries` into the valid entries (left in ``field``) and ``refused``."""
    if not isinstance(data, dict):
        return data
    kept, refused = split_entries(data.get(field), model, *ref_keys)
    return {**data, field: kept, "refused": refused}
