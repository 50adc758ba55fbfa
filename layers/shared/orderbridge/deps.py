"""Everything a webhook needs from the outside world, built once per container."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from orderbridge import aws
from orderbridge.config import Settings, get_settings
from orderbridge.models.types import utcnow
from orderbridge.store.config import ConfigStore
from orderbridge.store.orders import OrderStore
from orderbridge.store.rents import RentStore
from orderbridge.web.auth import SecretsSource


@dataclass
class Deps:
    settings: Settings
    dynamodb: Any
    orders: OrderStore
    config: ConfigStore
    rents: RentStore
    secrets: SecretsSource
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def build(cls, settings: Settings, *, dynamodb: Any, secretsmanager: Any) -> Deps:
        return cls(
            settings=settings,
            dynamodb=dynamodb,
            orders=OrderStore(dynamodb, settings.orders_table),
            config=ConfigStore(dynamodb, settings.config_table),
            rents=RentStore(dynamodb, settings.rents_table),
            secrets=SecretsSource(
                settings.webhook_secret_name,
                settings.secrets_max_age_seconds,
                SecretsProvider(boto3_client=secretsmanager),
            ),
        )


@cache
def get_deps() -> Deps:
    """The container's dependencies (tests call ``get_deps.cache_clear()`` between cases)."""
    return Deps.build(get_settings(), dynamodb=aws.client("dynamodb"), secretsmanager=aws.client("secretsmanager"))
