"""Every action Lambda in template.yaml: a thin handler running its action (idempotently when it
changes something at a vendor), least-privilege policies, and an events/ sample it accepts."""

from __future__ import annotations

import ast
import inspect
import itertools
import json
from datetime import timedelta

import pytest
from orderbridge import entry
from orderbridge.actions import blink, bloqit_admin, courier, lockers, runtime

from tests.integration.actions.conftest import DOC_RENT_ID, EVENTS, NOW, doc, event
from tests.support.template import function_code_dir, resources
from tests.unit.vendors import bloqit_samples as bloq_docs
from tests.unit.vendors.support import json_response

# Logical id → (action, idempotent). Reads and token issuing are not idempotent: see their modules.
ACTIONS = {
    "SubmitOrderToBlinkFunction": (blink.submit_order_to_blink, True),
    "SyncOrderStatusToBlinkFunction": (blink.sync_order_status_to_blink, True),
    "CreateBlinkLogisticsTaskFunction": (courier.create_blink_logistics_task, True),
    "UpdateBlinkLogisticsTaskFunction": (courier.update_blink_logistics_task, True),
    "GetBlinkLogisticsTaskStatusFunction": (courier.get_blink_logistics_task_status, False),
    "CreateDispatchNinjaOrderFunction": (courier.create_dispatchninja_order, True),
    "GetDispatchNinjaOrderDetailsFunction": (courier.get_dispatchninja_order_details, False),
    "ReserveLockerFunction": (lockers.reserve_locker, True),
    "SelectLockerFunction": (lockers.select_locker, True),
    "MakeDeliveryFunction": (lockers.make_delivery, True),
    "NotifyLockerCustomerFunction": (lockers.notify_locker_customer, True),
    "CancelRentFunction": (lockers.cancel_rent, True),
    "ReleaseEmptyLockerFunction": (lockers.release_empty_locker, True),
    "CollectRentFunction": (lockers.collect_rent, True),
    "FinishRentFunction": (lockers.finish_rent, True),
    "ReturnExpiredDeliveryFunction": (lockers.return_expired_delivery, True),
    "RegisterBloqWebhookFunction": (bloqit_admin.register_bloq_webhook, True),
    "IssueCourierTokenFunction": (bloqit_admin.issue_courier_token, False),
}


VENDOR_ACTION_MODULES = {"blink", "courier", "lockers", "bloqit_admin"}


def action_functions() -> dict[str, dict]:
    """Template functions whose handler runs a vendor action (imports one of the action modules)."""
    found = {}
    for name, res in resources("AWS::Serverless::Function").items():
        tree = ast.parse((function_code_dir(name) / "app.py").read_text())
        imported = {
            alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module == "orderbridge.actions"
            for alias in node.names
        }
        if imported & VENDOR_ACTION_MODULES:
            found[name] = res
    return found


def sample_name(logical_id: str) -> str:
    return function_code_dir(logical_id).name


def test_every_action_function_is_known_here():
    assert set(action_functions()) == set(ACTIONS)


@pytest.mark.parametrize("logical_id", sorted(ACTIONS))
def test_the_handler_is_the_middleware_running_its_action(logical_id):
    action, idempotent = ACTIONS[logical_id]
    tree = ast.parse((function_code_dir(logical_id) / "app.py").read_text())
    [statement] = [n for n in tree.body if not isinstance(n, ast.ImportFrom | ast.Expr)]
    assert ast.unparse(statement.targets[0]) == "lambda_handler"
    call = statement.value
    assert ast.unparse(call.func) == "action_handler"
    assert ast.unparse(call.args[0]).split(".")[-1] == action.__name__
    # The idempotency is declared on the action itself (``@action(idempotent=...)``).
    assert runtime.is_declared(action)
    assert runtime.is_idempotent(action) is idempotent
    # The handler runs under the one middleware: logging, tracing, metrics with the cold-start metric.
    source = inspect.getsource(entry.orderbridge_middleware)
    assert "logger.inject_lambda_context(clear_state=True)" in source
    assert "tracer.capture_lambda_handler" in source
    assert "metrics.log_metrics(capture_cold_start_metric=True)" in source


