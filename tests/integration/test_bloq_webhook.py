"""POST /webhooks/bloq — signed Bloq.It events; rent events move the rent and the order."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from orderbridge.domain.ids import order_id_for
from orderbridge.domain.waits import WaitKind, verdict
from orderbridge.models.order import Tracks
from orderbridge.models.rent import Rent

from tests.conftest import table_items
from tests.support import samples
from tests.support.hub import bloq_headers

ORDER_ID = order_id_for("blink", "1236589")


@pytest.fixture
def rent(hub, seeded):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    seeded.rents.put(
        Rent(
            rent_id="rent-1",
            order_id=ORDER_ID,
            bloq_id="bloq-1",
            state="reserved",
            created_at=datetime(2026, 11, 22, tzinfo=UTC),
        )
    )
    return "rent-1"


def _event(event_id: str, code: str, rent: str = "rent-1", **extra) -> str:
    return json.dumps(
        {
            "_id": event_id,
            "codeName": code,
            "rent": rent,
            "bloq": "bloq-1",
            "locker": "L1",
            "actionInitiatedBy": {"role": "user", "id": "u1", "source": "locker"},
            **extra,
        },
        separators=(",", ":"),
    )


def test_doc_callback_sample_is_accepted_and_recorded(hub):
    body = samples.text("bloq_webhook_callback.json")
    answer = hub.bloq(body)
    # The sample's codeName "string" is no documented event type: recorded and acknowledged.
    assert answer.status == 200 and answer.body == {"status": "accepted"}
    [record] = table_items("RentsTable")
    assert record["pk"] == "BLOQEVENT#string" and record["raw"] == body


def test_rent_event_for_a_rent_we_do_not_know_is_kept_unmatched(hub):
    answer = hub.bloq(_event("e9", "rent.in_progress", rent="rent-unknown"))
    assert answer.status == 202 and answer.body == {"status": "unmatched"}
    # kept under the rent's id (applied when the rent becomes an order's: workflow/unmatched.py);
    # its BLOQEVENT guard is written when it is applied
    kept = [(i["pk"], i["sk"]) for i in table_items("OrdersTable") if i["pk"].startswith("UNMATCHED#")]
    assert kept == [("UNMATCHED#bloqit#rent-unknown", "EVENT#bloq:e9")]
    assert table_items("RentsTable") == []
    # a redelivery is a duplicate
    assert hub.bloq(_event("e9", "rent.in_progress", rent="rent-unknown")).status == 202
    assert len([i for i in table_items("OrdersTable") if i["pk"].startswith("UNMATCHED#")]) == 1


def test_rent_events_move_rent_and_order_forward_only(hub, seeded, rent):
    assert hub.bloq(_event("e1", "rent.in_progress")).body == {"status": "accepted", "order_id": ORDER_ID}
    assert hub.bloq(_event("e2", "rent.started")).status == 200  # late
    order = hub.ops_order(ORDER_ID).body
    assert order["tracks"]["rent_state"] == "in_progress"
    assert seeded.rents.get("rent-1").state == "in_progress"
    rent_events = [(e["detail"]["code_name"], e["applied"]) for e in order["timeline"] if e["kind"] == "rent_event"]
    assert rent_events == [("rent.in_progress", True), ("rent.started", False)]


def test_cancelled_rent_can_still_be_collected_and_finished(hub, seeded, rent):
    for i, code in enumerate(["rent.in_progress", "rent.cancelled", "rent.collect_item", "rent.finished"]):
        hub.bloq(_event(f"e{i}", code))
    assert seeded.rents.get("rent-1").state == "finished"
    assert hub.ops_order(ORDER_ID).body["tracks"]["rent_state"] == "finished"


def test_event_without_a_state_is_in_the_timeline_only(hub, seeded, rent):
    hub.bloq(_event("e1", "rent.automatic_notification_sent", message="SMS sent"))
    order = hub.ops_order(ORDER_ID).body
    assert order["tracks"]["rent_state"] is None
    assert order["timeline"][-1]["summary"] == "locker rent automatic_notification_sent: SMS sent"


def test_same_event_id_fifty_times_concurrently_is_recorded_once(hub, seeded, rent):
    body = _event("e-dup", "rent.in_progress")
    headers = bloq_headers(body)
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: hub.bloq(body, headers=headers), range(50)))
    assert {(a.status, a.body["order_id"]) for a in answers} == {(200, ORDER_ID)}
    assert len([i for i in table_items("RentsTable") if i["pk"] == "BLOQEVENT#e-dup"]) == 1
    assert len([e for e in hub.ops_order(ORDER_ID).body["timeline"] if e["kind"] == "rent_event"]) == 1


def test_non_rent_events_are_recorded_and_acknowledged(hub):
    answer = hub.bloq(
        _event(
            "l1",
            "locker.locker_inactive",
            rent=None,
            metadata={"code": "123", "reason": "offline_drop_off_on_wrong_bloq"},
        )
    )
    assert (answer.status, answer.body) == (200, {"status": "accepted"})
    [record] = table_items("RentsTable")
    assert record["code_name"] == "locker.locker_inactive"


def test_second_rotation_secret_is_accepted(hub, rent):
    body = _event("e1", "rent.in_progress")
    answer = hub.bloq(body, headers=bloq_headers(body, secret="dev-bloq-secret-previous-0123456789abcdef"))
    assert answer.status == 200


def test_stale_signed_event_is_refused(hub, rent):
    body = _event("e1", "rent.in_progress")
    old = str(int((datetime.now(UTC).timestamp() - 3600) * 1000))
    assert hub.bloq(body, headers=bloq_headers(body, timestamp=old)).status == 401
    assert seeded_state(hub) is None


def seeded_state(hub):
    return hub.ops_order(ORDER_ID).body["tracks"]["rent_state"]


# -- events as Bloq.It defines them ------------------------------------------------------------------


def _dropoff_wait(hub):
    return verdict(WaitKind.DROPOFF, Tracks.model_validate(hub.ops_order(ORDER_ID).body["tracks"]))


def test_an_offline_drop_off_is_the_drop_off(hub, seeded, rent):
    # Given a reserved rent whose Bloq was offline when the courier dropped the item
    assert _dropoff_wait(hub) is None
    # When Bloq.It syncs it: first "waiting for sync", then the offline drop-off itself
    hub.bloq(_event("e1", "rent.waiting_offline_dropoff_sync"))
    waiting = (seeded.rents.get("rent-1").state, _dropoff_wait(hub))
    hub.bloq(_event("e2", "rent.offline_dropoff"))
    # Then only the offline drop-off moves the rent and the order to in_progress, which ends the
    # workflow's drop-off wait
    assert waiting == ("reserved", None)
    assert seeded.rents.get("rent-1").state == "in_progress"
    assert hub.ops_order(ORDER_ID).body["tracks"]["rent_state"] == "in_progress"
    assert _dropoff_wait(hub) is not None and _dropoff_wait(hub).ok


def test_rent_extended_moves_the_rent_s_expiry_later_only(hub, seeded, rent):
    # Given the rent expires on the 24th
    seeded.rents.set_details(
        "rent-1", datetime(2026, 11, 22, tzinfo=UTC), expires_at=datetime(2026, 11, 24, 12, tzinfo=UTC)
    )
    # When Bloq.It extends it to the 26th, then a late event of an earlier extension (25th) arrives
    later = hub.bloq(_event("e1", "rent.extended", metadata={"expiryDate": "2026-11-26T18:30:00.000Z"}))
    late = hub.bloq(_event("e2", "rent.extended", metadata={"expiryDate": "2026-11-25T08:00:00.000Z"}))
    # Then our rent expires on the 26th; both events are in the timeline, the late one not applied
    assert (later.status, late.status) == (200, 200)
    assert seeded.rents.get("rent-1").expires_at == datetime(2026, 11, 26, 18, 30, tzinfo=UTC)
    assert seeded.rents.get("rent-1").state == "reserved"
    extended = [e for e in hub.ops_order(ORDER_ID).body["timeline"] if e["detail"].get("code_name") == "rent.extended"]
    assert [(e["detail"]["expires_at"], e["applied"]) for e in extended] == [
        ("2026-11-26T18:30:00+00:00", True),
        ("2026-11-25T08:00:00+00:00", False),
    ]
    assert extended[0]["summary"] == "locker rent extended: expires 2026-11-26T18:30:00+00:00"


def test_rent_extended_without_a_readable_expiry_is_recorded_and_changes_nothing(hub, seeded, rent):
    # Given a rent with an expiry
    expiry = datetime(2026, 11, 24, 12, tzinfo=UTC)
    seeded.rents.set_details("rent-1", datetime(2026, 11, 22, tzinfo=UTC), expires_at=expiry)
    # When rent.extended events arrive without metadata, or with something that is no date
    answers = [
        hub.bloq(_event("e1", "rent.extended")),
        hub.bloq(_event("e2", "rent.extended", metadata={"expiryDate": "next tuesday"})),
    ]
    # Then they are acknowledged and in the timeline, and the expiry is unchanged
    assert [a.status for a in answers] == [200, 200]
    assert seeded.rents.get("rent-1").expires_at == expiry
    extended = [e for e in hub.ops_order(ORDER_ID).body["timeline"] if e["detail"].get("code_name") == "rent.extended"]
    assert [("expires_at" in e["detail"], e["summary"]) for e in extended] == [
        (False, "locker rent extended"),
        (False, "locker rent extended"),
    ]


def test_in_transit_comes_after_ready_for_pickup(hub, seeded, rent):
    # Given the item is in the locker
    hub.bloq(_event("e1", "rent.in_progress"))
    # When the delivery is signalled ready for pickup, then in transit, then a late ready_for_pickup
    for i, code in enumerate(["rent.ready_for_pickup", "rent.in_transit", "rent.ready_for_pickup"], start=2):
        hub.bloq(_event(f"e{i}", code))
    # Then the rent and the order are in transit: the late event is in the timeline only
    assert seeded.rents.get("rent-1").state == "in_transit"
    order = hub.ops_order(ORDER_ID).body
    assert order["tracks"]["rent_state"] == "in_transit"
    rent_events = [(e["detail"]["code_name"], e["applied"]) for e in order["timeline"] if e["kind"] == "rent_event"]
    assert rent_events == [
        ("rent.in_progress", True),
        ("rent.ready_for_pickup", True),
        ("rent.in_transit", True),
        ("rent.ready_for_pickup", False),
    ]
