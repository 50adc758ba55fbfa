"""Domain errors. Web helpers map them to HTTP answers in one place (``web.resolver``)."""

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
    """Base of every error Orderbridge raises on purpose."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class BadRequest(OrderbridgeError):
    """Malformed input: not JSON, not UTF-8, wrong shape."""

    status_code = 400
    code = "bad_request"


class PayloadTooLarge(OrderbridgeError):
    status_code = 413
    code = "payload_too_large"


class InvalidPayload(OrderbridgeError):
    """Well-formed JSON that does not satisfy the vendor contract (missing fields, wrong types)."""

    status_code = 422
    code = "invalid_payload"


class Unauthorized(OrderbridgeError):
    """Missing or wrong webhook token, bad or stale signature."""

    status_code = 401
    code = "unauthorized"


class UnknownPartner(OrderbridgeError):
    status_code = 404
    code = "unknown_partner"


class UnknownBranch(OrderbridgeError):
    """The payload names a branch that is not configured: onboarding must add it first."""

    status_code = 422
    code = "unknown_branch"


class NotFound(OrderbridgeError):
    status_code = 404
    code = "not_found"


class Conflict(OrderbridgeError):
    status_code = 409
    code = "conflict"


class ServiceUnavailable(OrderbridgeError):
    """A dependency (DynamoDB, Secrets Manager) failed: the sender should retry."""

    status_code = 503
    code = "service_unavailable"
