"""Reading a webhook request: body (plain or base64), size limit, JSON, pydantic model."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from orderbridge.errors import BadRequest, FieldError, InvalidPayload, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class WebhookRequest:
    """What a webhook handler needs from an API Gateway proxy event, independent of it."""

    body: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    query: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_proxy_event(cls, event: dict[str, Any], *, max_body_bytes: int) -> WebhookRequest:
        raw = event.get("body") or ""
        if event.get("isBase64Encoded"):
            try:
                data = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise BadRequest("the body is marked base64 but is not valid base64") from exc
        else:
            data = raw.encode("utf-8")
        if len(data) > max_body_bytes:
            raise PayloadTooLarge(f"the body is {len(data)} bytes; at most {max_body_bytes} are accepted")
        try:
            body = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("the body is not UTF-8 text") from exc
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items() if v is not None}
        return cls(
            body=body,
            headers=headers,
            query=dict(event.get("queryStringParameters") or {}),
            path=dict(event.get("pathParameters") or {}),
        )


_LINE_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*')


def _strip_line_comments(text: str) -> str:
    return _LINE_COMMENT.sub(lambda m: m.group(1) or "", text)


def parse_json(body: str) -> Any:
    """JSON with numbers as Decimal (money never passes through float).

    Vendor documentation annotates sample payloads with ``// comments`` (the Blend contract
    does); such a body is accepted with the comments removed, so the documented samples work
    as they stand. Anything else that is not JSON is a 400 naming the position.
    """
    if not body.strip():
        raise BadRequest("the body is empty", errors=[FieldError("body", "a JSON object is expected")])
    try:
        return json.loads(body, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        try:
            return json.loads(_strip_line_comments(body), parse_float=Decimal)
        except json.JSONDecodeError:
            raise BadRequest(
                f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                errors=[FieldError("body", f"{exc.msg} at line {exc.lineno} column {exc.colno}")],
            ) from exc


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
