"""Locker actions at Bloq.It: reserve a locker (choose the Bloq, create the delivery rent), then
select, make the delivery, notify, cancel, collect, finish, return."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest
from orderbridge.actions.common import ActionRefused, NoLockerAvailable
from orderbridge.actions.lockers import MAX_LOCKER_CONFLICTS
from orderbridge.actions.runtime import InvalidActionInput
from orderbridge.models.config import Branch
from orderbridge.vendors.http import RetryableVendorError, VendorConflict

from tests.integration.actions.conftest import (
    BLOQIT,
    DOC_BLOQ_ID,
    DOC_LOCKER_ID,
    DOC_RENT_ID,
    NOW,
    bloq,
    doc,
    event,
    locker,
    page,
    sent_json,
    timeline,
    tracks,
)
from tests.unit.vendors import bloqit_samples as bloq_docs
from tests.unit.vendors.support import json_response

RESERVE = "ReserveLockerFunction"
SELECT = "SelectLockerFunction"
MAKE = "MakeDeliveryFunction"
NOTIFY = "NotifyLockerCustomerFunction"
CANCEL = "CancelRentFunction"
COLLECT = "CollectRentFunction"
FINISH = "FinishRentFunction"
RETURN = "ReturnExpiredDeliveryFunction"

# The reserve sample's customer is at the geoSearch doc example's point (6.166201, 46.661362).
NEAR = {"type": "Point", "coordinates": ["46.662", "6.1665"]}
FAR = {"type": "Point", "coordinates": ["46.664", "6.1690"]}


def free_lockers_by_bloq(lockers_of: dict[str, list[dict]]):
    """A free-lockers route answer per Bloq id (a Bloq not named has none)."""

    def answer(request: httpx.Request) -> httpx.Response:
        bloq_id = re.search(r"/bloqs/([^/]+)/free-lockers", request.url.path).group(1)
        return json_response(lockers_of.get(bloq_id, []))

    return answer


def asked_bloqs(route) -> list[str]:
    return [re.search(r"/bloqs/([^/]+)", c.request.url.path).group(1) for c in route.calls]


@pytest.fixture
def nearby(vendors):
    """geoSearch finds four Bloqs: inactive, not for deliveries, far, and near (the doc's Bloq)."""
    vendors.geo_search.mock(
        return_value=json_response(
            page(
                [
                    bloq("inactive-bloq", active=False, location=NEAR),
                    bloq("store-only-bloq", supports=["store"], location=NEAR),
                    bloq("far-bloq", location=FAR),
                    bloq(DOC_BLOQ_ID, location=NEAR),
                ]
            )
        )
    )
    vendors.free_lockers.mock(
        side_effect=free_lockers_by_bloq(
            {
                "far-bloq": [locker("far-locker", bloq_id="far-bloq")],
                DOC_BLOQ_ID: [locker("taken", rent="R1"), locker("too-big", type="M"), locker()],
            }
        )
    )


# -- reserve ----------------------------------------------------------------------------------------


def test_reserve_chooses_the_nearest_bloq_with_a_free_locker_and_stores_the_rent(
    act, vendors, partner_order, nearby, action_deps, hub, capsys
):
    # When the reserve action runs with its sample (customer near the doc's geoSearch point, size S)
    out = act(RESERVE, event("reserve_locker"))

    # Then Bloq.It was searched around the customer for active Bloqs taking S deliveries
    params = vendors.geo_search.calls.last.request.url.params
    assert (params["latitude"], params["longitude"], params["maxDistance"]) == ("6.166201", "46.661362", "500")
    assert (params["active"], params["lockerType"], params["rentType"]) == ("active", "S", "delivery")
    # And only the nearest eligible Bloq was asked for its free lockers
    assert asked_bloqs(vendors.free_lockers) == [DOC_BLOQ_ID]

    # And the delivery rent was created there, for our order, within the Bloq's 2-hour maximum
    request = vendors.create_delivery.calls.last.request
    assert (request.url.params["bloqID"], request.url.params["lockerID"]) == (DOC_BLOQ_ID, DOC_LOCKER_ID)
    body = sent_json(vendors.create_delivery)
    assert body["externalID"] == partner_order
    assert (body["expiryDate"], body["deliveryDateLimit"], body["collectTimeLimit"]) == (
        "2026-11-22T14:00:00Z",
        "2026-11-22T14:00:00Z",
        2,
    )
    assert (body["desiredLockerType"], body["operationType"], body["notificationOptions"]) == ("S", "lastMile", ["sms"])
    assert body["customer"] == {"name": "Test Customer", "phoneNumber": "923001234567"}
    pickup, dropoff = body["pickUpCode"], body["dropOffCode"]
    assert re.fullmatch(r"\d{6}", pickup) and re.fullmatch(r"\d{8}", dropoff)

    # And our rent holds what was sent and what Bloq.It answered
    rent = action_deps.rents.get(DOC_RENT_ID)
    assert rent.model_dump() == {
        "rent_id": DOC_RENT_ID,
        "order_id": partner_order,
        "bloq_id": DOC_BLOQ_ID,
        "locker_id": DOC_LOCKER_ID,
        "state": "reserved",
        "pickup_code": pickup,
        "dropoff_code": dropoff,
        "expires_at": NOW + timedelta(hours=2),
        "created_at": NOW,
        "held_goods": False,
        "notified_at": None,
    }
    assert out == {
        "order_id": partner_order,
        "rent_id": DOC_RENT_ID,
        "bloq_id": DOC_BLOQ_ID,
        "locker_id": DOC_LOCKER_ID,
        "locker_size": "S",
        "state": "reserved",
        "expires_at": "2026-11-22T14:00:00Z",
        "delivery_date_limit": "2026-11-22T14:00:00Z",
        "collect_time_limit_hours": 2,
        "reused": False,
    }
    assert tracks(action_deps, partner_order)["rent_state"] == "reserved"
    assert [e["kind"] for e in timeline(action_deps, partner_order)].count("rent_reserved") == 1

    # And the codes are in no output, log line or timeline event
    seen = capsys.readouterr().out + json.dumps(out) + json.dumps(timeline(action_deps, partner_order), default=str)
    assert pickup not in seen and dropoff not in seen

    # And Bloq.It's rent events now reach the order through the stored rent
    answer = hub.bloq({"_id": "evt-1", "codeName": "rent.in_progress", "rent": DOC_RENT_ID, "bloq": DOC_BLOQ_ID})
    assert answer.body == {"status": "accepted", "order_id": partner_order}
    assert action_deps.rents.get(DOC_RENT_ID).state == "in_progress"
    assert tracks(action_deps, partner_order)["rent_state"] == "in_progress"


def test_reserve_prefers_the_branch_bloqs_in_their_configured_order(act, vendors, partner_order, action_deps):
    # Given branch 12345 configured with three Bloqs: an inactive one, one with no free S locker, the doc's
    action_deps.config.put(
        Branch(
            branch_id="12345",
            merchant_id="m-demo",
            name="XYZ road",
            blink_id="50220",
            bloq_ids=["off-bloq", "full-bloq", DOC_BLOQ_ID],
        )
    )
    bloqs = {"off-bloq": bloq("off-bloq", active=False), "full-bloq": bloq("full-bloq"), DOC_BLOQ_ID: bloq()}
    vendors.get_bloq.mock(side_effect=lambda request: json_response(bloqs[request.url.path.rsplit("/", 1)[1]]))
    vendors.free_lockers.mock(
        side_effect=free_lockers_by_bloq(
            {"full-bloq": [locker("m-locker", bloq_id="full-bloq", type="M")], DOC_BLOQ_ID: [locker()]}
        )
    )
    # When a locker is reserved (the customer's position does not matter then)
    out = act(RESERVE, event("reserve_locker"))
    # Then the first configured Bloq with a free S locker is used; no search was made
    assert (out["bloq_id"], out["locker_id"]) == (DOC_BLOQ_ID, DOC_LOCKER_ID)
    assert asked_bloqs(vendors.get_bloq) == ["off-bloq", "full-bloq", DOC_BLOQ_ID]
    assert asked_bloqs(vendors.free_lockers) == ["full-bloq", DOC_BLOQ_ID]
    assert vendors.geo_search.call_count == 0


def test_reserve_in_a_given_bloq(act, vendors, partner_order):
    out = act(RESERVE, event("reserve_locker", bloq_id=DOC_BLOQ_ID))
    assert out["bloq_id"] == DOC_BLOQ_ID and vendors.geo_search.call_count == 0
    assert asked_bloqs(vendors.get_bloq) == [DOC_BLOQ_ID]


def test_no_free_locker_anywhere_is_no_locker_available(act, vendors, partner_order, nearby, action_deps):
    with pytest.raises(NoLockerAvailable, match="free L locker") as refused:
        act(RESERVE, event("reserve_locker", locker_size="L"))
    assert type(refused.value).__name__ == "NoLockerAvailable"
    assert vendors.create_delivery.call_count == 0
    assert action_deps.rents.for_order(partner_order) == []


def test_no_configured_bloq_and_no_customer_position_is_refused(act, vendors, partner_order):
    with pytest.raises(ActionRefused, match="no customer coordinates"):
        act(RESERVE, {"order_id": partner_order, "locker_size": "S"})
    assert vendors.geo_search.call_count == 0


def test_reserving_twice_makes_one_rent(act, vendors, partner_order, nearby, action_deps):
    first = act(RESERVE, event("reserve_locker"))
    assert act(RESERVE, event("reserve_locker")) == first
    assert vendors.create_delivery.call_count == 1
    # And another input for the same order reuses the open reservation instead of renting again
    other = act(RESERVE, event("reserve_locker", max_distance_m=800))
    assert (other["reused"], other["rent_id"]) == (True, DOC_RENT_ID)
    assert vendors.create_delivery.call_count == 1 and len(action_deps.rents.for_order(partner_order)) == 1


def test_bloqit_failing_on_create_is_retryable_and_leaves_no_rent(act, vendors, partner_order, nearby, action_deps):
    vendors.create_delivery.mock(return_value=json_response({"code": "504", "message": "Bloq not responding"}, 504))
    with pytest.raises(RetryableVendorError):
        act(RESERVE, event("reserve_locker"))
    assert action_deps.rents.for_order(partner_order) == []
    vendors.create_delivery.mock(side_effect=vendors._delivery_created)
    assert act(RESERVE, event("reserve_locker"))["rent_id"] == DOC_RENT_ID


def test_a_rent_an_earlier_attempt_made_but_did_not_record_is_taken_over_not_doubled(
    act, vendors, partner_order, nearby, action_deps
):
    # Given Bloq.It holds an open rent for the order that we have no record of (the first attempt's
    # answer was lost: a timeout after Bloq.It made it, or its worker killed)
    orphan = doc(bloq_docs.DELIVERY_CREATED, externalID=partner_order, bloq=DOC_BLOQ_ID, locker=DOC_LOCKER_ID)
    vendors.rent_by_external_id.mock(return_value=json_response(orphan))
    update = vendors.router.put(url__regex=rf"^{BLOQIT}/rents/[^/]+$").mock(
        side_effect=lambda request: json_response({**orphan, **json.loads(request.content)})
    )

    # When the locker is reserved again
    out = act(RESERVE, event("reserve_locker"))

    # Then that rent is the order's: no second rent, none cancelled, and it got new codes and the window
    assert vendors.create_delivery.call_count == 0
    assert vendors.cancel.call_count == 0 and vendors.finish.call_count == 0
    assert update.calls.last.request.url.path.endswith(f"/rents/{DOC_RENT_ID}")
    body = sent_json(update)
    pickup, dropoff = body["pickUpCodes"]["default"], body["dropOffCode"]
    assert re.fullmatch(r"\d{6}", pickup) and re.fullmatch(r"\d{8}", dropoff)
    assert (body["expiryDate"], body["deliveryDateLimit"], body["collectTimeLimit"]) == (
        "2026-11-22T14:00:00Z",
        "2026-11-22T14:00:00Z",
        2,
    )
    rent = action_deps.rents.get(DOC_RENT_ID)
    assert (rent.order_id, rent.bloq_id, rent.locker_id, rent.state) == (
        partner_order,
        DOC_BLOQ_ID,
        DOC_LOCKER_ID,
        "reserved",
    )
    assert (rent.pickup_code, rent.dropoff_code) == (pickup, dropoff)
    assert (out["rent_id"], out["reused"], out["collect_time_limit_hours"]) == (DOC_RENT_ID, False, 2)
    assert tracks(action_deps, partner_order)["rent_state"] == "reserved"
    # And a retry of the action now finds our record
    assert act(RESERVE, event("reserve_locker", max_distance_m=800))["reused"] is True
    assert vendors.create_delivery.call_count == 0 and len(action_deps.rents.for_order(partner_order)) == 1


def test_an_unrecorded_rent_that_does_not_say_its_bloq_is_released_before_renting_anew(
    act, vendors, partner_order, nearby, action_deps
):
    # Given an open rent of the order at Bloq.It, unrecorded, whose answer names no Bloq
    orphan = doc(bloq_docs.DELIVERY_CREATED, _id="orphan-rent", externalID=partner_order)
    vendors.rent_by_external_id.mock(return_value=json_response(orphan))

    # When the locker is reserved
    out = act(RESERVE, event("reserve_locker"))

    # Then that rent is cancelled and finished (it holds no locker), and one rent is made
    assert [c.request.url.path.split("/")[-2] for c in vendors.cancel.calls + vendors.finish.calls] == [
        "orphan-rent",
        "orphan-rent",
    ]
    assert vendors.create_delivery.call_count == 1 and out["rent_id"] == DOC_RENT_ID


def test_a_malformed_size_is_invalid_input(act, vendors, partner_order):
    with pytest.raises(InvalidActionInput, match="locker_size"):
        act(RESERVE, event("reserve_locker", locker_size="XXL"))


# -- the rent's life --------------------------------------------------------------------------------


@pytest.fixture
def reserved(act, partner_order, nearby) -> str:
    act(RESERVE, event("reserve_locker"))
    return partner_order


def _state(deps, order_id: str) -> tuple[str, str]:
    return deps.rents.get(DOC_RENT_ID).state, tracks(deps, order_id)["rent_state"]


def _run_steps(act, action_deps, order_id, steps) -> None:
    for function, sample, route, state in steps:
        out = act(function, event(sample))
        assert route.calls.last.request.url.path.split("/")[-2] == DOC_RENT_ID
        assert (out["state"], out["applied"], out["rent_id"]) == (state, True, DOC_RENT_ID)
        assert _state(action_deps, order_id) == (state, state)


def test_make_notify_cancel_collect_move_the_rent_and_the_order(act, vendors, reserved, action_deps):
    _run_steps(
        act,
        action_deps,
        reserved,
        [
            (MAKE, "make_delivery", vendors.make, "starting"),
            (NOTIFY, "notify_locker_customer", vendors.notify, "in_progress"),
            (CANCEL, "cancel_rent", vendors.cancel, "cancelled"),
            (COLLECT, "collect_rent", vendors.collect, "collect_item"),
        ],
    )
    actions = [e["detail"]["action"] for e in timeline(action_deps, reserved) if e["kind"] == "rent_action"]
    assert sorted(actions) == sorted(["make_delivery", "notify_customer", "cancel", "collect"])


def test_cancel_then_finish_ends_a_rent_that_never_got_its_drop_off(act, vendors, reserved, action_deps):
    # Given a reserved rent (nothing dropped off); When it is cancelled, then finished
    _run_steps(
        act,
        action_deps,
        reserved,
        [
            (CANCEL, "cancel_rent", vendors.cancel, "cancelled"),
            (FINISH, "finish_rent", vendors.finish, "finished"),
        ],
    )
    # Then Bloq.It got exactly the doc's two calls, in that order
    rent_calls = [
        path.split("/rents/", 1)[1] for method, path in vendors.calls() if method == "PUT" and "/rents/" in path
    ]
    assert rent_calls == [f"{DOC_RENT_ID}/cancel", f"{DOC_RENT_ID}/finish"]


def test_make_delivery_in_another_locker_moves_the_rent_there(act, vendors, reserved, action_deps):
    vendors.make.mock(return_value=json_response(doc(bloq_docs.DELIVERY_MADE, locker="other-locker")))
    out = act(MAKE, event("make_delivery", locker_id="other-locker"))
    assert vendors.make.calls.last.request.url.params["lockerID"] == "other-locker"
    assert out["locker_id"] == "other-locker" and action_deps.rents.get(DOC_RENT_ID).locker_id == "other-locker"


def test_select_locker_by_size(act, vendors, reserved, action_deps):
    out = act(SELECT, event("select_locker"))
    assert dict(vendors.select.calls.last.request.url.params) == {"lockerType": "S"}
    assert (out["state"], out["locker_id"]) == ("in_transit", DOC_LOCKER_ID)  # the doc sample's answer
    assert _state(action_deps, reserved) == ("in_transit", "in_transit")


def test_select_needs_a_locker_or_a_size(act, vendors, reserved):
    with pytest.raises(InvalidActionInput, match="locker_id or locker_size"):
        act(SELECT, {"order_id": reserved})


def test_an_answer_older_than_a_webhook_does_not_move_the_rent_back(act, vendors, reserved, action_deps, hub):
    # Given Bloq.It already told us (webhook) the item is in the locker
    hub.bloq({"_id": "evt-2", "codeName": "rent.in_progress", "rent": DOC_RENT_ID})
    # When make-delivery's answer says "starting"
    out = act(MAKE, event("make_delivery"))
    # Then the rent and the order stay in_progress; the action is in the timeline, not applied
    assert (out["state"], out["applied"]) == ("starting", False)
    assert _state(action_deps, reserved) == ("in_progress", "in_progress")
    made = [e for e in timeline(action_deps, reserved) if e["kind"] == "rent_action"]
    assert [(e["detail"]["action"], e["applied"]) for e in made] == [("make_delivery", False)]


def test_return_an_expired_delivery_within_the_bloq_limit(act, vendors, reserved, action_deps, hub):
    hub.bloq({"_id": "evt-3", "codeName": "rent.expired", "rent": DOC_RENT_ID})
    out = act(RETURN, event("return_expired_delivery"))
    assert asked_bloqs(vendors.get_bloq)[-1] == DOC_BLOQ_ID  # for its maxRentTimeHour (2)
    assert sent_json(vendors.return_) == {"expiryDate": "2026-11-22T14:00:00Z"}
    assert (out["state"], out["expires_at"]) == ("finished", "2026-11-22T14:00:00Z")  # the doc's answer
    rent = action_deps.rents.get(DOC_RENT_ID)
    assert (rent.state, rent.expires_at) == ("finished", NOW + timedelta(hours=2))


def test_a_return_made_a_rent_of_its_own_becomes_the_order_s_rent(act, vendors, reserved, action_deps, hub):
    hub.bloq({"_id": "evt-3", "codeName": "rent.expired", "rent": DOC_RENT_ID})
    vendors.return_.mock(
        return_value=json_response(doc(bloq_docs.DELIVERY_RETURNED, _id="return-rent", state="reserved", type="return"))
    )
    out = act(RETURN, event("return_expired_delivery", expires_at="2026-11-23T12:00:00Z"))
    assert vendors.get_bloq.call_count == 0  # a given expiry needs no Bloq limits
    assert (out["rent_id"], out["state"], out["applied"]) == ("return-rent", "reserved", True)
    assert (action_deps.rents.get("return-rent").order_id, action_deps.rents.get("return-rent").state) == (
        reserved,
        "reserved",
    )
    assert {r.rent_id for r in action_deps.rents.for_order(reserved)} == {DOC_RENT_ID, "return-rent"}


def test_rent_actions_are_idempotent(act, vendors, reserved):
    assert act(CANCEL, event("cancel_rent")) == act(CANCEL, event("cancel_rent"))
    assert vendors.cancel.call_count == 1


def test_a_conflicting_rent_state_is_permanent(act, vendors, reserved, action_deps):
    vendors.notify.mock(return_value=json_response({"code": "409", "message": "Rent is not in progress"}, 409))
    with pytest.raises(VendorConflict, match="Rent is not in progress") as failed:
        act(NOTIFY, event("notify_locker_customer"))
    assert type(failed.value).__name__ == "VendorConflict"
    assert vendors.notify.call_count == 1
    assert _state(action_deps, reserved) == ("reserved", "reserved")


def test_a_locker_not_answering_is_retryable(act, vendors, reserved):
    vendors.make.mock(return_value=json_response({"code": "502", "message": "Locker error"}, 502))
    with pytest.raises(RetryableVendorError):
        act(MAKE, event("make_delivery"))
    assert vendors.make.call_count == 2


def test_rent_actions_need_a_rent_of_the_order(act, vendors, partner_order, hub):
    with pytest.raises(ActionRefused, match="has no locker rent"):
        act(CANCEL, event("cancel_rent"))
    with pytest.raises(ActionRefused, match="is not a rent of order"):
        act(CANCEL, event("cancel_rent", rent_id="someone-elses"))
    assert vendors.cancel.call_count == 0


def test_bloqit_paths_are_the_documented_ones(act, vendors, reserved):
    act(CANCEL, event("cancel_rent"))
    assert str(vendors.cancel.calls.last.request.url) == f"{BLOQIT}/rents/{DOC_RENT_ID}/cancel"


# -- ending a rent the way the Bloq.It doc describes -----------------------------------------------


@pytest.mark.parametrize("webhook", [None, "rent.in_progress", "rent.cancelled"])
def test_only_an_expired_delivery_is_returned(act, vendors, reserved, action_deps, hub, webhook):
    # Given a rent that is reserved, holds the item (in_progress) or was cancelled: not expired
    if webhook:
        hub.bloq({"_id": "evt-1", "codeName": webhook, "rent": DOC_RENT_ID})
    state = action_deps.rents.get(DOC_RENT_ID).state
    # When the workflow asks to return it
    with pytest.raises(ActionRefused, match=f"is {state}: Bloq.It returns only an expired delivery"):
        act(RETURN, event("return_expired_delivery"))
    # Then nothing was sent and the rent is as it was
    assert vendors.return_.call_count == 0 and vendors.get_bloq.call_count == 0
    assert _state(action_deps, reserved) == (state, state)


def test_a_missed_drop_off_whose_rent_expired_is_finished_without_a_cancel(act, vendors, reserved, action_deps, hub):
    # Given the drop-off never happened and Bloq.It expired the rent
    hub.bloq({"_id": "evt-1", "codeName": "rent.expired", "rent": DOC_RENT_ID})
    # When the workflow's missed drop-off path cancels, then finishes the rent
    cancelled = act(CANCEL, event("cancel_rent"))
    finished = act(FINISH, event("finish_rent"))
    # Then no cancel was sent (from expired the doc's way on is finish), only the finish
    assert vendors.cancel.call_count == 0 and vendors.finish.call_count == 1
    assert (cancelled["state"], cancelled["applied"]) == ("expired", False)
    assert (finished["state"], finished["applied"]) == ("finished", True)
    assert _state(action_deps, reserved) == ("finished", "finished")
    not_sent = [
        e for e in timeline(action_deps, reserved) if e["kind"] == "rent_action" and e["detail"].get("sent") is False
    ]
    assert [e["summary"] for e in not_sent] == ["locker rent cancel not sent: the rent is already expired"]


def test_finish_is_refused_before_the_rent_is_cancelled_or_expired(act, vendors, reserved, action_deps):
    # Given a reserved rent; When it is finished without a cancel first
    with pytest.raises(
        ActionRefused, match="is reserved: Bloq.It finishes a rent only once it is cancelled or expired"
    ):
        act(FINISH, event("finish_rent"))
    # Then nothing was sent
    assert vendors.finish.call_count == 0
    assert _state(action_deps, reserved) == ("reserved", "reserved")


def test_a_finished_rent_is_neither_cancelled_nor_finished_again(act, vendors, reserved, action_deps, hub):
    # Given Bloq.It already finished the rent
    hub.bloq({"_id": "evt-1", "codeName": "rent.finished", "rent": DOC_RENT_ID})
    # When the workflow cancels and finishes it (by id: a finished rent is no longer the current one)
    cancelled = act(CANCEL, event("cancel_rent", rent_id=DOC_RENT_ID))
    finished = act(FINISH, event("finish_rent", rent_id=DOC_RENT_ID))
    # Then nothing was sent
    assert vendors.cancel.call_count == 0 and vendors.finish.call_count == 0
    assert (cancelled["state"], finished["state"]) == ("finished", "finished")
    assert not cancelled["applied"] and not finished["applied"]


def test_a_resumed_order_whose_goods_went_into_a_locker_gets_no_second_rent_nor_a_second_notice(
    act, vendors, partner_order, action_deps, hub
):
    # Given a reserved rent that got the drop-off, the customer notified, then collected
    reserved = act(RESERVE, event("reserve_locker"))
    hub.bloq({"_id": "evt-in", "codeName": "rent.in_progress", "rent": reserved["rent_id"]})
    act(NOTIFY, event("notify_locker_customer"))
    hub.bloq({"_id": "evt-collect", "codeName": "rent.collect_item", "rent": reserved["rent_id"]})
    hub.bloq({"_id": "evt-fin", "codeName": "rent.finished", "rent": reserved["rent_id"]})
    calls = (vendors.create_delivery.call_count, vendors.notify.call_count)
    assert action_deps.rents.get(reserved["rent_id"]).held_goods is True

    # When a resumed workflow (another execution) reserves and notifies again
    again = act(RESERVE, event("reserve_locker", execution="order-r1"))
    notified = act(NOTIFY, event("notify_locker_customer", execution="order-r1"))

    # Then the rent the goods went into is the order's, and Bloq.It was asked nothing more
    assert (again["rent_id"], again["reused"]) == (reserved["rent_id"], True)
    assert notified["applied"] is False
    assert (vendors.create_delivery.call_count, vendors.notify.call_count) == calls


def test_a_locker_another_order_took_meanwhile_is_left_for_the_next_free_one(act, vendors, partner_order):
    # Given two free lockers, the first taken by another order between our read and our rent
    vendors.free_lockers.mock(return_value=json_response([locker(), locker("other-locker")]))
    created = vendors.create_delivery.side_effect
    answers = iter([httpx.Response(409, json={"code": "lockerNotAvailable", "message": "Locker is occupied"})])
    vendors.create_delivery.mock(side_effect=lambda request: next(answers, None) or created(request))

    # When the locker is reserved
    out = act(RESERVE, event("reserve_locker"))

    # Then the rent is made on the other locker, and only one rent exists
    lockers_asked = [c.request.url.params["lockerID"] for c in vendors.create_delivery.calls]
    assert lockers_asked == [DOC_LOCKER_ID, "other-locker"]
    assert out["state"] == "reserved" and out["reused"] is False


def test_lockers_that_keep_going_to_other_orders_end_in_the_no_locker_fallback(act, vendors, partner_order):
    # Given every free locker taken by another order between our read and our rent
    vendors.free_lockers.mock(return_value=json_response([locker(f"locker-{n}") for n in range(8)]))
    vendors.create_delivery.mock(
        return_value=httpx.Response(409, json={"code": "lockerNotAvailable", "message": "Locker is occupied"})
    )

    # When the locker is reserved
    with pytest.raises(NoLockerAvailable, match="taken by other orders"):
        act(RESERVE, event("reserve_locker"))

    # Then a few were tried, and the order goes to its path's fallback (NoLockerAvailable), not a failure
    assert vendors.create_delivery.call_count == MAX_LOCKER_CONFLICTS
