"""Bloq.It account set-up: register our webhook endpoint with its signing secret, and issue
courier tokens.

Registering is idempotent at two levels: the Lambda runs it under Powertools idempotency, and the
action itself updates a webhook already registered for the same URL instead of adding a second one
(two registrations would deliver every event twice). The signing secret is the first ``bloq``
secret of the same Secrets Manager secret the Bloq.It webhook verifies with (``web.auth``), so a
rotation is: put the new secret first (the old one stays second, still accepted), register again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pydantic import Field, field_validator

from orderbridge.actions.common import ActionRefused
from orderbridge.actions.runtime import action
from orderbridge.deps import Deps
from orderbridge.domain.rent_events import ACTED_ON_EVENTS
from orderbridge.models.base import OurModel
from orderbridge.models.bloqit_webhooks import EVENT_TYPES
from orderbridge.observability import logger

# The events we subscribe to: the rent events the product acts on (domain.rent_events explains the
# choice), not every event of the account — each delivered event costs an API request, a Lambda
# invocation and a write, and the rent reconciliation recovers a missed one from the same set.
DEFAULT_EVENTS: tuple[str, ...] = ACTED_ON_EVENTS
DEFAULT_DESCRIPTION = "Orderbridge: the rent events it acts on"
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


class RegisterBloqWebhookInput(OurModel):
    """Register (or re-register) the Bloq.It webhook of a merchant's Bloq.It account."""

    merchant_id: str = Field(min_length=1)
    url: str  # the stack's BloqWebhookUrl output
    description: str = DEFAULT_DESCRIPTION
    events: list[str] | None = None  # default: DEFAULT_EVENTS

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError("url must be an http(s) URL")
        return value

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            unknown = sorted(set(value) - set(EVENT_TYPES))
            if unknown or not value:
                raise ValueError(f"not Bloq.It event types: {', '.join(unknown)}" if unknown else "no events")
        return value


class RegisterBloqWebhookOutput(OurModel):
    merchant_id: str
    webhook_id: str
    url: str
    enabled_events: list[str]
    created: bool  # False: the webhook registered for this URL was updated


def webhook_signing_secret(deps: Deps) -> str:
    """The secret Bloq.It is to sign with: the first of the webhook secret's ``bloq`` list."""
    secrets = deps.secrets.get().bloq
    if not secrets or not secrets[0].get_secret_value():
        raise ActionRefused("the webhook secret has no bloq signing secret: add one before registering")
    return secrets[0].get_secret_value()


@action(idempotent=True)
def register_bloq_webhook(*, request: RegisterBloqWebhookInput, deps: Deps) -> RegisterBloqWebhookOutput:
    events = list(request.events or DEFAULT_EVENTS)
    secret = webhook_signing_secret(deps)
    client = deps.vendors.bloqit(request.merchant_id)
    existing = next((hook for hook in client.iter_webhooks() if hook.url == request.url), None)
    if existing is None:
        hook = client.create_webhook(request.url, events, description=request.description, secret=secret)
        created = True
    else:
        hook = client.update_webhook(
            existing.id, url=request.url, enabled_events=events, description=request.description, secret=secret
        )
        created = False
    logger.info(
        "Bloq.It webhook " + ("registered" if created else "updated"),
        extra={"webhook_id": hook.id, "events": len(events)},
    )
    return RegisterBloqWebhookOutput(
        merchant_id=request.merchant_id,
        webhook_id=hook.id,
        url=request.url,
        enabled_events=hook.enabled_events or events,
        created=created,
    )


class IssueCourierTokenInput(OurModel):
    """A token a courier authenticates with on the Bloqs ("Internal" courier authentication)."""

    merchant_id: str = Field(min_length=1)
    courier_id: str = Field(min_length=1)
    expires_in_hours: int = Field(default=24, ge=1, le=24 * 30)
    bloq_ids: list[str] | None = None  # default: the branch's Bloqs when branch_id is given, else all
    branch_id: str | None = None
    metadata: dict[str, str] | None = None


class IssueCourierTokenOutput(OurModel):
    merchant_id: str
    courier_id: str
    token: str  # the courier's credential: hand it to the courier, never log it
    expires_at: datetime | None = None
    bloq_ids: list[str] | None = None  # None: valid on every Bloq of the account


@action(idempotent=False)
def issue_courier_token(*, request: IssueCourierTokenInput, deps: Deps) -> IssueCourierTokenOutput:
    bloq_ids = request.bloq_ids
    if bloq_ids is None and request.branch_id:
        branch = deps.config.branch(request.branch_id)
        if branch is None or branch.merchant_id != request.merchant_id:
            raise ActionRefused(f"branch {request.branch_id} is not a branch of merchant {request.merchant_id}")
        if not branch.bloq_ids:
            raise ActionRefused(f"branch {request.branch_id} has no Bloqs configured: give bloq_ids")
        bloq_ids = branch.bloq_ids
    answer = deps.vendors.bloqit(request.merchant_id).create_courier_auth_token(
        request.courier_id,
        expires_in=timedelta(hours=request.expires_in_hours),
        bloq_ids=bloq_ids,
        metadata=request.metadata,
    )
    token = answer.token.get_secret_value()
    logger.info("courier token issued", extra={"bloqs": len(bloq_ids) if bloq_ids else "all"})
    return IssueCourierTokenOutput(
        merchant_id=request.merchant_id,
        courier_id=request.courier_id,
        token=token,
        expires_at=_expiry(token),
        bloq_ids=bloq_ids,
    )


def _expiry(token: str) -> datetime | None:
    """The token's ``exp`` (read, not verified: the token is Bloq.It's to verify)."""
    try:
        claims: Any = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
