"""Everything an entry point needs from the outside world: one container, built once per Lambda
container by :func:`get_deps`, each part built on first use.

Webhooks, actions, workflow steps, the order stream, the courier keeper and the ops API all take
a :class:`Deps`. Nothing is built before it is used: a cold start pays only for the clients its
request needs (a webhook never builds a Step Functions client, a read action never builds the
idempotency layer). Tests replace a part by assigning it before first use (``deps.vendors =
VendorClients(settings, transport=..., credentials=...)``, ``deps.stepfunctions = recorder``,
``deps.clock = lambda: now``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from orderbridge import aws
from orderbridge.config import Settings, get_settings
from orderbridge.models.types import utcnow

# Imported on first use: a cold start loads only the stores, clients and Powertools utilities its
# first request needs (a webhook neither the vendor clients nor the idempotency layer, nothing at
# all before its first request). tests/unit/test_deps.py holds the deny list.
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

    from orderbridge.store.catalog import CatalogStore
    from orderbridge.store.config import ConfigStore
    from orderbridge.store.cursors import CursorStore
    from orderbridge.store.dead_letters import DeadLetters
    from orderbridge.store.orders import OrderStore
    from orderbridge.store.rents import RentStore
    from orderbridge.store.secrets import SecretsSource
    from orderbridge.store.waits import WaitStore
    from orderbridge.store.workflow import Workflow
    from orderbridge.vendors.clients import VendorClients

# A Step Functions retry of the same task within a day gets the first answer.
IDEMPOTENCY_EXPIRY_SECONDS = 24 * 3600


class Deps:
    """The container's dependencies. ``client`` builds an AWS client by service name (the
    container's shared, cached clients by default)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        client: Callable[[str], Any] = aws.client,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._client = client

    # -- AWS clients ------------------------------------------------------------------------------

    @cached_property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @cached_property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager")

    @cached_property
    def stepfunctions(self) -> Any:
        return self._client("stepfunctions")

    # -- the store --------------------------------------------------------------------------------

    @cached_property
    def orders(self) -> OrderStore:
        from orderbridge.store.orders import OrderStore

        return OrderStore(self.dynamodb, self.settings.orders_table)

    @cached_property
    def config(self) -> ConfigStore:
        from orderbridge.store.config import ConfigStore

        return ConfigStore(self.dynamodb, self.settings.config_table)

    @cached_property
    def rents(self) -> RentStore:
        from orderbridge.store.rents import RentStore

        return RentStore(self.dynamodb, self.settings.rents_table)

    @cached_property
    def waits(self) -> WaitStore:
        from orderbridge.store.waits import WaitStore

        return WaitStore(self.dynamodb, self.settings.orders_table)

    @cached_property
    def catalog(self) -> CatalogStore:
        from orderbridge.store.catalog import CatalogStore

        return CatalogStore(self.dynamodb, self.settings.config_table)

    @cached_property
    def cursors(self) -> CursorStore:
        from orderbridge.store.cursors import CursorStore

        return CursorStore(self.dynamodb, self.settings.config_table)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        from orderbridge.store.dead_letters import DeadLetters

        queue = self.settings.sync_dead_letter_queue_url
        return DeadLetters(self._client("sqs") if queue else None, queue)

    @cached_property
    def workflow(self) -> Workflow:
        from orderbridge.store.workflow import Workflow

        return Workflow(self.stepfunctions, self.settings.order_workflow_arn)

    # -- secrets and vendors ----------------------------------------------------------------------

    @cached_property
    def secrets(self) -> SecretsSource:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        from orderbridge.store.secrets import SecretsSource

        return SecretsSource(
            self.settings.webhook_secret_name,
            self.settings.secrets_max_age_seconds,
            SecretsProvider(boto3_client=self.secretsmanager),
        )

    @cached_property
    def vendors(self) -> VendorClients:
        from orderbridge.observability import tracer
        from orderbridge.store.secrets import read_json_secret
        from orderbridge.vendors.clients import VendorClients
        from orderbridge.vendors.credentials import get_vendor_credentials

        tracer.patch(["httpx"])  # the vendors' calls as X-Ray subsegments (when tracing is on)
        settings, max_age = self.settings.vendors, self.settings.secrets_max_age_seconds
        provider = self.secrets.provider  # the container's one Secrets Manager client and cache

        def read_secret(name: str, *, max_age: int) -> Any:
            return read_json_secret(name, max_age=max_age, provider=provider)

        return VendorClients(
            self.settings,
            credentials=lambda merchant_id: get_vendor_credentials(merchant_id, settings, read_secret, max_age=max_age),
        )

    # -- idempotency (the actions that change something at a vendor) ------------------------------

    @cached_property
    def idempotency_store(self) -> DynamoDBPersistenceLayer:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(table_name=self.settings.idempotency_table, boto3_client=self.dynamodb)

    @cached_property
    def idempotency_config(self) -> IdempotencyConfig:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

        return IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_EXPIRY_SECONDS, raise_on_no_idempotency_key=True)


@cache
def get_deps() -> Deps:
    """The container's dependencies (tests call ``get_deps.cache_clear()`` between cases)."""
    return Deps(get_settings())
