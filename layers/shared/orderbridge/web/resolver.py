"""The API Gateway resolver the ops API and the console use (many routes in one function), with
errors mapped as every HTTP function maps them (``web.answers``). A webhook (one route per
function) answers without a resolver (``entry.webhook_handler``)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel

from orderbridge.errors import OrderbridgeError
from orderbridge.web.answers import ErrorShape, body_of, bug, refused


def respond(model: BaseModel, status_code: int = 200, *, exclude_none: bool = True) -> Response[str]:
    return Response(
        status_code=status_code,
        content_type="application/json",
        body=body_of(model, exclude_none=exclude_none),
    )


def make_resolver(*, error_shape: ErrorShape = "default") -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.exception_handler(OrderbridgeError)  # type: ignore[untyped-decorator]
    def _domain_error(error: OrderbridgeError) -> Response[str]:
        status_code, answer = refused(error, error_shape)
        return respond(answer, status_code)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _bug(error: Exception) -> Response[str]:
        status_code, answer = bug(error_shape)
        return respond(answer, status_code)

    return app
