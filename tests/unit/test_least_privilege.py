"""Least privilege (issue 13 point 6): every Lambda's IAM policy in template.yaml grants exactly the
AWS data-plane calls its code can make — on the right table, index, secret, state machine, queue.

The calls are derived statically from each function's code path (``tests/support/aws_calls.py``:
from ``functions/<dir>/app.py`` through the ``orderbridge`` package to the store's boto3 calls).
Two checks per function:

1. every call the code can make is allowed by a statement of its policy (a missing one is a
   function failing in AWS with AccessDenied);
2. every action a statement grants, on every resource it names, is one the code makes — unless it
   is an exception both written as a ``least-privilege exception`` comment next to the statement
   in template.yaml and listed in :data:`EXCEPTIONS` below with its reason.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.aws_calls import Call, derive
from tests.support.template import TEMPLATE_PATH, resources

FUNCTIONS = resources("AWS::Serverless::Function")

# Permissions no code of ours uses, each with why the function must hold it. Each is also written
# as a "least-privilege exception" comment next to its statement in template.yaml.
EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("OrderStreamFunction", "sqs:SendMessage", "queue"): (
        "the stream's OnFailure destination: Lambda's poller sends a failed batch's record there "
        "with the function's role"
    ),
}

# Method calls the walk cannot type whose names are also a store method's, checked by hand: none
# of them reaches AWS.
NOT_STORE_CALLS = {
    "orderbridge.ops_api._catalog_routes: .put(...)": "@router.put(...), the resolver's route decorator",
    "orderbridge.ops_api._config_routes: .put(...)": "@router.put(...), the resolver's route decorator",
    "orderbridge.vendors.clients.VendorClients._get: .close(...)": "an httpx client's close()",
    "orderbridge.vendors.clients.VendorClients.bloqit: .create(...)": "a vendor client's constructor",
    "orderbridge.vendors.clients.VendorClients.blink_logistics: .create(...)": "a vendor client's constructor",
    "orderbridge.vendors.clients.VendorClients.dispatchninja: .create(...)": "a vendor client's constructor",
}

DATA_PLANE_SERVICES = {"dynamodb", "states", "secretsmanager", "sqs", "apigateway"}


def resource_name(resource: Any) -> str:
    """A policy statement's resource, named as :class:`Call` names it."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        name = resource["Fn::GetAtt"][0]
        return "queue" if name.endswith("Queue") else name
    if isinstance(resource, dict) and "Ref" in resource:
        return str(resource["Ref"])
    text = resource["Fn::Sub"] if isinstance(resource, dict) and "Fn::Sub" in resource else str(resource)
    if isinstance(text, list):
        text = text[0]
    if m := re.fullmatch(r"\$\{(\w+)\.Arn\}/index/([\w*]+)", text):
        return f"{m[1]}/index/{m[2]}"
    if ":secretsmanager:" in text:
        if "${WebhookSecretName}" in text:
            return "secret:WebhookSecretName"
        if "${VendorCredentialsSecretPrefix}" in text:
            return "secret:VendorCredentialsSecretPrefix"
        return "secret:" + text.rsplit(":secret:", 1)[1].rstrip("*")
    if ":states:" in text and (":execution:${OrderWorkflow.Name}:" in text or ":stateMachine:" in text):
        return "OrderWorkflow"
    if ":apigateway:" in text and "/apikeys/" in text:
        return "apikey"
    raise AssertionError(f"a resource this test cannot name: {resource!r}")


