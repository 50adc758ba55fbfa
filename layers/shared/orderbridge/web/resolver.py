"""The API Gateway resolver every HTTP function uses, with errors mapped in one place.

Domain errors (``orderbridge.errors``) become their 4xx/5xx with field-level reasons (``store/``
turns every AWS failure into a retryable ``ServiceUnavailable``, a 503); anything else is a bug:
a 500 with no detail in the answer and the stack trace in the log.
"""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel

from orderbridge.errors import FieldError, OrderbridgeError
from orderbridge.models.base import OurModel
from orderbridge.models.blend import BlendAnswer, BlendFieldError
from orderbridge.observability import logger, metrics

ErrorShape = Literal["default", "blend"]


class FieldErrorAnswer(OurModel):
    field: str
    reason: str


class ErrorAnswer(OurModel):
    error: str
    message: str
    errors: list[FieldErrorAnswer] = []


def respond(model: BaseModel, status_code: int = 200, *, exclude_none: bool = True) -> Response[str]:
    return Response(
        status_code=status_code,
        content_type="application/json",
        body=model.model_dump_json(exclude_none=exclude_none, by_alias=True),
    )


def error_answer(error: OrderbridgeError, shape: ErrorShape) -> BaseModel:
    if shape == "blend":
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


def make_resolver(*, error_shape: ErrorShape = "default") -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.exception_handler(OrderbridgeError)  # type: ignore[untyped-decorator]
    def _domain_error(error: OrderbridgeError) -> Response[str]:
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
        return respond(error_answer(error, error_shape), error.status_code)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _bug(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return respond(error_answer(OrderbridgeError("internal error"), error_shape), 500)

    return app
