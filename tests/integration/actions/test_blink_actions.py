"""Blink actions: submit a delivery-partner order, sync an order's status. (Stock and prices: the
PushStockAndPrice sync, tests/integration/syncs/test_catalog.py.)"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from orderbridge.actions.common import ActionRefused
from orderbridge.actions.runtime import InvalidActionInput
from orderbridge.vendors.http import PermanentVendorError, RetryableVendorError, VendorAuthError

from tests.conftest import table_items
from tests.integration.actions.conftest import BLINK_ORDER_ID, event, sent_json, timeline, tracks
from tests.support import samples
from tests.unit.vendors import samples as docs
from tests.unit.vendors.support import json_response

SUBMIT = "SubmitOrderToBlinkFunction"
SYNC_STATUS = "SyncOrderStatusToBlinkFunction"


# -- submit an order --------------------------------------------------------------------------------


def test_submit_sends_the_mapped_order_and_links_blink_s_id_to_it(act, vendors, partner_order, action_deps, hub):
    # Given the Blend sample order received from the delivery partner (its items mapped)
    # When the submit action runs with its events/ sample (customer and address given)
    out = act(SUBMIT, event("submit_order_to_blink"))

    # Then Blink got the order with Blink's item and option ids, the customer and the address
    assert out == {
        "order_id": partner_order,
        "blink_order_id": "988278",
        "blink_unique_code": "2349-JLMD3",
        "already_submitted": False,
    }
    body = sent_json(vendors.submit_order)
    assert body["blink_branch_id"] == "50220"
    assert (body["customer_name"], body["customer_phone"]) == ("Test Order User", "+92333-2222222")
    assert body["delivery"]["city"] == "Karachi" and body["delivery"]["latitude"] == Decimal("24.918682")
    assert (body["delivery_type"], body["payment_method"], body["is_scheduled"]) == ("delivery", "Cash", 0)
    assert (body["subtotal"], body["total"], body["tax_amount"], body["delivery_charges"]) == ("50", "50", "10", "0")
    assert [(i["blink_item_id"], i["name"], i["price"], i["quantity"]) for i in body["items"]] == [
        ("257327", "Burger", "25", "2"),
        ("257328", "Fries", "25", "1"),
    ]
    assert body["items"][0]["sub_options"] == [{"sub_option_id": "596996", "price": "10", "quantity": "2"}]

    # And the order carries Blink's id, an alias finds it, and the timeline says so
    order = action_deps.orders.load(partner_order)[0]
    assert (order.blink_order_id, order.blink_unique_code, order.blink_branch_id) == ("988278", "2349-JLMD3", "50220")
    aliases = [i for i in table_items("OrdersTable") if i["pk"] == "ALIAS#blink#988278"]
    assert [a["order_id"] for a in aliases] == [partner_order]
    submitted = [e for e in timeline(action_deps, partner_order) if e["kind"] == "blink_submitted"]
    assert len(submitted) == 1 and submitted[0]["source"] == "orderbridge"

    # And Blink's status webhook for its order 988278 reaches our order through the alias
    answer = hub.blink_status({"blink_order_id": "988278", "branch_id": "12345", "status": 1})
    assert answer.body == {"status": "accepted", "order_id": partner_order}
    assert tracks(action_deps, partner_order)["status"] == "accepted"


def test_submitting_the_same_input_twice_calls_blink_once_with_the_same_answer(act, vendors, partner_order):
    first = act(SUBMIT, event("submit_order_to_blink"))
    second = act(SUBMIT, event("submit_order_to_blink"))
    assert first == second
    assert vendors.submit_order.call_count == 1


def test_a_later_submit_with_other_input_does_not_make_a_second_blink_order(act, vendors, partner_order):
    act(SUBMIT, event("submit_order_to_blink"))
    again = act(SUBMIT, event("submit_order_to_blink", delivery_eta=30))  # another input: not a replay
    assert again["already_submitted"] is True and again["blink_order_id"] == "988278"
    assert vendors.submit_order.call_count == 1


def test_an_order_with_an_unmapped_item_is_refused_before_blink_is_called(act, vendors, hub, action_deps):
    # Given a partner order whose second item has no mapping
    body = samples.text("blend_order_created.jsonc").replace('"id": "2"', '"id": "99"')
    order_id = hub.partner_order(body).body["order_id"]
    # When it is submitted, Then the action fails permanently naming the item, and Blink is not called
    with pytest.raises(ActionRefused, match=r"no Blink item is mapped for items\[1\] \(item 99\)"):
        act(SUBMIT, event("submit_order_to_blink", order_id=order_id))
    assert vendors.submit_order.call_count == 0
    assert action_deps.orders.load(order_id)[0].blink_order_id is None


def test_an_order_without_customer_or_address_is_refused_naming_what_is_missing(act, vendors, partner_order):
    # Given a partner with no contact phone and a branch with no Blink address in the configuration
    with pytest.raises(ActionRefused) as refused:
        act(SUBMIT, {"order_id": partner_order})
    assert "no customer phone (the partner's contact_phone)" in str(refused.value)
    assert "branch 12345 has no blink_address" in str(refused.value)
    assert type(refused.value).__name__ == "ActionRefused"  # the name Step Functions matches
    assert vendors.submit_order.call_count == 0


def test_an_order_that_came_from_blink_is_not_submitted_again(act, vendors, hub):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    out = act(SUBMIT, {"order_id": BLINK_ORDER_ID})
    assert out["already_submitted"] is True and out["blink_order_id"] == "1236589"
    assert vendors.submit_order.call_count == 0


def test_an_unknown_order_is_refused(act, action_deps):
    with pytest.raises(ActionRefused, match="there is no order"):
        act(SUBMIT, event("submit_order_to_blink", order_id="nope"))


def test_a_malformed_input_is_invalid_action_input(act, vendors, action_deps):
    with pytest.raises(InvalidActionInput, match="order_id"):
        act(SUBMIT, {"customer": {}})


def test_blink_failing_with_5xx_is_retryable_and_the_retry_then_succeeds(act, vendors, partner_order):
    # Given Blink answering 503 to every attempt
    vendors.submit_order.mock(return_value=json_response({"msg": "down"}, 503, headers={"Retry-After": "0"}))
    # When the action runs, Then it ends with RetryableVendorError (after the client's own retry)
    with pytest.raises(RetryableVendorError) as failed:
        act(SUBMIT, event("submit_order_to_blink"))
    assert type(failed.value).__name__ == "RetryableVendorError"
    assert vendors.submit_order.call_count == 2
    # And when Step Functions retries the same input after Blink recovered, it goes through
    vendors.submit_order.mock(return_value=json_response(docs.BLINK_SUBMIT_ORDER_RESPONSE, 201))
    assert act(SUBMIT, event("submit_order_to_blink"))["blink_order_id"] == "988278"


def test_blink_refusing_the_order_is_permanent(act, vendors, partner_order, action_deps):
    vendors.submit_order.mock(return_value=json_response({"success": False, "msg": "Branch is closed"}, 200))
    with pytest.raises(PermanentVendorError, match="Branch is closed") as failed:
        act(SUBMIT, event("submit_order_to_blink"))
    assert type(failed.value).__name__ == "PermanentVendorError"
    assert vendors.submit_order.call_count == 1  # never retried
    assert action_deps.orders.load(partner_order)[0].blink_order_id is None


def test_refused_blink_credentials_are_an_auth_error(act, vendors, partner_order):
    vendors.blink_login.mock(return_value=json_response({"success": False, "msg": "Invalid credentials"}, 401))
    with pytest.raises(VendorAuthError):
        act(SUBMIT, event("submit_order_to_blink"))
    assert vendors.submit_order.call_count == 0


# -- sync an order's status -------------------------------------------------------------------------


@pytest.fixture
def submitted(act, partner_order) -> str:
    act(SUBMIT, event("submit_order_to_blink"))
    return partner_order


def test_status_sync_tells_blink_and_moves_the_order(act, vendors, submitted, action_deps):
    out = act(SYNC_STATUS, event("sync_order_status_to_blink"))
    assert sent_json(vendors.sync_status) == {"blink_order_id": "988278", "status": 1}
    assert out == {
        "order_id": submitted,
        "blink_order_id": "988278",
        "status": 1,
        "order_status": "accepted",
        "sent": True,
        "skipped": False,
        "reason": None,
        "statuses_sent": [1],
    }
    assert tracks(action_deps, submitted)["status"] == "accepted"
    synced = [e for e in timeline(action_deps, submitted) if e["kind"] == "blink_status_sync"]
    assert [(e["detail"]["status"], e["applied"]) for e in synced] == [(1, True)]


def test_ready_then_dispatched_are_sent_in_turn_in_one_invocation(act, vendors, submitted, action_deps):
    # Given an accepted order whose courier has the goods
    act(SYNC_STATUS, event("sync_order_status_to_blink", status=1))
    # When the workflow's one step sets ready, then dispatched
    out = act(SYNC_STATUS, event("sync_order_status_to_blink", status=6, then=[2]))
    # Then Blink is told 6, then 2, and the order is dispatched with both on its timeline
    assert [sent_json(vendors.sync_status, i)["status"] for i in range(3)] == [1, 6, 2]
    assert (out["status"], out["order_status"], out["statuses_sent"]) == (2, "dispatched", [6, 2])
    assert tracks(action_deps, submitted)["status"] == "dispatched"
    synced = [e for e in timeline(action_deps, submitted) if e["kind"] == "blink_status_sync"]
    assert sorted((e["detail"]["status"], e["applied"]) for e in synced) == [(1, True), (2, True), (6, True)]


def test_a_run_after_ready_got_through_sends_only_dispatched(act, vendors, submitted, action_deps):
    # Given Blink was told ready (a run that failed before dispatched, or a resumed execution)
    act(SYNC_STATUS, event("sync_order_status_to_blink", status=6))
    # When the step runs again in another execution
    out = act(SYNC_STATUS, event("sync_order_status_to_blink", status=6, then=[2], execution="order-1-r1"))
    # Then only dispatched is sent
    assert [sent_json(vendors.sync_status, i)["status"] for i in range(vendors.sync_status.call_count)] == [6, 2]
    assert (out["order_status"], out["statuses_sent"]) == ("dispatched", [2])


def test_a_regressing_status_is_not_sent_and_says_skipped(act, vendors, submitted, action_deps):
    # Given the order is dispatched
    act(SYNC_STATUS, event("sync_order_status_to_blink", status=2))
    # When "accepted" is synced after it
    out = act(SYNC_STATUS, event("sync_order_status_to_blink", status=1))
    # Then Blink is not told, the output says skipped, the order stays dispatched, the timeline keeps it
    assert (out["sent"], out["skipped"], out["order_status"]) == (False, True, "dispatched")
    assert vendors.sync_status.call_count == 1
    assert tracks(action_deps, submitted)["status"] == "dispatched"
    synced = [e for e in timeline(action_deps, submitted) if e["kind"] == "blink_status_sync"]
    assert sorted((e["detail"]["status"], e["applied"]) for e in synced) == [(1, False), (2, True)]


def test_rejecting_needs_a_comment_and_is_refused_locally_without_one(act, vendors, submitted):
    with pytest.raises(InvalidActionInput, match="needs a comment"):
        act(SYNC_STATUS, event("sync_order_status_to_blink", status=4))
    assert vendors.sync_status.call_count == 0
    out = act(SYNC_STATUS, event("sync_order_status_to_blink", status=4, comment="Delivery area is too far"))
    assert sent_json(vendors.sync_status) == json.loads(docs.BLINK_REJECT_ORDER_PAYLOAD) | {"blink_order_id": "988278"}
    assert out["order_status"] == "rejected"


def test_status_sync_twice_calls_blink_once(act, vendors, submitted):
    first = act(SYNC_STATUS, event("sync_order_status_to_blink"))
    assert act(SYNC_STATUS, event("sync_order_status_to_blink")) == first
    assert vendors.sync_status.call_count == 1


def test_status_sync_of_an_order_not_in_blink_is_refused(act, vendors, partner_order):
    with pytest.raises(ActionRefused, match="not in Blink yet"):
        act(SYNC_STATUS, event("sync_order_status_to_blink"))
    assert vendors.sync_status.call_count == 0
