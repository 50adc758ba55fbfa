"""Who sent this webhook?

Senders that cannot sign (Blink, Blink Logistics, delivery partners) present a per-source
secret token in ``X-Webhook-Token`` or ``?token=``; Bloq.It signs (see
:func:`verify_bloq_signature`). Every source accepts a list of secrets, so a new one can be
rolled out while the old one still works. The secrets live in one Secrets Manager secret
(``models.secrets.WebhookSecrets``), read by ``store.secrets.SecretsSource``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable

from pydantic import SecretStr

from orderbridge.config import BloqSignatureSettings
from orderbridge.errors import Unauthorized
from orderbridge.web.request import WebhookRequest

TOKEN_HEADER = "x-webhook-token"
# jsonwebtoken (Node) signs with HS256 by default; any HMAC algorithm it could be told to use is
# accepted. "none" and asymmetric algorithms are not: a shared secret is an HMAC key.
_BLOQ_ALGORITHMS = ["HS256", "HS384", "HS512"]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def matches_any(presented: str, accepted: list[SecretStr]) -> bool:
    """Constant-time: every accepted secret is compared, on equal-length digests."""
    presented_digest = _digest(presented)
    found = False
    for secret in accepted:
        found |= hmac.compare_digest(presented_digest, _digest(secret.get_secret_value()))
    return found


def verify_token(request: WebhookRequest, accepted: list[SecretStr], *, source: str) -> None:
    presented = request.headers.get(TOKEN_HEADER) or request.query.get("token")
    if not presented:
        raise Unauthorized(f"a webhook token is required ({TOKEN_HEADER} header or ?token=)")
    if not accepted or not matches_any(presented, accepted):
        raise Unauthorized(f"the webhook token is not valid for {source}")


def verify_bloq_signature(
    request: WebhookRequest,
    secrets: list[SecretStr],
    settings: BloqSignatureSettings,
    *,
    now: Callable[[], float] = time.time,
) -> None:
    """Bloq.It's documented check: the signature header is a JWT (Node ``jsonwebtoken``) made
    with the shared webhook secret whose payload is the string ``<timestamp>.<body>``; the
    timestamp header must be within ``tolerance_seconds`` of now.

    Checked on the body's bytes exactly as received, before anything reads them: Bloq.It signs
    ``JSON.stringify(body)``, which is the body it sends (docs/vendor-assumptions.md). The
    untrusted body is never parsed or re-serialised to be checked.
    """
    signature = request.headers.get(settings.signature_header)
    timestamp = request.headers.get(settings.timestamp_header)
    if not signature or not timestamp:
        raise Unauthorized(
            f"Bloq.It signature headers are required: {settings.signature_header}, {settings.timestamp_header}"
        )
    _check_timestamp(timestamp, settings.tolerance_seconds, now())
    import jwt  # here: only Bloq.It's webhook needs it (a cold start of the others does not load it)

    expected = timestamp.encode("ascii") + b"." + request.raw
    for secret in secrets:
        try:
            payload = jwt.api_jws.decode_complete(signature, secret.get_secret_value(), algorithms=_BLOQ_ALGORITHMS)[
                "payload"
            ]
        except jwt.InvalidTokenError:
            continue
        if hmac.compare_digest(payload, expected):
            return
    raise Unauthorized("the Bloq.It signature does not verify")


# A whole number of seconds or milliseconds (Date.now()), as written by Bloq.It: ASCII digits, no
# sign, no leading zero, no decimals or exponent (NaN, Infinity, 1e3, -0, 1.5 are refused).
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,15}")
_MILLISECONDS_FROM = 100_000_000_000  # larger values are milliseconds (1e11 s is the year 5138)


def _check_timestamp(timestamp: str, tolerance: int, now: float) -> None:
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Unauthorized("the Bloq.It timestamp is not a whole number of seconds or milliseconds")
    value = int(timestamp)
    seconds = value / 1000 if value >= _MILLISECONDS_FROM else value
    if not abs(now - seconds) <= tolerance:
        raise Unauthorized(f"the Bloq.It timestamp is outside the {tolerance} s window")
