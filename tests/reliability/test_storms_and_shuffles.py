"""The reliability suite's storms and shuffles (issue 13 point 8), through the real webhook handlers
on the emulated tables:

- a duplicate storm: the same delivery 50 times at once, per webhook type → every answer 2xx and
  the same, one effect (one order, one timeline entry, one rent event);
- shuffled event orders (hypothesis): whatever order a vendor's events arrive in, each is recorded
  once and the newest wins (the order's status, the courier track, the rent's state).

``make test`` runs a smoke share of the examples; ``make reliability`` (``RELIABILITY_FULL=1``) the
whole. Counts are asserted, never times.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orderbridge.domain.ids import order_id_for
from orderbridge.models.rent import Rent

from tests.conftest import table_items
from tests.support import samples
from tests.support.apigw import Answer
from tests.support.hub import Hub, bloq_headers

pytestmark = pytest.mark.reliability

FULL = os.environ.get("RELIABILITY_FULL") == "1"
STORM = 50
EXAMPLES = 60 if FULL else 8
SHUFFLE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not FULL,  # the smoke share is the same every run; the full run explores
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_numbers = itertools.count(7_000_000)


def storm(send: Callable[[], Answer]) -> list[Answer]:
    with ThreadPoolExecutor(max_workers=STORM) as pool:
        return list(pool.map(lambda _: send(), range(STORM)))


def same_answer(answers: list[Answer]) -> tuple[int, Any]:
    assert {a.status for a in answers} <= {200, 202}, {a.status for a in answers}
    bodies = {json.dumps(a.body, sort_keys=True) for a in answers}
    assert len(bodies) == 1, bodies
    return answers[0].status, answers[0].body


def new_blink_order(hub: Hub) -> tuple[str, str]:
    """A Blink order of its own (a fresh Blink id per example): (Blink's id, our order id)."""
    blink_id = str(next(_numbers))
    order = samples.load("blink_order_webhook.json") | {"blink_order_id": blink_id}
    assert hub.blink_order(order).status == 200
    return blink_id, order_id_for("blink", blink_id)


def timeline(hub: Hub, order_id: str, kind: str) -> list[dict[str, Any]]:
    answer = hub.ops_order(order_id)
    assert answer.status == 200
    return [e for e in answer.body["timeline"] if e["kind"] == kind]


# -- duplicate storms ------------------------------------------------------------------------------


def test_a_storm_of_one_new_blink_order_makes_one_order(hub):
    body = samples.text("blink_order_webhook.json")
    status, answer = same_answer(storm(lambda: hub.blink_order(body)))
    assert status == 200
    orders = [i for i in table_items("OrdersTable") if i["sk"] == "META"]
    assert [o["order_id"] for o in orders] == [answer["order_id"]]
    assert len(timeline(hub, answer["order_id"], "order_received")) == 1


def test_a_storm_of_one_partner_order_makes_one_order(hub):
    body = samples.text("blend_order_created.jsonc")
    status, answer = same_answer(storm(lambda: hub.partner_order(body)))
    assert status == 200
    assert [i["order_id"] for i in table_items("OrdersTable") if i["sk"] == "META"] == [answer["order_id"]]


def test_a_storm_of_one_blink_status_records_it_once(hub):
    blink_id, order_id = new_blink_order(hub)
    body = {"blink_order_id": blink_id, "branch_id": "12345", "status": 1, "created_at": "2024-06-26 09:30:00"}
    same_answer(storm(lambda: hub.blink_status(body)))
    assert len(timeline(hub, order_id, "blink_status")) == 1
    assert hub.ops_order(order_id).body["status"] == "accepted"


def test_a_storm_of_one_task_event_records_it_once(hub, seeded):
    _, order_id = new_blink_order(hub)
    seeded.orders.put_alias("blink_logistics", "XYZAB-12345", order_id)
    body = samples.text("blink_task_status_webhook.json")
    same_answer(storm(lambda: hub.task_status(body)))
    assert len(timeline(hub, order_id, "task_status")) == 1


def test_a_storm_of_one_bloq_event_records_it_once(hub, seeded):
    _, order_id = new_blink_order(hub)
    seeded.rents.put(Rent(rent_id="rent-storm", order_id=order_id, bloq_id="bloq-1", state="reserved", created_at=NOW))
    body = rent_event("storm-1", "rent.in_progress", "rent-storm")
    headers = bloq_headers(body)
    same_answer(storm(lambda: hub.bloq(body, headers=headers)))
    assert len(timeline(hub, order_id, "rent_event")) == 1


# -- shuffled event orders --------------------------------------------------------------------------

NOW = datetime(2026, 11, 22, tzinfo=UTC)
# Blink's statuses of one order as they happen (code, when): accepted, ready, dispatched, delivered.
BLINK_STATUSES = [(1, "09:30:00"), (6, "09:40:00"), (2, "09:50:00"), (3, "10:05:00")]
# A courier task's events as they happen (Blink Logistics codes and names).
TASK_EVENTS = [(20, "TASK_CREATED"), (23, "TASK_ASSIGNED"), (24, "TASK_ACCEPTED"), (26, "TASK_STARTED")]
TASK_EVENTS += [(27, "TASK_FINISHED")]
# A locker rent's events as they happen, and the rent's state after each.
RENT_EVENTS = [("rent.started", "starting"), ("rent.in_progress", "in_progress")]
RENT_EVENTS += [("rent.collect_item", "collect_item"), ("rent.finished", "finished")]


@SHUFFLE
@given(order=st.permutations(range(len(BLINK_STATUSES))), twice=st.booleans())
def test_blink_statuses_in_any_order_end_at_the_newest(hub, order, twice):
    blink_id, order_id = new_blink_order(hub)
    sent = [BLINK_STATUSES[i] for i in order] * (2 if twice else 1)
    for code, at in sent:
        body = {"blink_order_id": blink_id, "branch_id": "12345", "status": code, "created_at": f"2024-06-26 {at}"}
        assert hub.blink_status(body).status == 200
    assert hub.ops_order(order_id).body["status"] == "delivered"
    assert sorted(e["detail"]["status"] for e in timeline(hub, order_id, "blink_status")) == [1, 2, 3, 6]


@SHUFFLE
@given(order=st.permutations(range(len(TASK_EVENTS))))
def test_task_events_in_any_order_end_at_the_newest(hub, seeded, order):
    _, order_id = new_blink_order(hub)
    task = f"T-{order_id[-8:]}"
    seeded.orders.put_alias("blink_logistics", task, order_id)
    for i in order:
        event_id, name = TASK_EVENTS[i]
        body = {"eventId": event_id, "event": name, "data": {"taskId": task, "type": 1}}
        assert hub.task_status(body).status == 200
    assert hub.ops_order(order_id).body["tracks"]["courier_status"] == "TASK_FINISHED"
    assert sorted(e["detail"]["event_id"] for e in timeline(hub, order_id, "task_status")) == [20, 23, 24, 26, 27]


@SHUFFLE
@given(order=st.permutations(range(len(RENT_EVENTS))))
def test_rent_events_in_any_order_end_at_the_newest(hub, seeded, order):
    _, order_id = new_blink_order(hub)
    rent_id = f"rent-{order_id[-8:]}"
    seeded.rents.put(Rent(rent_id=rent_id, order_id=order_id, bloq_id="bloq-1", state="reserved", created_at=NOW))
    for i in order:
        code, _ = RENT_EVENTS[i]
        body = rent_event(f"{rent_id}-{i}", code, rent_id)
        assert hub.bloq(body, headers=bloq_headers(body)).status == 200
    assert hub.ops_order(order_id).body["tracks"]["rent_state"] == RENT_EVENTS[-1][1]
    assert len(timeline(hub, order_id, "rent_event")) == len(RENT_EVENTS)


def rent_event(event_id: str, code: str, rent_id: str) -> str:
    return json.dumps(
        {
            "_id": event_id,
            "codeName": code,
            "rent": rent_id,
            "bloq": "bloq-1",
            "locker": "L1",
            "actionInitiatedBy": {"role": "user", "id": "u1", "source": "locker"},
        },
        separators=(",", ":"),
    )
