# ruff: noqa: F811 - the fixtures are imported from test_blink_statuses and named as arguments
"""Issue 13 point 1 for vendor answers: the status read-back (``syncs/blink_statuses.py``) keeps
Blink's ``getOrder`` answer with the status it records; an answer too big to keep whole (its text is
capped, its number of items is not) is kept without its items, saying so, and the status is
recorded. Against the Blink sandbox in-process and moto."""

from __future__ import annotations

import json

from orderbridge.syncs import blink_statuses

from tests.conftest import table_items
from tests.integration.syncs.test_blink_statuses import (  # noqa: F401 - fixtures
    STALE,
    blink,
    blink_id,
    clock,
    place_order,
    status_change_dropped,
    sync_deps,
)
from tests.integration.syncs.test_runner import Context


def test_a_status_read_back_whose_answer_is_too_big_is_recorded_with_the_answer_kept_without_its_items(
    hub, blink, sync_deps, clock, caplog
):
    # Given an order delivered in Blink (its webhook dropped) whose getOrder answer lists 200 items,
    # each with 5,000 characters of details (cut to 2,000: still 400 KB in all)
    order_id = place_order(blink, hub)
    blink_order_id = blink_id(order_id, sync_deps)
    status_change_dropped(blink, blink_order_id, 3)
    view = blink.orders[int(blink_order_id)]["view"]
    view["items"] = [{"item_id": f"i{n}", "quantity": 1, "price": "1", "details": "D" * 5_000} for n in range(200)]
    clock.now += STALE

    # When the reconciliation runs
    report = blink_statuses.sync_blink_statuses(sync_deps, Context(60))

    # Then the status is recorded, with Blink's answer kept without its items (and saying so)
    assert (report.changed, report.failed) == (1, 0)
    assert sync_deps.orders.get(order_id).tracks.status == "delivered"
    [event] = [
        item
        for item in table_items("OrdersTable")
        if item["pk"] == f"ORDER#{order_id}" and item.get("kind") == "blink_status"
    ]
    raw = json.loads(event["raw"])
    assert raw["items_left_out"] == 200 and raw["items"] == [] and raw["status"] == "DELIVERED"
    assert len(event["raw"]) < 10_000
    assert [r.items for r in caplog.records if r.getMessage().startswith("getOrder's answer is too big")] == [200]
