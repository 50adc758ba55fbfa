"""API Gateway API keys: the value of the ops console's own key, which the ops authorizer hands
API Gateway for a signed-in person (``web.ops_auth``). AWS errors become ours here."""

from __future__ import annotations

from typing import Any

from orderbridge.errors import OrderbridgeError
from orderbridge.store.dynamo import aws_call


def api_key_value(apigateway: Any, key_id: str) -> str:
    """The value of API key ``key_id`` (``apigateway:GET`` on ``/apikeys/<id>``)."""
    if not key_id:
        raise OrderbridgeError("no API key id is configured for the console (CONSOLE_API_KEY_ID)")
    with aws_call(f"read the API key {key_id!r}"):
        answer = apigateway.get_api_key(apiKey=key_id, includeValue=True)
    value = answer.get("value")
    if not isinstance(value, str) or not value:
        raise OrderbridgeError(f"the API key {key_id!r} has no value")
    return value
