"""``GET /console/config.json``: what the ops console needs to sign a person in and to reach the
ops API — the contract between the console and the sign-in::

    {"auth": {"region", "userPoolId", "clientId", "endpoint"}, "apiBase"}

The console signs in with Cognito ``InitiateAuth`` (``USER_PASSWORD_AUTH``: a JSON POST to
``endpoint`` with ``X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth``) and sends the
ID token to ``apiBase`` + ``/ops/...`` as ``Authorization: Bearer <IdToken>``. ``endpoint`` is
Cognito's own (``https://cognito-idp.<region>.amazonaws.com/``) in AWS, the local stack's
same-origin proxy of its emulator locally (``COGNITO_ENDPOINT``). ``apiBase`` is the path the API
is served under as the browser sees it (``/<stage>`` on API Gateway's ``execute-api`` host,
empty on a custom domain or the local stack), so the console calls its own origin.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response

from orderbridge.web.ops_auth import AuthSettings

# Nothing in it is secret, but it names this deployment's pool: never cached by a browser.
HEADERS = {"Cache-Control": "no-store"}


def api_base(event: Mapping[str, Any]) -> str:
    context = event.get("requestContext") or {}
    domain = str(context.get("domainName") or "")
    stage = str(context.get("stage") or "")
    if domain.endswith(".amazonaws.com") and stage and stage != "$default":
        return f"/{stage}"
    return ""


def console_config(event: Mapping[str, Any], settings: AuthSettings | None = None) -> dict[str, Any]:
    """The console's configuration for the request ``event`` (settings: the function's env)."""
    settings = settings or AuthSettings.from_env()
    return {
        "auth": {
            "region": settings.region,
            "userPoolId": settings.user_pool_id,
            "clientId": settings.client_id,
            "endpoint": settings.endpoint,
        },
        "apiBase": api_base(event),
    }


def config_response(event: Mapping[str, Any], settings: AuthSettings | None = None) -> Response[str]:
    """The ``GET /console/config.json`` answer (the console function's route)."""
    body = json.dumps(console_config(event, settings))
    return Response(200, "application/json", body, dict(HEADERS))
