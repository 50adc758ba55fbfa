"""One dependency container for every entry point: built once per Lambda container, each part
built on first use, so a cold start builds only the clients its request uses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
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


# -- cold start: what a handler's import loads (counted, not timed; issue 12) -----------------------

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# Loaded by no handler's import: each is loaded by the first request that needs it.
DENIED_AT_IMPORT = (
    # The X-Ray SDK's patches: botocore's when the first AWS client is built (aws.client), httpx's
    # with the vendor clients (Deps.vendors), no others (Powertools' patch_all imported httpx,
    # sqlite3, ... and the botocore extension at import).
    "aws_xray_sdk.ext",
    "aws_lambda_powertools.utilities.parameters",  # and its appconfig: on the first secret read
    "aws_lambda_powertools.utilities.validation",
    "aws_lambda_powertools.utilities.feature_flags",
    # boto3's resource layer: the stores use the client (its `boto3.resources` package itself is
    # imported by `import boto3`, the bare handler's too: not ours to deny).
    "boto3.dynamodb.table",
    "boto3.dynamodb.conditions",
)
# ... and by no webhook's: a webhook records what it was sent, it calls no vendor and runs no action.
DENIED_FOR_WEBHOOKS = (
    "aws_lambda_powertools.utilities.idempotency",  # an action's (its first request uses it)
    "httpx",
    "httpcore",
    "anyio",
    "tenacity",
    "orderbridge.vendors",
    "orderbridge.actions",
    "orderbridge.syncs",
    "aws_lambda_powertools.utilities.batch",
    # Powertools' resolvers (all of them load with the package: AppSync, Bedrock, ...) and event data
    # classes: a webhook has one route and answers through web.answers (entry.webhook_handler).
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
    # Blink's interface API models (~40 classes): a webhook reads models.blink_webhooks.
    "orderbridge.models.blink",
    # ... and Bloq.It's Partner API models: its webhook reads models.bloqit_webhooks.
    "orderbridge.models.bloqit",
)

_IMPORT_HANDLER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
from pydantic import BaseModel
def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)
# every model of ours but the settings (parsed at cold start: config.py)
ours = {c for c in subclasses(BaseModel) if c.__module__.split(".")[0] == "orderbridge"}
ours = {c for c in ours if c.__module__ != "orderbridge.config"}
built = sorted(c.__qualname__ for c in ours if c.__pydantic_complete__)
print(json.dumps({"modules": sorted(sys.modules), "built_models": built}))
"""


def _kind(function: Path) -> str:
    """The entry factory a function's app.py calls (``webhook_handler``, ``action_handler``, ...)."""
    match = re.search(r"^lambda_handler = (\w+)", (function / "app.py").read_text(), re.MULTILINE)
    assert match, f"{function.name}/app.py: no `lambda_handler = <factory>(...)`"
    return match[1]


def _cold_start_cases() -> list[Path]:
    """Every webhook, and the first function (by name) of every other kind."""
    functions = sorted(p for p in FUNCTIONS.iterdir() if (p / "app.py").exists())
    cases: dict[str, Path] = {}
    for function in functions:
        kind = _kind(function)
        cases.setdefault(function.name if kind == "webhook_handler" else kind, function)
    return list(cases.values())


@pytest.mark.parametrize("function", _cold_start_cases(), ids=lambda p: p.name)
def test_a_cold_start_loads_only_what_its_first_request_needs(function: Path) -> None:
    # Given a fresh interpreter as Lambda starts one, X-Ray tracing on (Tracing: Active)
    env = _lambda_env(function)
    env.pop("POWERTOOLS_TRACE_DISABLED", None)

    # When the function's handler module is imported
    run = [sys.executable, "-c", _IMPORT_HANDLER, str(function / "app.py")]
    loaded = json.loads(subprocess.run(run, capture_output=True, text=True, check=True, env=env).stdout)

    # Then no module on the deny list was loaded, and (a webhook) no model of ours but the settings
    # was built yet: models build on first use (models.base: defer_build)
    webhook = _kind(function) == "webhook_handler"
    denied = DENIED_AT_IMPORT + (DENIED_FOR_WEBHOOKS if webhook else ())
    reached = [m for m in loaded["modules"] if any(m == d or m.startswith(d + ".") for d in denied)]
    assert not reached, f"{function.name}: its import loads {reached}: import them where they are first used"
    if webhook:
        assert loaded["built_models"] == [], f"{function.name}: models built at import: {loaded['built_models']}"


# ... and with tracing off (the template's XRayTracing: off sets POWERTOOLS_TRACE_DISABLED): not the
# X-Ray SDK's recorder nor its patches, neither at import nor when the first AWS client is built
# (observability.NoTracing). Its top-level package (two small modules) is where Powertools switches
# the SDK off.
DENIED_WITH_TRACING_OFF = ("aws_xray_sdk.core", "aws_xray_sdk.ext")

_IMPORT_HANDLER_AND_BUILD_A_CLIENT = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
from orderbridge import aws
from orderbridge.observability import tracer
aws.client("dynamodb")
print(json.dumps({"modules": sorted(sys.modules), "provider": type(tracer.provider).__name__}))
"""


def _lambda_env(function: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LAMBDA_TASK_ROOT": str(function),
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_DEFAULT_REGION": "eu-west-1",
        **extra,
    }
    env.pop("AWS_SAM_LOCAL", None)
    return env


def _webhooks() -> list[Path]:
    return [f for f in sorted(FUNCTIONS.iterdir()) if (f / "app.py").exists() and _kind(f) == "webhook_handler"]


@pytest.mark.parametrize("function", _webhooks(), ids=lambda p: p.name)
def test_a_webhook_with_tracing_off_never_loads_the_x_ray_sdk(function: Path) -> None:
    # Given a fresh interpreter as Lambda starts one with XRayTracing: off
    env = _lambda_env(function, POWERTOOLS_TRACE_DISABLED="true")

    # When the function's handler module is imported and its first AWS client is built
    run = [sys.executable, "-c", _IMPORT_HANDLER_AND_BUILD_A_CLIENT, str(function / "app.py")]
    loaded = json.loads(subprocess.run(run, capture_output=True, text=True, check=True, env=env).stdout)

    # Then the tracer records nothing and neither the X-Ray SDK's recorder nor a patch was loaded
    assert loaded["provider"] == "NoTracing"
    reached = [m for m in loaded["modules"] if any(m == d or m.startswith(d + ".") for d in DENIED_WITH_TRACING_OFF)]
    assert not reached, f"{function.name}: with tracing off it loads {reached}"


def test_with_tracing_on_the_first_client_is_traced_through_the_x_ray_sdk() -> None:
    # Given a fresh interpreter as Lambda starts one with XRayTracing: on (the template's default)
    function = _webhooks()[0]
    env = _lambda_env(function)
    env.pop("POWERTOOLS_TRACE_DISABLED", None)

    # When the handler is imported and its first AWS client is built
    run = [sys.executable, "-c", _IMPORT_HANDLER_AND_BUILD_A_CLIENT, str(function / "app.py")]
    loaded = json.loads(subprocess.run(run, capture_output=True, text=True, check=True, env=env).stdout)

    # Then Powertools traces through the X-Ray SDK's recorder, and botocore is patched (only botocore)
    assert loaded["provider"] != "NoTracing"
    assert "aws_xray_sdk.core" in loaded["modules"]
    assert "aws_xray_sdk.ext.botocore.patch" in loaded["modules"]
    assert "aws_xray_sdk.ext.httpx" not in loaded["modules"]
