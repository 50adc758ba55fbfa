"""What the ops console asks of the ops API besides an order and a list: ``GET /ops/orders?q=``
finds an order by any id (ours, Blink's, the partner's, a courier's, a rent's),
``?source=`` and a ``date`` with another filter narrow a list, ``GET /ops/orders/counts`` counts
a day's orders per state, and an order names the ``actions`` that fit its state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from orderbridge.domain.ids import order_id_for
from orderbridge.models.order import Failure, Lifecycle, OrderState
from orderbridge.models.rent import Rent

from tests.support import samples
from tests.support.apigw import invoke, proxy_event
from tests.support.template import template

BLINK_ORDER = order_id_for("blink", "1236589")
PARTNER_ORDER = order_id_for("partner:demo-partner", "order_id")


def _counts(**query: str):
    return invoke("OpsApiFunction", proxy_event("GET", "/ops/orders/counts", query=query or None))


def _found(hub, text: str) -> list[str]:
    answer = hub.ops_list(q=text)
    assert answer.status == 200, answer.body
    return [o["order_id"] for o in answer.body["orders"]]


@pytest.fixture
def two_orders(hub, fixed_now):
    """Given Blink's sample order and a partner's sample order, received today."""
    assert hub.blink_order(samples.text("blink_order_webhook.json")).status == 200
    assert hub.partner_order(samples.text("blend_order_created.jsonc")).status == 200
    return hub


def test_an_order_is_found_by_our_id_blinks_id_and_the_partners_id(two_orders):
    # When a person searches by our id, Blink's order id or the partner's order id
    # Then the one order each names is listed
    assert _found(two_orders, BLINK_ORDER) == [BLINK_ORDER]
    assert _found(two_orders, "1236589") == [BLINK_ORDER]
    assert _found(two_orders, "order_id") == [PARTNER_ORDER]
    assert _found(two_orders, " order_id ") == [PARTNER_ORDER]  # pasted with spaces
    assert two_orders.ops_list(q="1236589").body["filters"] == {"q": "1236589"}


def test_an_order_is_found_by_the_ids_vendors_gave_it(two_orders, deps, fixed_now):
    # Given the partner order submitted to Blink (Blink's id), a courier task, a DispatchNINJA
    # order and a locker rent of the Blink order
    deps.orders.put_alias("blink", "7700001", PARTNER_ORDER)
    deps.orders.put_alias("blink_logistics", "task-42", BLINK_ORDER)
    deps.orders.put_alias("dispatchninja", "DN-9", PARTNER_ORDER)
    deps.rents.put(Rent(rent_id="65a1b2c3d4e5f6a7b8c9d0e1", order_id=BLINK_ORDER, created_at=fixed_now))
    # When a person searches by each, Then the order it belongs to is listed
    assert _found(two_orders, "7700001") == [PARTNER_ORDER]
    assert _found(two_orders, "task-42") == [BLINK_ORDER]
    assert _found(two_orders, "DN-9") == [PARTNER_ORDER]
    assert _found(two_orders, "65a1b2c3d4e5f6a7b8c9d0e1") == [BLINK_ORDER]


def test_an_id_nobody_gave_finds_nothing_and_a_bad_search_is_400(two_orders):
    assert _found(two_orders, "no-such-id") == []
    for bad in ("", "   ", "x" * 101):
        answer = two_orders.ops_list(q=bad)
        assert answer.status == 400 and [e["field"] for e in answer.body["errors"]] == ["q"]


def test_a_list_is_narrowed_by_source_and_by_day_with_another_filter(two_orders, deps, fixed_now):
    # Given both orders of today at branch 12345
    assert {o["order_id"] for o in two_orders.ops_list(branch="12345").body["orders"]} == {BLINK_ORDER, PARTNER_ORDER}
    # When listed by source, Then only that source's orders
    assert [o["order_id"] for o in two_orders.ops_list(source="partner").body["orders"]] == [PARTNER_ORDER]
    assert [o["order_id"] for o in two_orders.ops_list(branch="12345", source="blink").body["orders"]] == [BLINK_ORDER]
    # When a branch or a state is listed for another day, Then nothing of today
    assert two_orders.ops_list(branch="12345", date="2026-11-21").body["orders"] == []
    assert two_orders.ops_list(state="received", date="2026-11-21").body["orders"] == []
    listed = two_orders.ops_list(state="received", date="2026-11-22").body
    assert {o["order_id"] for o in listed["orders"]} == {BLINK_ORDER, PARTNER_ORDER}
    assert listed["filters"] == {"state": "received", "date": "2026-11-22"}
    answer = two_orders.ops_list(source="courier")
    assert answer.status == 400 and [e["field"] for e in answer.body["errors"]] == ["source"]


def test_counts_per_state_of_a_day(two_orders, deps, fixed_now):
    # Given one order needing attention and one stuck (in progress past its deadline)
    failure = Failure(kind="ActionRefused", message="map the item, then retry")
    deps.orders.set_state(PARTNER_ORDER, Lifecycle(state=OrderState.NEEDS_ATTENTION, failure=failure, at=fixed_now))
    past = fixed_now - timedelta(minutes=5)
    deps.orders.set_state(BLINK_ORDER, Lifecycle(state=OrderState.IN_PROGRESS, step="dropoff", deadline=past, at=past))
    # When today's orders are counted
    answer = _counts()
    # Then each state has its number, every state is named
    assert answer.status == 200, answer.body
    assert answer.body["date"] == "2026-11-22"
    assert answer.body["states"] == {s.value: 0 for s in OrderState} | {"needs_attention": 1, "stuck": 1}
    # and a branch, a source or another day narrows them
    assert _counts(source="blink").body["states"]["needs_attention"] == 0
    assert _counts(branch="12345", source="partner").body["states"]["needs_attention"] == 1
    assert sum(_counts(date="2026-11-21").body["states"].values()) == 0
    bad = _counts(date="today", source="fax")
    assert bad.status == 400 and {e["field"] for e in bad.body["errors"]} == {"date", "source"}


@pytest.mark.parametrize(
    ("state", "deadline", "actions"),
    [
        (OrderState.NEEDS_ATTENTION, None, ["retry", "cancel"]),
        (OrderState.FAILED, None, ["resume", "cancel"]),
        (OrderState.IN_PROGRESS, timedelta(minutes=-1), ["resume", "cancel"]),  # stuck
        (OrderState.DELIVERED, None, []),
        (OrderState.REJECTED, None, []),
    ],
)
def test_an_order_names_the_actions_that_fit_its_state(two_orders, deps, fixed_now, state, deadline, actions):
    at = fixed_now if deadline is None else fixed_now + deadline
    deps.orders.set_state(BLINK_ORDER, Lifecycle(state=state, deadline=at if deadline else None, at=at))
    assert two_orders.ops_order(BLINK_ORDER).body["actions"] == actions


def test_the_counts_route_asks_for_the_same_auth_as_the_other_ops_routes():
    events = template()["Resources"]["OpsApiFunction"]["Properties"]["Events"]
    counts = [e["Properties"] for e in events.values() if e["Properties"]["Path"] == "/ops/orders/counts"]
    listing = [e["Properties"] for e in events.values() if e["Properties"]["Path"] == "/ops/orders"]
    assert len(counts) == 1 and counts[0]["Method"] == "get" and counts[0]["Auth"] == listing[0]["Auth"]
