"""Status changes (Blink order status, courier task events) move an order forward only."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from orderbridge.domain.ids import order_id_for

from tests.conftest import table_items
from tests.support import samples

ORDER_ID = order_id_for("blink", "1236589")


def _status(status: int, at: str, **extra) -> dict:
    return {"blink_order_id": "1236589", "branch_id": "12345", "status": status, "created_at": at, **extra}


def _order(hub) -> dict:
    answer = hub.ops_order(ORDER_ID)
    assert answer.status == 200
    return answer.body


def test_doc_status_sample_rejects_the_order(hub):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    answer = hub.blink_status(samples.text("blink_order_status_webhook.json"))
    assert (answer.status, answer.body) == (200, {"status": "accepted", "order_id": ORDER_ID})
    order = _order(hub)
    assert order["status"] == "rejected"
    assert order["timeline"][-1]["detail"]["comment"] == "TEST ORDER"


def test_out_of_order_statuses_leave_the_newest_in_place_and_keep_every_event(hub):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    # Given the order is dispatched (2) ...
    hub.blink_status(_status(1, "2024-06-26 09:30:00"))
    hub.blink_status(_status(2, "2024-06-26 09:50:00"))
    # When a late "ready" (6) arrives after it
    late = hub.blink_status(_status(6, "2024-06-26 09:40:00"))
    # Then it is accepted, recorded in the timeline, and the status stays dispatched
    assert late.status == 200
    order = _order(hub)
    assert order["status"] == "dispatched"
    statuses = [(e["detail"].get("status"), e["applied"]) for e in order["timeline"] if e["kind"] == "blink_status"]
    assert statuses == [(1, True), (2, True), (6, False)]
    # And a newer status still applies
    hub.blink_status(_status(3, "2024-06-26 10:10:00"))
    assert _order(hub)["status"] == "delivered"


def test_terminal_status_is_never_overwritten(hub):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    hub.blink_status(_status(3, "2024-06-26 10:00:00"))
    hub.blink_status(_status(4, "2024-06-26 10:05:00", comment="too late"))
    assert _order(hub)["status"] == "delivered"


def test_concurrent_statuses_end_at_the_highest_whatever_the_order(hub):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    events = [_status(s, f"2024-06-26 09:{m}:00") for s, m in [(1, 10), (6, 20), (2, 30), (1, 11), (6, 21)]] * 4
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(hub.blink_status, events))
    assert {a.status for a in answers} == {200}
    order = _order(hub)
    assert order["status"] == "dispatched"
    assert len([e for e in order["timeline"] if e["kind"] == "blink_status"]) == 5


def test_duplicate_status_is_recorded_once_with_the_same_answer(hub):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    first = hub.blink_status(_status(1, "2024-06-26 09:30:00"))
    second = hub.blink_status(_status(1, "2024-06-26 09:30:00"))
    assert (first.status, first.body) == (second.status, second.body)
    assert len([e for e in _order(hub)["timeline"] if e["kind"] == "blink_status"]) == 1


def test_status_for_an_unknown_order_is_kept_unmatched_with_202(hub):
    answer = hub.blink_status(_status(1, "2024-06-26 09:30:00"))
    assert (answer.status, answer.body) == (202, {"status": "unmatched"})
    kept = [i for i in table_items("OrdersTable") if i["pk"] == "UNMATCHED#blink#1236589"]
    assert len(kept) == 1 and json.loads(kept[0]["raw"])["status"] == 1


def test_an_unmatched_event_whose_order_never_comes_expires(hub):
    # Given a status for an order we do not know, kept unmatched
    hub.blink_status(_status(1, "2024-06-26 09:30:00"))
    (kept,) = [i for i in table_items("OrdersTable") if i["pk"] == "UNMATCHED#blink#1236589"]
    # Then the table's TTL removes it 30 days after it was received
    received = datetime.fromisoformat(kept["received_at"])
    assert int(kept["expires_at"]) == int((received + timedelta(days=30)).timestamp())


def test_status_for_an_unknown_order_on_an_unknown_branch_is_422(hub):
    answer = hub.blink_status(_status(1, "2024-06-26 09:30:00") | {"branch_id": "nope"})
    assert answer.status == 422 and answer.body["errors"][0]["field"] == "branch_id"
    assert table_items("OrdersTable") == []


def test_status_of_a_partner_order_submitted_to_blink_finds_it_by_alias(hub, seeded):
    answer = hub.partner_order(samples.text("blend_order_created.jsonc"))
    seeded.orders.put_alias("blink", "988278", answer.body["order_id"])
    status = hub.blink_status({"blink_order_id": "988278", "branch_id": "12345", "status": 1})
    assert status.body == {"status": "accepted", "order_id": answer.body["order_id"]}
    assert hub.ops_order(answer.body["order_id"]).body["status"] == "accepted"


# -- Blink Logistics task status ---------------------------------------------------------------


def _task(event_id: int, name: str, **data) -> dict:
    return {"eventId": event_id, "event": name, "data": {"taskId": "XYZAB-12345", "type": 1, **data}}


def test_task_events_move_the_courier_status_forward_only(hub, seeded):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    seeded.orders.put_alias("blink_logistics", "XYZAB-12345", ORDER_ID)
    # the doc's sample (24 TASK_ACCEPTED), then a late 23 TASK_ASSIGNED, then 27 TASK_FINISHED
    assert hub.task_status(samples.text("blink_task_status_webhook.json")).status == 200
    assert hub.task_status(_task(23, "TASK_ASSIGNED")).status == 200
    assert _order(hub)["tracks"]["courier_status"] == "TASK_ACCEPTED"
    hub.task_status(_task(27, "TASK_FINISHED"))
    order = _order(hub)
    assert order["tracks"]["courier_status"] == "TASK_FINISHED"
    assert [e["applied"] for e in order["timeline"] if e["kind"] == "task_status"] == [True, False, True]
    assert order["status"] == "pending"  # the order's own status is Blink's to move


def test_task_updated_is_recorded_without_moving_the_courier_status(hub, seeded):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    seeded.orders.put_alias("blink_logistics", "XYZAB-12345", ORDER_ID)
    hub.task_status(_task(20, "TASK_CREATED"))
    hub.task_status(_task(21, "TASK_UPDATED"))
    order = _order(hub)
    assert order["tracks"]["courier_status"] == "TASK_CREATED"
    assert [e["detail"]["event_id"] for e in order["timeline"] if e["kind"] == "task_status"] == [20, 21]


def test_same_task_event_twice_is_one_timeline_entry_but_a_reassignment_is_new(hub, seeded):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    seeded.orders.put_alias("blink_logistics", "XYZAB-12345", ORDER_ID)
    hub.task_status(_task(29, "TASK_REASSIGNED", agent={"name": "A", "contact": "1"}))
    hub.task_status(_task(29, "TASK_REASSIGNED", agent={"name": "A", "contact": "1"}))
    hub.task_status(_task(29, "TASK_REASSIGNED", agent={"name": "B", "contact": "2"}))
    assert len([e for e in _order(hub)["timeline"] if e["kind"] == "task_status"]) == 2


def test_task_event_for_an_unknown_task_is_kept_unmatched(hub):
    answer = hub.task_status(samples.text("blink_task_status_webhook.json"))
    assert (answer.status, answer.body) == (202, {"status": "unmatched"})
    assert [i["pk"] for i in table_items("OrdersTable")] == ["UNMATCHED#blink_logistics#XYZAB-12345"]


def test_concurrent_statuses_meeting_transaction_conflicts_all_land_with_2xx(hub, monkeypatch):
    # Given DynamoDB cancelling every other transaction for a conflict with a concurrent one (as it
    # does when two writes touch one order item at once; moto never does on its own)
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    hub.blink_order(samples.text("blink_order_webhook.json"))
    real = DynamoDBBackend.transact_write_items
    calls = {"n": 0, "conflicts": 0}

    def conflicting(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] % 2:
            calls["conflicts"] += 1
            raise TransactionCanceledException([("TransactionConflict", "Transaction is ongoing for the item", None)])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", conflicting)
    events = [_status(s, f"2024-06-26 09:{m}:00") for s, m in ((1, 30), (6, 40), (2, 50), (3, 59))]

    # When four statuses of the order arrive at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(hub.blink_status, events))

    # Then every sender got a 2xx, every status is in the timeline, and the newest won
    assert calls["conflicts"] >= 4
    assert [a.status for a in answers] == [200, 200, 200, 200]
    order = _order(hub)
    assert order["status"] == "delivered"
    assert len([e for e in order["timeline"] if e["kind"] == "blink_status"]) == 4


def test_a_write_that_keeps_conflicting_is_a_retryable_503_with_nothing_half_written(hub, monkeypatch):
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    hub.blink_order(samples.text("blink_order_webhook.json"))

    def always(self, *args, **kwargs):
        raise TransactionCanceledException([("TransactionConflict", "Transaction is ongoing for the item", None)])

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", always)
    answer = hub.blink_status(_status(1, "2024-06-26 09:30:00"))
    assert answer.status == 503
    assert [e for e in _order(hub)["timeline"] if e["kind"] == "blink_status"] == []