def grants(logical_id: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the function's policy allows. Only inline statements: a SAM
    policy template or a managed policy would grant what no test here can see."""
    out: set[tuple[str, str]] = set()
    for policy in FUNCTIONS[logical_id]["Properties"].get("Policies") or []:
        assert isinstance(policy, dict) and set(policy) == {"Statement"}, (
            f"{logical_id}: write its permissions as statements (not {policy!r})"
        )
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                assert "*" not in action, f"{logical_id}: a wildcard action {action}"
                out |= {(action, resource_name(resource)) for resource in targets}
    return out


def allowed(call: Call, granted: set[tuple[str, str]]) -> bool:
    action = f"{call.service}:{call.action}"
    if (action, call.resource) in granted:
        return True
    table, _, index = call.resource.partition("/index/")
    return bool(index) and (action, f"{table}/index/*") in granted


def used(grant: tuple[str, str], calls: frozenset[Call]) -> bool:
    """Whether the code makes the granted call; ``index/*`` is used only when every index of the
    table is."""
    action, resource = grant
    made = {call.resource for call in calls if f"{call.service}:{call.action}" == action}
    if resource.endswith("/index/*"):
        table = resource.removesuffix("/index/*")
        indexes = resources("AWS::DynamoDB::Table")[table]["Properties"].get("GlobalSecondaryIndexes") or []
        return bool(indexes) and all(f"{table}/index/{index['IndexName']}" in made for index in indexes)
    return resource in made


def template_comment_for(logical_id: str, action: str) -> bool:
    """Whether template.yaml has a ``least-privilege exception`` comment on the statement naming
    ``action`` inside the function's block, or on the comment lines just above it."""
    lines = TEMPLATE_PATH.read_text().splitlines()
    start = lines.index(f"  {logical_id}:")
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"  \w", lines[i])), len(lines))
    block = lines[start:end]
    for i, line in enumerate(block):
        if action not in line:
            continue
        start = i
        while start > 0 and "- Effect:" not in block[start]:  # up to the statement's first line
            start -= 1
        while start > 0 and block[start - 1].strip().startswith("#"):  # and the comment above it
            start -= 1
        if "least-privilege exception" in " ".join(block[start : i + 1]):
            return True
    return False


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_call_the_code_makes_is_allowed(logical_id: str) -> None:
    # Given the calls the function's code path can make
    derived = derive(logical_id)
    # When they are checked against its policy
    missing = sorted(str(call) for call in derived.calls if not allowed(call, grants(logical_id)))
    # Then none would be refused
    assert not missing, f"{logical_id} would fail with AccessDenied on: {missing}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_permission_granted_is_used_by_the_code(logical_id: str) -> None:
    # Given the function's policy and the calls its code can make
    derived = derive(logical_id)
    # When each granted (action, resource) is looked for among the calls
    unused = {
        grant
        for grant in grants(logical_id)
        if grant[0].split(":")[0] in DATA_PLANE_SERVICES and not used(grant, derived.calls)
    }
    excused = {grant for grant in unused if (logical_id, *grant) in EXCEPTIONS}
    # Then only the listed exceptions are unused, and each is written next to its statement
    assert unused == excused, f"{logical_id} holds permissions no code uses: {sorted(unused - excused)}"
    for action, _ in excused:
        assert template_comment_for(logical_id, action), (
            f"{logical_id}: write a 'least-privilege exception' comment next to its {action} statement"
        )


def test_every_exception_is_still_needed() -> None:
    # Given the listed exceptions
    for (logical_id, action, resource), reason in EXCEPTIONS.items():
        # Then each is granted and still not made by the code
        assert reason
        assert (action, resource) in grants(logical_id), f"stale exception {logical_id} {action}"
        assert not used((action, resource), derive(logical_id).calls), f"{logical_id} now makes {action}"


def test_the_walk_types_every_store_call() -> None:
    # Given every function's code path
    # When the walk meets a method call by a store method's name on a value it cannot type
    unknown = {u for logical_id in FUNCTIONS for u in derive(logical_id).unresolved} - set(NOT_STORE_CALLS)
    # Then each one is known not to reach AWS (else the derivation could miss a call)
    assert not unknown, f"untyped calls that may be store calls: {sorted(unknown)}"


def test_the_walk_finds_the_calls_we_know_of() -> None:
    # Given functions whose calls are known by heart (the walk must not find too little)
    known = {
        "BlinkOrderWebhookFunction": Call("dynamodb", "BatchGetItem", "ConfigTable"),
        "OpsApiFunction": Call("states", "StartExecution", "OrderWorkflow"),
        "CourierKeeperFunction": Call("dynamodb", "Query", "OrdersTable/index/open_courier_waits"),
        "SubmitOrderToBlinkFunction": Call("dynamodb", "PutItem", "IdempotencyTable"),
        "PartnerOrderWebhookFunction": Call("secretsmanager", "GetSecretValue", "secret:orderbridge/partners/"),
        "SyncCatalogFunction": Call("sqs", "SendMessage", "queue"),
        "OpsAuthorizerFunction": Call("apigateway", "GET", "apikey"),
    }
    for logical_id, call in known.items():
        # Then each is derived
        assert call in derive(logical_id).calls, f"{logical_id}: {call} not derived"
    # And a read-only step gets no idempotency and no write
    plan = derive("CheckCollectDeadlineFunction").calls
    assert not any(c.resource == "IdempotencyTable" or c.action in {"PutItem", "UpdateItem"} for c in plan)
