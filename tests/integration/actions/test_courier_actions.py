"""Courier actions: Blink Logistics tasks (create, update, read status), DispatchNINJA orders
(create, read details)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from orderbridge.actions.common import ActionRefused
from orderbridge.actions.runtime import InvalidActionInput
from orderbridge.vendors.http import PermanentVendorError, RetryableVendorError, VendorAuthError

from tests.conftest import table_items
from tests.integration.actions.conftest import event, sent_form, sent_json, timeline, tracks
from tests.support import samples
from tests.unit.vendors import samples as docs
from tests.unit.vendors.support import json_response

CREATE_TASK = "CreateBlinkLogisticsTaskFunction"
UPDATE_TASK = "UpdateBlinkLogisticsTaskFunction"
TASK_STATUS = "GetBlinkLogisticsTaskStatusFunction"
CREATE_NINJA = "CreateDispatchNinjaOrderFunction"
NINJA_DETAILS = "GetDispatchNinjaOrderDetailsFunction"


def _alias_order(source: str, vendor_id: str) -> list[str]:
    return [i["order_id"] for i in table_items("OrdersTable") if i["pk"] == f"ALIAS#{source}#{vendor_id}"]


# -- Blink Logistics ---------------------------------------------------------------------------------


def test_task_creation_sends_the_order_and_lets_the_task_webhook_find_it(act, vendors, partner_order, action_deps, hub):
    # Given the partner order; When the create-task action runs with its sample
    out = act(CREATE_TASK, event("create_blink_logistics_task"))

    # Then Blink Logistics got a task keyed by our order id, with the customer, position and times
    assert out == {
        "order_id": partner_order,
        "task_id": "XYZAB-12345",
        "event": "TASK_CREATED",
        "already_created": False,
    }
    body = sent_json(vendors.create_task)
    assert (body["mappingKey"], body["mappingCode"], body["mappingBranchId"]) == (partner_order, partner_order, "12345")
    assert (body["customerName"], body["customerPhone"], body["lat"], body["lng"]) == (
        "Test Customer",
        "923001234567",
        "24.871641",
        "67.059906",
    )
    assert (body["pickUpTime"], body["deliveryTime"]) == ("2026-11-22T12:15:00.000Z", "2026-11-22T13:00:00.000Z")
    assert (body["paymentType"], body["type"], body["source"]) == ("COD", 1, "orderbridge")
    assert (body["subTotal"], body["tax"], body["discount"]) == (Decimal(50), Decimal(10), Decimal(10))
    assert body["description"] == "Burger x2, Fries x1"

    # And the order has the task id, the alias, the courier track and a timeline event
    assert action_deps.orders.load(partner_order)[0].blink_logistics_task_id == "XYZAB-12345"
    assert _alias_order("blink_logistics", "XYZAB-12345") == [partner_order]
    assert tracks(action_deps, partner_order)["courier_status"] == "TASK_CREATED"
    assert [e["kind"] for e in timeline(action_deps, partner_order)].count("courier_task_created") == 1

    # And the doc's task status webhook (task XYZAB-12345 accepted) is matched to the order
    answer = hub.task_status(samples.text("blink_task_status_webhook.json"))
    assert (answer.status, answer.body) == (200, {"status": "accepted", "order_id": partner_order})
    assert tracks(action_deps, partner_order)["courier_status"] == "TASK_ACCEPTED"


def test_task_creation_twice_creates_one_task(act, vendors, partner_order):
    first = act(CREATE_TASK, event("create_blink_logistics_task"))
    assert act(CREATE_TASK, event("create_blink_logistics_task")) == first
    assert vendors.create_task.call_count == 1
    later = act(CREATE_TASK, event("create_blink_logistics_task", instruction="ring twice"))  # other input
    assert later["already_created"] is True and vendors.create_task.call_count == 1


def test_a_task_without_customer_position_is_refused(act, vendors, partner_order):
    sample = event("create_blink_logistics_task")
    del sample["customer"]["latitude"]
    with pytest.raises(ActionRefused, match="missing customer latitude"):
        act(CREATE_TASK, sample)
    assert vendors.create_task.call_count == 0


def test_a_delivery_time_before_the_pickup_is_refused(act, vendors, partner_order):
    with pytest.raises(ActionRefused, match="deliveryTime must not be before pickUpTime"):
        act(
            CREATE_TASK,
            event(
                "create_blink_logistics_task", pick_up_time="2026-11-22T13:00:00Z", delivery_time="2026-11-22T12:30:00Z"
            ),
        )
    assert vendors.create_task.call_count == 0


def test_a_revoked_logistics_token_is_a_permanent_auth_error(act, vendors, partner_order, action_deps):
    vendors.create_task.mock(return_value=json_response({"message": "Unauthenticated."}, 401))
    with pytest.raises(VendorAuthError):
        act(CREATE_TASK, event("create_blink_logistics_task"))
    assert vendors.create_task.call_count == 1
    assert action_deps.orders.load(partner_order)[0].blink_logistics_task_id is None


@pytest.fixture
def with_task(act, partner_order) -> str:
    act(CREATE_TASK, event("create_blink_logistics_task"))
    return partner_order


def test_task_update_sends_only_what_changes(act, vendors, with_task, action_deps):
    out = act(UPDATE_TASK, event("update_blink_logistics_task"))
    assert sent_json(vendors.update_task) == {
        "taskId": "XYZAB-12345",
        "instruction": "Call the customer on arrival",
        "type": 1,
    }
    assert out == {"order_id": with_task, "task_id": "XYZAB-12345", "event": "TASK_UPDATED", "already_created": False}
    updated = [e for e in timeline(action_deps, with_task) if e["kind"] == "courier_task_updated"]
    assert len(updated) == 1 and updated[0]["detail"]["changed"] == ["instruction", "type"]
    assert tracks(action_deps, with_task)["courier_status"] == "TASK_CREATED"  # an update is not progress
    act(UPDATE_TASK, event("update_blink_logistics_task"))
    assert vendors.update_task.call_count == 1


def test_task_update_needs_something_to_change_and_a_task(act, vendors, partner_order):
    with pytest.raises(InvalidActionInput, match="nothing to change"):
        act(UPDATE_TASK, {"order_id": partner_order, "type": 1})
    with pytest.raises(InvalidActionInput, match="type: Field required"):
        act(UPDATE_TASK, {"order_id": partner_order, "instruction": "ring twice"})
    with pytest.raises(ActionRefused, match="no Blink Logistics task"):
        act(UPDATE_TASK, event("update_blink_logistics_task"))
    assert vendors.update_task.call_count == 0


def test_task_status_read_records_new_statuses_once_and_moves_the_courier_track(act, vendors, with_task, action_deps):
    reads_before = vendors.task_status.call_count  # creating the task looked for an existing one
    first = act(TASK_STATUS, event("get_blink_logistics_task_status"))
    assert vendors.task_status.calls.last.request.url.params["mappingKey"] == with_task
    assert first == {
        "order_id": with_task,
        "task_id": "XYZAB-12345",
        "event_id": 24,
        "event": "TASK_ACCEPTED",
        "reason": None,
        "agent_name": "Test Rider",
        "tracking_link": "https://delivery-stg.blinkco.io/tracking/jvkUgPIRN6f8jZg9q62xy",
        "courier_status": "TASK_ACCEPTED",
        "recorded": True,
    }
    assert tracks(action_deps, with_task)["courier_status"] == "TASK_ACCEPTED"
    # A read is not idempotent: the second read asks again, and records nothing new
    second = act(TASK_STATUS, event("get_blink_logistics_task_status"))
    assert vendors.task_status.call_count == reads_before + 2 and second["recorded"] is False
    assert [e["kind"] for e in timeline(action_deps, with_task)].count("task_status") == 1


def test_task_status_read_never_moves_the_courier_track_back(act, vendors, with_task, action_deps):
    finished = json.loads(docs.LOGISTICS_TASK_STATUS_RESPONSE) | {"eventId": 27, "event": "TASK_FINISHED"}
    vendors.task_status.mock(return_value=json_response(finished))
    act(TASK_STATUS, event("get_blink_logistics_task_status"))
    vendors.task_status.mock(return_value=json_response(docs.LOGISTICS_TASK_STATUS_RESPONSE))  # a stale answer
    out = act(TASK_STATUS, event("get_blink_logistics_task_status"))
    assert out["courier_status"] == "TASK_FINISHED"
    assert tracks(action_deps, with_task)["courier_status"] == "TASK_FINISHED"


def test_task_status_read_failing_is_retryable(act, vendors, with_task):
    vendors.task_status.mock(return_value=json_response({"message": "busy"}, 429, headers={"Retry-After": "0"}))
    with pytest.raises(RetryableVendorError):
        act(TASK_STATUS, event("get_blink_logistics_task_status"))


# -- DispatchNINJA -----------------------------------------------------------------------------------


def test_dispatchninja_order_is_created_from_the_order_and_linked(act, vendors, partner_order, action_deps):
    out = act(CREATE_NINJA, event("create_dispatchninja_order"))
    assert out == {"order_id": partner_order, "dispatchninja_order_id": "1857", "already_created": False}
    assert vendors.ninja_add.calls.last.request.headers["X-API-KEY"] == "dev-ninja-api-key"
    assert sent_form(vendors.ninja_add) == {
        "client_name": "Test Store",
        "client_address": "145 Test st",
        "customer_name": "Test Customer",
        "customer_address": "150 Test st",
        "customer_phone": "777 777 7777",
        "comments": "Burger x2, Fries x1",
    }
    assert action_deps.orders.load(partner_order)[0].dispatchninja_order_id == "1857"
    assert _alias_order("dispatchninja", "1857") == [partner_order]
    assert tracks(action_deps, partner_order)["courier_status"] == "TASK_CREATED"
    assert act(CREATE_NINJA, event("create_dispatchninja_order")) == out
    assert vendors.ninja_add.call_count == 1


def test_dispatchninja_pickup_defaults_to_the_branch(act, vendors, partner_order, action_deps):
    from orderbridge.models.config import Branch

    action_deps.config.put(
        Branch(
            branch_id="12345", merchant_id="m-demo", name="XYZ road", blink_id="50220", address="12 XYZ road, Karachi"
        )
    )
    sample = event("create_dispatchninja_order")
    del sample["client_name"], sample["client_address"]
    act(CREATE_NINJA, sample)
    form = sent_form(vendors.ninja_add)
    assert (form["client_name"], form["client_address"]) == ("XYZ road", "12 XYZ road, Karachi")


def test_dispatchninja_answer_code_errors_keep_their_class(act, vendors, partner_order):
    vendors.ninja_add.mock(
        return_value=json_response(
            {"code": "400", "status": "400 bad request", "response": {"message": "customer_address is required"}}
        )
    )
    with pytest.raises(PermanentVendorError, match="customer_address is required") as failed:
        act(CREATE_NINJA, event("create_dispatchninja_order"))
    assert type(failed.value).__name__ == "PermanentVendorError"


@pytest.fixture
def with_ninja(act, partner_order) -> str:
    act(CREATE_NINJA, event("create_dispatchninja_order"))
    return partner_order


def _details(**changes) -> dict:
    body = json.loads(docs.NINJA_ORDER_DETAILS_RESPONSE)
    body["response"].update(changes)
    return body


def test_dispatchninja_details_record_each_status_change_once(act, vendors, with_ninja, action_deps):
    # Given DispatchNINJA says the delivery is pending (its doc sample)
    pending = act(NINJA_DETAILS, event("get_dispatchninja_order_details"))
    assert sent_form(vendors.ninja_details) == {"order_id": "1857"}
    assert {k: pending[k] for k in ("status", "status_id", "completed", "canceled", "courier_status", "changed")} == {
        "status": "Pending",
        "status_id": 1,
        "completed": False,
        "canceled": False,
        "courier_status": "TASK_CREATED",
        "changed": True,
    }
    # When it is read again unchanged, nothing new is recorded
    assert act(NINJA_DETAILS, event("get_dispatchninja_order_details"))["changed"] is False
    # When a driver has it, then it is on the way, then completed, each is recorded and the track moves on
    vendors.ninja_details.mock(return_value=json_response(_details(driver="77", status_id="2", status="Assigned")))
    assert act(NINJA_DETAILS, event("get_dispatchninja_order_details"))["courier_status"] == "TASK_ASSIGNED"
    assert tracks(action_deps, with_ninja)["courier_status"] == "TASK_ASSIGNED"
    vendors.ninja_details.mock(return_value=json_response(_details(driver="77", status_id="3", status="In Transit")))
    assert act(NINJA_DETAILS, event("get_dispatchninja_order_details"))["courier_status"] == "TASK_STARTED"
    vendors.ninja_details.mock(
        return_value=json_response(
            _details(driver="77", status_id="4", status="Completed", completed="2021-04-23 16:40:00")
        )
    )
    done = act(NINJA_DETAILS, event("get_dispatchninja_order_details"))
    assert (done["completed"], done["completed_at"], done["courier_status"]) == (
        True,
        "2021-04-23T16:40:00Z",
        "TASK_FINISHED",
    )
    assert tracks(action_deps, with_ninja)["courier_status"] == "TASK_FINISHED"
    courier_events = [e for e in timeline(action_deps, with_ninja) if e["kind"] == "courier_status"]
    assert len(courier_events) == 4 and {e["source"] for e in courier_events} == {"dispatchninja"}
    assert vendors.ninja_details.call_count == 5


def test_dispatchninja_cancellation_is_terminal_and_an_older_state_does_not_undo_it(
    act, vendors, with_ninja, action_deps
):
    vendors.ninja_details.mock(
        return_value=json_response(_details(canceled="2021-04-23 16:00:00", cancelled_reason="Customer unreachable"))
    )
    out = act(NINJA_DETAILS, event("get_dispatchninja_order_details"))
    assert (out["canceled"], out["cancelled_reason"], out["courier_status"]) == (
        True,
        "Customer unreachable",
        "TASK_CANCELLED",
    )
    vendors.ninja_details.mock(return_value=json_response(_details(driver="77")))  # a stale read
    act(NINJA_DETAILS, event("get_dispatchninja_order_details"))
    assert tracks(action_deps, with_ninja)["courier_status"] == "TASK_CANCELLED"


def test_dispatchninja_details_need_a_dispatchninja_order(act, vendors, partner_order):
    with pytest.raises(ActionRefused, match="no DispatchNINJA order"):
        act(NINJA_DETAILS, event("get_dispatchninja_order_details"))
    assert vendors.ninja_details.call_count == 0