@pytest.mark.parametrize("logical_id", sorted(ACTIONS))
def test_policies_are_least_privilege(logical_id):
    props = action_functions()[logical_id]["Properties"]
    assert props["Timeout"] == 30
    statements = [s for policy in props["Policies"] for s in policy["Statement"]]
    actions = {a for s in statements for a in s["Action"]}
    assert not {a for a in actions if "*" in a}
    assert actions <= {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "secretsmanager:GetSecretValue",
    }
    idempotency = [s for s in statements if s["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}]
    _, idempotent = ACTIONS[logical_id]
    assert bool(idempotency) is idempotent
    if idempotent:
        assert sorted(idempotency[0]["Action"]) == [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ]
    secrets = json.dumps([s["Resource"] for s in statements if s["Action"] == ["secretsmanager:GetSecretValue"]])
    assert "${VendorCredentialsSecretPrefix}*" in secrets
    assert ("${WebhookSecretName}-*" in secrets) is (logical_id == "RegisterBloqWebhookFunction")


@pytest.mark.parametrize("logical_id", sorted(ACTIONS))
def test_every_action_has_an_events_sample_its_input_model_accepts(logical_id):
    path = EVENTS / f"{sample_name(logical_id)}.json"
    assert path.exists(), f"events/{path.name} is missing"
    action, _ = ACTIONS[logical_id]
    runtime._input_model(action).model_validate(json.loads(path.read_text()))


def test_every_sample_is_accepted_by_its_lambda_in_a_day_of_one_order(act, vendors, partner_order, action_deps, hub):
    """All the samples, in the order a locker delivery would bring them, against the mocked vendors."""
    ticks = itertools.count()
    action_deps.clock = lambda: NOW + timedelta(seconds=next(ticks))  # the day goes by
    # Bloq.It turns the expired delivery into a return rent of its own, which is then cancelled,
    # emptied and finished.
    vendors.return_.mock(
        return_value=json_response(doc(bloq_docs.DELIVERY_RETURNED, _id="return-rent", type="return", state="reserved"))
    )
    outputs = {}
    for logical_id in [
        "RegisterBloqWebhookFunction",
        "SubmitOrderToBlinkFunction",
        "SyncOrderStatusToBlinkFunction",
        "ReserveLockerFunction",
        "SelectLockerFunction",
        "CreateBlinkLogisticsTaskFunction",
        "UpdateBlinkLogisticsTaskFunction",
        "GetBlinkLogisticsTaskStatusFunction",
        "CreateDispatchNinjaOrderFunction",
        "GetDispatchNinjaOrderDetailsFunction",
        "IssueCourierTokenFunction",
        "MakeDeliveryFunction",
        "NotifyLockerCustomerFunction",
        "ReturnExpiredDeliveryFunction",
        "CancelRentFunction",
        "CollectRentFunction",
        "FinishRentFunction",
        "ReleaseEmptyLockerFunction",  # after all that: no empty rent left to release
    ]:
        if logical_id == "ReturnExpiredDeliveryFunction":
            hub.bloq({"_id": "evt-expired", "codeName": "rent.expired", "rent": DOC_RENT_ID})
        changes = {}
        if logical_id == "FinishRentFunction":
            # Collecting opens the locker; once it is closed Bloq.It finishes the rent by itself (the
            # doc's option A): FinishRent, asked for that rent, then has nothing to send.
            hub.bloq({"_id": "evt-finished", "codeName": "rent.finished", "rent": "return-rent"})
            changes = {"rent_id": "return-rent"}
        outputs[logical_id] = act(logical_id, event(sample_name(logical_id), **changes))
    assert set(outputs) == set(ACTIONS)
    assert outputs["ReserveLockerFunction"]["state"] == "reserved"
    assert outputs["ReleaseEmptyLockerFunction"]["released"] is False
    assert [outputs[f]["rent_id"] for f in ("ReturnExpiredDeliveryFunction", "FinishRentFunction")] == [
        "return-rent",
        "return-rent",
    ]
    assert action_deps.rents.get("return-rent").state == "finished"
    view = action_deps.orders.get(partner_order)
    # The DispatchNINJA order, created last, is the order's current courier job (read: still pending);
    # the return rent is its current rent, finished.
    assert view.tracks.model_dump() == view.tracks.model_dump() | {
        "status": "accepted",
        "courier_status": "TASK_CREATED",
        "rent_state": "finished",
    }
