"""The static derivation of each function's AWS calls (tests/support/aws_calls.py, checked against
the IAM policies by tests/unit/test_least_privilege.py) misses nothing a real run makes: the webhooks
and the ops API, driven with the vendor docs' samples under moto, make only calls the derivation
found — each recorded with its table, index, transaction items and secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from orderbridge import aws as aws_clients

from tests.support import hub as hub_module
from tests.support import samples
from tests.support.aws_calls import Call, derive

TABLES = {"OrdersTable", "ConfigTable", "RentsTable", "IdempotencyTable"}  # named by logical id in tests
ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
SFN_ACTIONS = {"StartExecution", "DescribeExecution", "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"}


def as_calls(operation: str, params: dict[str, Any], deps: Any) -> set[Call]:
    """One botocore request as the IAM calls it is checked as."""
    if operation == "BatchGetItem":
        return {Call("dynamodb", "BatchGetItem", table) for table in params["RequestItems"]}
    if operation == "TransactWriteItems":
        return {
            Call("dynamodb", ITEM_ACTIONS[kind], spec["TableName"])
            for item in params["TransactItems"]
            for kind, spec in item.items()
        }
    if operation == "Query" and params.get("IndexName"):
        return {Call("dynamodb", "Query", f"{params['TableName']}/index/{params['IndexName']}")}
    if "TableName" in params:
        return {Call("dynamodb", operation, params["TableName"])}
    if operation == "GetSecretValue":
        name = str(params["SecretId"])
        settings = deps.settings
        if name == settings.webhook_secret_name:
            return {Call("secretsmanager", operation, "secret:WebhookSecretName")}
        if name.startswith("orderbridge/partners/"):
            return {Call("secretsmanager", operation, "secret:orderbridge/partners/")}
        return {Call("secretsmanager", operation, "secret:VendorCredentialsSecretPrefix")}
    if operation in SFN_ACTIONS:
        return {Call("states", operation, "OrderWorkflow")}
    raise AssertionError(f"a call this test cannot name: {operation} {sorted(params)}")


@pytest.fixture
def made(hub: Any, deps: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, set[Call]]]:
    """Function logical id → the calls its invocations made (through the Hub)."""
    by_function: dict[str, set[Call]] = {}
    current: list[str] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if current:
            by_function.setdefault(current[-1], set()).update(as_calls(model.name, params, deps))

    for service in ("dynamodb", "secretsmanager", "stepfunctions"):
        aws_clients.client(service).meta.events.register("before-parameter-build", record)
    invoke = hub_module.invoke

    def invoke_recorded(function: str, event: dict[str, Any]) -> Any:
        current.append(function)
        try:
            return invoke(function, event)
        finally:
            current.pop()

    monkeypatch.setattr(hub_module, "invoke", invoke_recorded)
    yield by_function


def test_a_run_makes_no_call_the_derivation_missed(hub: Any, made: dict[str, set[Call]]) -> None:
    # Given every webhook and the ops API, driven with the docs' samples (new, changed, late,
    # duplicate, unmatched, and an order looked up)
    hub.blink_order(samples.text("blink_order_webhook.json"))
    hub.blink_order(samples.text("blink_order_webhook.json"))
    hub.blink_status({"blink_order_id": "1236589", "status": 1, "created_at": "2024-06-26 10:00:00"})
    hub.blink_status({"blink_order_id": "1236589", "status": 6, "branch_id": "12345"})
    hub.blink_status({"blink_order_id": "no-such-order", "status": 2})
    hub.task_status(samples.text("blink_task_status_webhook.json"))
    hub.partner_order(samples.text("blend_order_created.jsonc"))
    hub.bloq(samples.text("bloq_webhook_callback.json"))
    hub.ops_list()
    hub.ops_list(state="in_progress")
    hub.ops_order("no-such-order")
    # When the calls each function made are compared with what the derivation found for it
    missed = {function: sorted(map(str, calls - derive(function).calls)) for function, calls in made.items()}
    # Then every function ran and made AWS calls, and none the derivation missed
    assert set(made) == {
        "BlinkOrderWebhookFunction",
        "BlinkOrderStatusWebhookFunction",
        "BlinkTaskStatusWebhookFunction",
        "PartnerOrderWebhookFunction",
        "BloqWebhookFunction",
        "OpsApiFunction",
    }
    assert all(made.values())
    assert not any(missed.values()), missed
    assert {c.resource for calls in made.values() for c in calls if c.service == "dynamodb"} <= TABLES | {
        f"{t}/index/{i}" for t in TABLES for i in ("by_state", "by_status", "by_branch", "by_day", "by_order")
    }
