"""Reading a webhook request: body (plain or base64), size limit, JSON, pydantic model.

Whatever a client can put in a body ends in a 4xx, in linear time: the body must be UTF-8, its JSON
at most :data:`MAX_DEPTH` deep, without lone UTF-16 surrogates (DynamoDB and every vendor need
valid Unicode), and every number in it must fit DynamoDB's Number (finite, at most 38 significant
digits, magnitude from 1e-130 to under 1e126) — a number that does not is a 422 naming its field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from orderbridge.errors import BadRequest, FieldError, InvalidPayload, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)

MAX_DEPTH = 32
"""How deep a JSON body may nest (objects and arrays); vendor payloads need under ten levels."""

NUMBER_DIGITS = 38
"""DynamoDB's Number: at most 38 significant digits ..."""
NUMBER_MAX_EXPONENT = 125
NUMBER_MIN_EXPONENT = -130
"""... and a magnitude from 1e-130 to under 1e126."""

_LONG_INT = 50  # digits: longer integer literals are read as Decimal (Python refuses int() over 4,300)


@dataclass(frozen=True)
class WebhookRequest:
    """What a webhook handler needs from an API Gateway proxy event, independent of it."""

    body: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    query: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> bytes:
        """The body's bytes as received: it was decoded from them strictly, so these are the same
        bytes (what a signature is checked against)."""
        return self.body.encode("utf-8", errors="surrogatepass")

    @classmethod
    def from_proxy_event(cls, event: dict[str, Any], *, max_body_bytes: int) -> WebhookRequest:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items() if v is not None}
        return cls(
            body=body_text(event, max_body_bytes=max_body_bytes),
            headers=headers,
            query=dict(event.get("queryStringParameters") or {}),
            path=dict(event.get("pathParameters") or {}),
        )


def body_text(event: dict[str, Any], *, max_body_bytes: int | None = None) -> str:
    """The body of an API Gateway proxy event as text: base64 undone when so marked, at most
    ``max_body_bytes`` (413), strict UTF-8 (400: invalid bytes, encoded surrogates included)."""
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(
                "the body is marked base64 but is not valid base64",
                errors=[FieldError("body", "not valid base64")],
            ) from exc
    else:
        # API Gateway hands a text body over as str; a lone surrogate in it is not UTF-8 either.
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadRequest("the body is not UTF-8 text", errors=[FieldError("body", "not UTF-8 text")]) from exc
    if max_body_bytes is not None and len(data) > max_body_bytes:
        raise PayloadTooLarge(
            f"the body is {len(data)} bytes; at most {max_body_bytes} are accepted",
            errors=[FieldError("body", f"{len(data)} bytes; at most {max_body_bytes} are accepted")],
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            "the body is not UTF-8 text",
            errors=[FieldError("body", f"not UTF-8: invalid byte at position {exc.start}")],
        ) from exc


# One token at a time, each consumed once: a string (its closing quote optional, so an unterminated
# string ends the scan instead of being retried from every quote inside it: linear time), or a
# ``//`` comment to the end of its line.
_LINE_COMMENT = re.compile(r'("(?:[^"\\]|\\.)*"?)|//[^\n]*')


def _strip_line_comments(text: str) -> str:
    return _LINE_COMMENT.sub(lambda m: m.group(1) or "", text)


def _json_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _LONG_INT else Decimal(text)


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_int=_json_int, parse_constant=Decimal)


def parse_json(body: str) -> Any:
    """JSON with numbers as Decimal (money never passes through float), checked by
    :func:`check_json` (depth, Unicode, numbers DynamoDB can hold).

    Vendor documentation annotates sample payloads with ``// comments`` (the Blend contract
    does); such a body is accepted with the comments removed, so the documented samples work
    as they stand. Anything else that is not JSON is a 400 naming the position.
    """
    if not body.strip():
        raise BadRequest("the body is empty", errors=[FieldError("body", "a JSON object is expected")])
    try:
        try:
            data = _loads(body)
        except json.JSONDecodeError as exc:
            try:
                data = _loads(_strip_line_comments(body))
            except json.JSONDecodeError:
                raise BadRequest(
                    f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                    errors=[FieldError("body", f"{exc.msg} at line {exc.lineno} column {exc.colno}")],
                ) from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    check_json(data)
    return data


def _too_deep() -> BadRequest:
    return BadRequest(
        f"the body nests deeper than {MAX_DEPTH} levels",
        errors=[FieldError("body", f"JSON nested deeper than {MAX_DEPTH} levels")],
    )


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_json(data: Any) -> None:
    """Refuse what no model should see and DynamoDB cannot store, in one pass over the parsed
    body (no recursion): nesting over :data:`MAX_DEPTH` and lone UTF-16 surrogates (in keys or
    strings) are a 400; numbers that are not finite or do not fit DynamoDB's Number are a 422
    naming each field."""
    numbers: list[FieldError] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, dict | list):
            if len(loc) >= MAX_DEPTH:
                raise _too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise _not_unicode(loc + (key,))
                stack.append((item, (*loc, key)))
        elif isinstance(value, str):
            if _SURROGATE.search(value):
                raise _not_unicode(loc)
        elif isinstance(value, Decimal | int) and not isinstance(value, bool):
            reason = number_problem(value)
            if reason:
                numbers.append(FieldError(_path(loc), reason))
    if numbers:
        numbers.sort(key=lambda e: e.field)
        raise InvalidPayload("the payload has numbers out of range", errors=numbers)


def _not_unicode(loc: tuple[str | int, ...]) -> BadRequest:
    where = _path(tuple("?" if isinstance(p, str) and _SURROGATE.search(p) else p for p in loc))
    return BadRequest(
        "the body has a lone UTF-16 surrogate: not valid Unicode text",
        errors=[FieldError(where, "a lone UTF-16 surrogate (\\ud800-\\udfff) is not valid Unicode")],
    )


def number_problem(value: Decimal | int) -> str | None:
    """Why ``value`` cannot be stored as a DynamoDB Number; None when it can."""
    number = Decimal(value) if isinstance(value, int) else value
    if not number.is_finite():
        return "not a finite number"
    if number.is_zero():
        return None
    significant = "".join(map(str, number.as_tuple().digits)).rstrip("0")
    if len(significant) > NUMBER_DIGITS:
        return f"more than {NUMBER_DIGITS} significant digits"
    if not NUMBER_MIN_EXPONENT <= number.adjusted() <= NUMBER_MAX_EXPONENT:
        return "out of range (a magnitude from 1e-130 to under 1e126)"
    return None


def canonical_digest(data: Any) -> str:
    """A delivery's identity when the vendor gives no event id: the SHA-256 (hex, 16 characters)
    of the canonical JSON of the parsed payload — keys sorted, no whitespace, numbers by value —
    so the same event re-serialised (another key order, spacing, ``1.50`` for ``1.5``) is the same
    delivery. Never a digest of the raw bytes."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical_number)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _canonical_number(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(Context(prec=NUMBER_DIGITS)), "f") if value.is_finite() else str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def parse_model(model: type[M], data: Any) -> M:
    """``data`` as ``model``; every failure reported with its field path and reason (422)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayload(
            f"the payload does not match the {model.__name__} contract",
            errors=[FieldError(_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)],
        ) from exc


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"
