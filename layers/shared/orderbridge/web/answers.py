"""What every HTTP function answers, with errors mapped in one place, without Powertools'
event_handler: a webhook answers through :func:`proxy_response` directly (importing the
event_handler package loads every resolver it has — AppSync, Bedrock, VPC Lattice — a third of a
webhook's cold start), the ops API and the console through ``web.resolver`` on top of this.

Domain errors (``orderbridge.errors``) become their 4xx/5xx with field-level reasons (``store/``
turns every AWS failure into a retryable ``ServiceUnavailable``, a 503); anything else is a bug:
a 500 with no detail in the answer and the stack trace in the log.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from orderbridge.errors import FieldError, OrderbridgeError
from orderbridge.models.base import OurModel
from orderbridge.observability import logger, metrics

ErrorShape = Literal["default", "blend"]


class FieldErrorAnswer(OurModel):
    field: str
    reason: str


class ErrorAnswer(OurModel):
    error: str
    message: str
    errors: list[FieldErrorAnswer] = []


def body_of(model: BaseModel, *, exclude_none: bool = True) -> str:
    return model.model_dump_json(exclude_none=exclude_none, by_alias=True)


def proxy_response(model: BaseModel, status_code: int = 200, *, exclude_none: bool = True) -> dict[str, Any]:
    """An API Gateway (REST, proxy integration) answer with a JSON body, shaped as Powertools'
    resolver shapes its answers (``multiValueHeaders``)."""
    return {
        "statusCode": status_code,
        "body": body_of(model, exclude_none=exclude_none),
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
    }


def error_answer(error: OrderbridgeError, shape: ErrorShape) -> BaseModel:
    if shape == "blend":
        # Imported here: only the partner webhook answers in Blend's shape (a cold start of any
        # other webhook does not load Blend's models).
        from orderbridge.models.blend import BlendAnswer, BlendFieldError

        return BlendAnswer(
            order_id="",
            status="failed",
            errors=[BlendFieldError(field=e.field, reason=e.reason) for e in _reasons(error)],
        )
    return ErrorAnswer(
        error=error.code,
        message=error.message,
        errors=[FieldErrorAnswer(field=e.field, reason=e.reason) for e in error.errors],
    )


def _reasons(error: OrderbridgeError) -> list[FieldError]:
    return error.errors or [FieldError("body", error.message)]


def refused(error: OrderbridgeError, shape: ErrorShape) -> tuple[int, BaseModel]:
    """A domain error's answer (logged, and counted as ``Refused<status>``)."""
    log = logger.warning if error.status_code < 500 else logger.error
    log(
        "request refused",
        extra={
            "error": error.code,
            "status_code": error.status_code,
            "reasons": [e.as_dict() for e in error.errors],
        },
    )
    metrics.add_metric(name=f"Refused{error.status_code}", unit="Count", value=1)
    return error.status_code, error_answer(error, shape)


def bug(shape: ErrorShape) -> tuple[int, BaseModel]:
    """The answer to an unexpected exception (call it inside the ``except``: the trace is logged)."""
    logger.exception("unhandled error")
    return 500, error_answer(OrderbridgeError("internal error"), shape)
