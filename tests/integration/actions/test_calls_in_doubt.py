"""Exactly one effect at a vendor that offers no lookup (issue 13 point 4): DispatchNINJA's
``orders/add`` and Blink's ``submitOrder`` are sent again only when they provably never reached the
vendor. A lost answer, or a run that stopped between sending and recording, leaves the order for a
person (``VendorOutcomeUnknown`` → needs attention), who checks at the vendor and tells the order
what they found (``PATCH /ops/orders/{id}`` ``checked_at_vendor``) before retrying."""

from __future__ import annotations

import json

import httpx
import pytest
from orderbridge.vendors.http import RetryableVendorError, VendorOutcomeUnknown

from tests.integration.actions.conftest import event
from tests.support.apigw import invoke, proxy_event
from tests.unit.vendors import samples as docs
from tests.unit.vendors.support import json_response

CREATE_NINJA = "CreateDispatchNinjaOrderFunction"
SUBMIT = "SubmitOrderToBlinkFunction"


def check_at_vendor(order_id: str, call: str, found_id: str | None = None) -> int:
    """A person records what they found at the vendor, through the ops API."""
    check = {"call": call, **({"found_id": found_id} if found_id else {})}
    answer = invoke(
        "OpsApiFunction",
        proxy_event(
            "PATCH",
            f"/ops/orders/{order_id}",
            resource="/ops/orders/{order_id}",
            path_params={"order_id": order_id},
            body=json.dumps({"checked_at_vendor": check}),
        ),
    )
    return answer.status


@pytest.mark.parametrize(
    "lost",
    [httpx.ReadTimeout("read timed out"), httpx.Response(500), httpx.RemoteProtocolError("peer closed")],
    ids=["timeout after sending", "HTTP 500", "dropped connection"],
)
def test_a_delivery_whose_answer_was_lost_is_not_booked_twice(act, vendors, partner_order, action_deps, lost):
    # Given DispatchNINJA gets orders/add and its answer is lost
    vendors.ninja_add.mock(side_effect=[lost, json_response(json.loads(docs.NINJA_ADD_ORDER_RESPONSE))])

    # When the action runs, and runs again (the workflow's retry, a resume)
    for _ in range(2):
        with pytest.raises(VendorOutcomeUnknown, match="dispatchninja"):
            act(CREATE_NINJA, event("create_dispatchninja_order"))

    # Then DispatchNINJA got one request: the second run stopped at the mark the first one left
    assert vendors.ninja_add.call_count == 1
    assert action_deps.orders.load(partner_order)[0].dispatchninja_order_id is None


def test_a_person_who_finds_the_delivery_links_it_and_the_retry_adopts_it(act, vendors, partner_order, action_deps):
    # Given a delivery in doubt
    vendors.ninja_add.mock(side_effect=[httpx.ReadTimeout("read timed out")])
    with pytest.raises(VendorOutcomeUnknown):
        act(CREATE_NINJA, event("create_dispatchninja_order"))

    # When a person finds it at DispatchNINJA and records its id, and the order is retried
    assert check_at_vendor(partner_order, "dispatchninja_add", found_id="1857") == 200
    out = act(CREATE_NINJA, event("create_dispatchninja_order", execution=f"{partner_order}-r1"))

    # Then the delivery found is the order's; nothing more was sent
    assert out["dispatchninja_order_id"] == "1857" and out["already_created"] is True
    assert vendors.ninja_add.call_count == 1


def test_a_person_who_finds_nothing_lets_the_retry_send_once_more(act, vendors, partner_order, action_deps):
    # Given a delivery in doubt
    vendors.ninja_add.mock(
        side_effect=[httpx.ReadTimeout("read timed out"), json_response(json.loads(docs.NINJA_ADD_ORDER_RESPONSE))]
    )
    with pytest.raises(VendorOutcomeUnknown):
        act(CREATE_NINJA, event("create_dispatchninja_order"))

    # When a person finds nothing at DispatchNINJA, and the order is retried
    assert check_at_vendor(partner_order, "dispatchninja_add") == 200
    out = act(CREATE_NINJA, event("create_dispatchninja_order", execution=f"{partner_order}-r1"))

    # Then it is sent a second time, and linked
    assert out["dispatchninja_order_id"] == "1857"
    assert vendors.ninja_add.call_count == 2


def test_a_run_that_stopped_after_sending_leaves_the_order_to_a_person(act, vendors, partner_order, action_deps):
    # Given a run that marked and sent orders/add, then died before recording the answer
    assert action_deps.orders.claim_send(partner_order, "dispatchninja_add", 1, action_deps.clock())

    # When the workflow runs the action again
    with pytest.raises(VendorOutcomeUnknown, match="earlier attempt"):
        act(CREATE_NINJA, event("create_dispatchninja_order"))

    # Then nothing is sent
    assert vendors.ninja_add.call_count == 0


def test_a_delivery_that_never_reached_dispatchninja_is_sent_again(
    act, vendors, partner_order, action_deps, monkeypatch
):
    # Given DispatchNINJA unreachable (connection refused) for the whole first run
    vendors.ninja_add.mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(RetryableVendorError):
        act(CREATE_NINJA, event("create_dispatchninja_order"))

    # When it is back and the workflow retries
    vendors.ninja_add.mock(side_effect=None, return_value=json_response(json.loads(docs.NINJA_ADD_ORDER_RESPONSE)))
    out = act(CREATE_NINJA, event("create_dispatchninja_order"))

    # Then the delivery is booked, once
    assert out["dispatchninja_order_id"] == "1857"
    assert sum(1 for call in vendors.ninja_add.calls if call.has_response) == 1


def test_a_refused_delivery_can_be_fixed_and_sent_again(act, vendors, partner_order):
    # Given DispatchNINJA refusing the request (its answer code 400: nothing was created)
    vendors.ninja_add.mock(
        side_effect=[
            json_response({"code": "400", "status": "400 bad request", "response": {"message": "bad address"}}),
            json_response(json.loads(docs.NINJA_ADD_ORDER_RESPONSE)),
        ]
    )
    with pytest.raises(Exception, match="bad address"):
        act(CREATE_NINJA, event("create_dispatchninja_order"))

    # Then a retry (after the fix) sends it again: a refusal is no doubt
    assert act(CREATE_NINJA, event("create_dispatchninja_order"))["dispatchninja_order_id"] == "1857"
    assert vendors.ninja_add.call_count == 2


def test_a_submission_whose_answer_was_lost_is_not_made_twice_and_blinks_id_can_be_linked(
    act, vendors, partner_order, action_deps
):
    # Given Blink gets submitOrder and the answer is lost (a timeout after sending)
    vendors.submit_order.mock(side_effect=httpx.ReadTimeout("read timed out"))

    # When the action runs, and runs again
    for _ in range(2):
        with pytest.raises(VendorOutcomeUnknown, match="blink"):
            act(SUBMIT, event("submit_order_to_blink"))

    # Then Blink got one submission
    assert vendors.submit_order.call_count == 1

    # When a person finds the order in Blink and records its id, and the order is retried
    assert check_at_vendor(partner_order, "blink_submit", found_id="988278") == 200
    out = act(SUBMIT, event("submit_order_to_blink", execution=f"{partner_order}-r1"))

    # Then the order is Blink's 988278, and still one submission
    assert out["blink_order_id"] == "988278" and out["already_submitted"] is True
    assert vendors.submit_order.call_count == 1
