"""Secrets Manager reads: JSON secrets through Powertools Parameters (cached per container), with
their AWS errors turned into ours here — the callers (webhook tokens, vendor credentials) see
:class:`SecretMissing`, :class:`SecretNotJson` or a retryable ``ServiceUnavailable``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.base import BaseProvider
from botocore.exceptions import ClientError
from pydantic import SecretStr

from orderbridge.errors import OrderbridgeError, ServiceUnavailable
from orderbridge.models.secrets import WebhookSecrets
from orderbridge.store.dynamo import aws_call, aws_error_code


class SecretMissing(LookupError):
    """There is no secret of that name."""


class SecretNotJson(ValueError):
    """The secret's value is not JSON."""


def read_json_secret(name: str, *, max_age: int, provider: BaseProvider | None = None) -> Any:
    """The parsed JSON value of secret ``name``, cached for ``max_age`` seconds by ``provider``
    (Powertools' default Secrets Manager provider when None). No error raised here carries the
    secret's value."""
    try:
        # Powertools wraps a failed call in GetParameterError; aws_call takes what it does not wrap
        # (building its default client: no region, no credentials).
        with aws_call(f"read the secret {name!r} from Secrets Manager"):
            if provider is None:
                return parameters.get_secret(name, transform="json", max_age=max_age)
            return provider.get(name, max_age=max_age, transform="json")
    except parameters.TransformParameterError:
        raise SecretNotJson(name) from None
    except parameters.GetParameterError as error:
        if _not_found(error):
            raise SecretMissing(name) from None
        raise ServiceUnavailable(f"could not read the secret {name!r} from Secrets Manager; please retry") from error


class SecretsSource:
    """The webhook secret (:class:`WebhookSecrets`), cached per container for ``max_age``
    seconds. A secret that cannot be read is a 503 (retry); one that is missing or not JSON is a
    deployment fault (500)."""

    def __init__(self, secret_name: str, max_age: int, provider: BaseProvider) -> None:
        self.secret_name = secret_name
        self.max_age = max_age
        self.provider = provider

    def get(self) -> WebhookSecrets:
        try:
            raw = read_json_secret(self.secret_name, max_age=self.max_age, provider=self.provider)
        except (SecretMissing, SecretNotJson):
            raise OrderbridgeError("the webhook secret is missing or not JSON") from None
        return WebhookSecrets.model_validate(raw)

    def tokens_in(self, secret_name: str) -> list[SecretStr]:
        """The tokens in a partner's own secret (``Partner.tokens_secret``): a JSON list of tokens
        (or one), or ``{"tokens": [...]}``, cached like the webhook secret. A secret that is missing,
        not JSON or of another shape holds no tokens (the partner is refused); one that cannot be
        read is a 503."""
        try:
            raw = read_json_secret(secret_name, max_age=self.max_age, provider=self.provider)
        except (SecretMissing, SecretNotJson):
            return []
        value = raw.get("tokens") if isinstance(raw, dict) else raw
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            return []
        return [SecretStr(token) for token in values if isinstance(token, str) and token]


def _not_found(error: parameters.GetParameterError) -> bool:
    """Whether the AWS error behind Powertools' GetParameterError (which wraps the ClientError,
    or only names it in its message) says there is no such secret."""
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ClientError):
        return aws_error_code(cause) == "ResourceNotFoundException"
    return "ResourceNotFoundException" in str(error)
