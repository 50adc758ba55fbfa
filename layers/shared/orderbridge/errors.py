"""Domain errors. Web helpers map them to HTTP answers in one place (``web.answers``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One reason an input was refused: where (a dotted path) and why."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class OrderbridgeError(Exception):
    """Base of every error Orderbridge raises on purpose.

    A subclass names its HTTP status and error code in its class line:
    ``class NotFound(OrderbridgeError, status_code=404, code="not_found")``.
    """

    status_code = 500
    code = "internal_error"

    def __init_subclass__(cls, *, status_code: int | None = None, code: str | None = None) -> None:
        super().__init_subclass__()
        cls.status_code = status_code if status_code is not None else cls.status_code
        cls.code = code if code is not None else cls.code

    def __init__(self, message: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class BadRequest(OrderbridgeError, status_code=400, code="bad_request"):
    """Malformed input: not JSON, not UTF-8, wrong shape."""


class PayloadTooLarge(OrderbridgeError, status_code=413, code="payload_too_large"):
    """The body is over the size a webhook accepts."""


class InvalidPayload(OrderbridgeError, status_code=422, code="invalid_payload"):
    """Well-formed JSON that does not satisfy the vendor contract (missing fields, wrong types)."""


class Unauthorized(OrderbridgeError, status_code=401, code="unauthorized"):
    """Missing or wrong webhook token, bad or stale signature."""


class UnknownPartner(OrderbridgeError, status_code=404, code="unknown_partner"):
    """The partner named in the path is not configured."""


class UnknownBranch(OrderbridgeError, status_code=422, code="unknown_branch"):
    """The payload names a branch that is not configured: onboarding must add it first."""


class NotFound(OrderbridgeError, status_code=404, code="not_found"):
    """The resource asked for does not exist."""


class Conflict(OrderbridgeError, status_code=409, code="conflict"):
    """The request contradicts the resource's current state."""


class ServiceUnavailable(OrderbridgeError, status_code=503, code="service_unavailable"):
    """A dependency (DynamoDB, Secrets Manager) failed: the sender should retry."""
