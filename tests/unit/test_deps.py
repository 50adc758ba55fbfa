"""One dependency container for every entry point: built once per Lambda container, each part
built on first use, so a cold start builds only the clients its request uses."""

from __future__ import annotations

from typing import Any

import pytest
from orderbridge.config import Settings
from orderbridge.deps import Deps, get_deps
from orderbridge.models.base import OurModel


class ClientFactory:
    """Stands for ``aws.client``: records which services were built."""

    def __init__(self) -> None:
        self.built: list[str] = []

    def __call__(self, service: str) -> Any:
        self.built.append(service)
        return object()


def test_a_new_container_builds_no_client():
    # Given a new container
    clients = ClientFactory()
    Deps(Settings(), client=clients)

    # Then nothing was built yet
    assert clients.built == []


def test_the_store_builds_only_dynamodb_and_once():
    # Given a new container
    clients = ClientFactory()
    deps = Deps(Settings(), client=clients)

    # When a use case reads orders, configuration, rents and waits
    parts = [deps.orders, deps.config, deps.rents, deps.waits, deps.orders]

    # Then one DynamoDB client serves them all, and each store is built once
    assert clients.built == ["dynamodb"]
    assert parts[0] is parts[-1]


def test_the_workflow_gateway_builds_step_functions_only_when_used():
    clients = ClientFactory()
    deps = Deps(Settings(order_workflow_arn="arn:aws:states:eu-west-1:1:stateMachine:orders"), client=clients)

    _ = deps.orders
    assert "stepfunctions" not in clients.built
    workflow = deps.workflow

    assert clients.built == ["dynamodb", "stepfunctions"]
    assert workflow.state_machine_arn == "arn:aws:states:eu-west-1:1:stateMachine:orders"


def test_a_part_assigned_before_use_replaces_the_built_one():
    # Given a test that installs its own Step Functions client
    clients = ClientFactory()
    deps = Deps(Settings(), client=clients)
    recorder = object()
    deps.stepfunctions = recorder

    # Then the gateway speaks to it and no real client is built
    assert deps.workflow.client is recorder
    assert "stepfunctions" not in clients.built


def test_the_container_is_built_once_until_the_cache_is_cleared():
    get_deps.cache_clear()
    try:
        first = get_deps()
        assert get_deps() is first
        get_deps.cache_clear()
        assert get_deps() is not first
    finally:
        get_deps.cache_clear()


def test_an_entry_refuses_a_function_whose_idempotency_is_not_declared():
    from orderbridge.entry import action_handler

    class In(OurModel):
        order_id: str

    def undeclared(*, request: In, deps: Deps) -> In:
        return request

    with pytest.raises(TypeError, match="declare it with @action"):
        action_handler(undeclared)


def test_a_webhooks_cold_start_loads_neither_the_vendor_clients_nor_the_idempotency():
    # Given a fresh interpreter (a cold start)
    import subprocess
    import sys
    from pathlib import Path

    app = Path(__file__).resolve().parents[2] / "functions" / "blink_order_webhook" / "app.py"
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sorted(m for m in ('orderbridge.vendors.clients', 'orderbridge.actions.runtime',"
        " 'aws_lambda_powertools.utilities.idempotency') if m in sys.modules))\n"
    )

    # When the webhook's handler module is imported
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

    # Then what only actions use stayed unloaded
    assert loaded.stdout.strip() == "[]"
