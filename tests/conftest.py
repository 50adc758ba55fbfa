"""Shared fixtures: an emulated AWS account (moto) with the template's tables, the webhook
secret, seeded configuration, and helpers to call the real handlers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

# Set before anything imports boto3 or Powertools.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "orderbridge",
        "POWERTOOLS_METRICS_NAMESPACE": "Orderbridge",
        "POWERTOOLS_DEV": "0",
    }
)

from moto import mock_aws  # noqa: E402
from orderbridge import aws as aws_clients  # noqa: E402
from orderbridge.config import get_settings  # noqa: E402
from orderbridge.deps import get_deps  # noqa: E402
from orderbridge.models.config import Branch, ItemMapping, Merchant, Partner, PartnerBranch  # noqa: E402
from orderbridge_local.emulator import serialise_dynamodb_writes  # noqa: E402

from tests.support.template import table_definitions  # noqa: E402

# DEV/TEST-ONLY secrets: the same values the events/ samples carry. Never used in a deployment.
SECRETS = {
    "blink": ["dev-blink-token", "dev-blink-token-previous"],
    "blink_logistics": "dev-logistics-token",
    "bloq": ["dev-bloq-secret-0123456789abcdef0123", "dev-bloq-secret-previous-0123456789abcdef"],
    "partners": {"demo-partner": ["dev-partner-token"]},
}
SECRET_NAME = "orderbridge/webhooks-test"
TABLE_ENV = {
    "OrdersTable": "ORDERS_TABLE",
    "ConfigTable": "CONFIG_TABLE",
    "RentsTable": "RENTS_TABLE",
    "IdempotencyTable": "IDEMPOTENCY_TABLE",
}


def _plain(value):
    return json.loads(json.dumps(value))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty emulated account with the template's tables and the webhook secret."""
    for logical, env in TABLE_ENV.items():
        monkeypatch.setenv(env, logical)
    monkeypatch.setenv("WEBHOOK_SECRET_NAME", SECRET_NAME)
    serialise_dynamodb_writes()  # DynamoDB's conditional writes are atomic; moto's are not
    with mock_aws():
        aws_clients.reset_clients()
        get_settings.cache_clear()
        get_deps.cache_clear()
        ddb = aws_clients.client("dynamodb")
        for spec in table_definitions().values():
            ddb.create_table(**_plain(spec))
        aws_clients.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=json.dumps(SECRETS))
        yield
        aws_clients.reset_clients()
        get_settings.cache_clear()
        get_deps.cache_clear()


@pytest.fixture
def deps(aws):
    return get_deps()


@pytest.fixture
def seeded(deps):
    """Configuration the vendor docs' samples name: Blink branch 12345 (blink id 50220),
    partner demo-partner routing its branch 14589 there, item mappings for items 1 and 2 and
    option 1."""
    deps.config.put(
        Merchant(merchant_id="m-demo", name="Demo Restaurant"),
        Branch(
            branch_id="12345",
            merchant_id="m-demo",
            name="XYZ road",
            blink_id="50220",
            latitude=Decimal("27.4654584"),
            longitude=Decimal("64.846548"),
        ),
        Branch(branch_id="63", merchant_id="m-demo", name="Clifton-Block 4", blink_id="60001"),
        Partner(partner_id="demo-partner", name="Demo Delivery App"),
        PartnerBranch(partner_id="demo-partner", partner_branch_id="14589", merchant_id="m-demo", branch_id="12345"),
        ItemMapping(
            partner_id="demo-partner",
            merchant_id="m-demo",
            kind="item",
            partner_item_id="1",
            product_id="prod-burger",
            blink_id="257327",
            name="Burger",
        ),
        ItemMapping(
            partner_id="demo-partner",
            merchant_id="m-demo",
            kind="item",
            partner_item_id="2",
            product_id="prod-fries",
            blink_id="257328",
            name="Fries",
        ),
        ItemMapping(
            partner_id="demo-partner",
            merchant_id="m-demo",
            kind="option",
            partner_item_id="1",
            product_id="prod-cheese",
            blink_id="596996",
            name="Extra cheese",
        ),
    )
    return deps


@pytest.fixture
def fixed_now(deps, monkeypatch):
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    monkeypatch.setattr(deps, "clock", lambda: now)
    return now


@pytest.fixture
def hub(seeded):
    from tests.support.hub import Hub

    return Hub()


@pytest.fixture
def aws_calls(deps):
    """Every AWS API call the handlers make from now on, as (service, operation)."""
    calls: list[tuple[str, str]] = []

    def record(model, **_):
        calls.append((model.service_model.service_name, model.name))

    for service in ("dynamodb", "secretsmanager", "stepfunctions"):
        aws_clients.client(service).meta.events.register("before-call", record)
    return calls


def table_items(table: str) -> list[dict]:
    from orderbridge.store.dynamo import from_attrs

    client = aws_clients.client("dynamodb")
    items, kwargs = [], {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        items.extend(from_attrs(i) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# The e2e tests run on two local stacks at once, one per xdist worker (`--dist loadgroup`): the
# stacks mostly wait (on schedules, deadlines, backoffs), so two halve the suite's wall time. The
# modules of a group share their worker's stack.
E2E_GROUPS = {
    "test_order_workflow.py": "e2e-1",
    "test_readme_quickstart.py": "e2e-1",
    "test_retry_after.py": "e2e-1",
    "test_sync_rents.py": "e2e-1",
    "test_sync_orders.py": "e2e-1",
    "test_fault_run.py": "e2e-2",  # tests/reliability: an e2e test on a stack of its own
}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/e2e/" in str(item.fspath) or item.fspath.basename in E2E_GROUPS:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group(E2E_GROUPS.get(item.fspath.basename, "e2e-2")))
