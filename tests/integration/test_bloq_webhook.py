"""POST /webhooks/bloq — signed Bloq.It events; rent events move the rent and the order."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from orderbridge.domain.ids import order_id_for
from orderbridge.models.rent import Rent

from tests.conftest import table_items
from tests.support import samples
from tests.support.hub import bloq_headers

ORDER_ID = order_id_for("blink", "1236589")


@pytest.fixture
def rent(hub, seeded):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    seeded.rents.put(Rent(rent_id="rent-1", order_id=ORDER_ID, bloq_id="bloq-1", state="reserved",
                          created_at=datetime(2026, 11, 22, tzinfo=UTC)))
    return "rent-1"


def _event(event_id: str, code: str, rent: str = "rent-1", **extra) -> str:
    return json.dumps({"_id": event_id, "codeName": code, "rent": rent, "bloq": "bloq-1", "locker": "L1",
                       "actionInitiatedBy": {"role": "user", "id": "u1", "source": "locker"}, **extra},
                      separators=(",", ":"))


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
    assert [i["pk"] for i in table_items("RentsTable")] == ["BLOQEVENT#e9"]


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
    answer = hub.bloq(_event("l1", "locker.locker_inactive", rent=None,
                             metadata={"code": "123", "reason": "offline_drop_off_on_wrong_bloq"}))
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
