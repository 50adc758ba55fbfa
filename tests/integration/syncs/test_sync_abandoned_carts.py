# ruff: noqa: F811 - the shared fixtures are imported from blink_records and named as arguments
"""Abandoned-carts sync (``syncs/abandoned_carts.py``) and the ops API's list and CSV export
(``ops_records.py``), with the Blink sandbox served in-process (carts added through its
``POST /_admin/abandoned-carts``)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from threading import Barrier, Thread
from typing import Any

import httpx
import pytest
from orderbridge.store.abandoned_carts import AbandonedCartStore
from orderbridge.syncs import abandoned_carts as carts_sync
from orderbridge.syncs.abandoned_carts import SETTLE, sync_abandoned_carts

from tests.integration.syncs.blink_records import (  # noqa: F401 - fixtures
    MERCHANT,
    NOW,
    Context,
    blink,
    blink_requests,
    dead_letter_queue,
    fire,
    lambda_time,
    ops,
    sync_deps,
)

FUNCTION = "SyncAbandonedCartsFunction"
SAMPLE_CREATED = datetime(2026, 2, 9, 8, 8, 18, tzinfo=UTC)  # the doc's sample cart


def add_cart(sandbox, **overrides: Any) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox), base_url="http://blink.test") as admin:
        answer = admin.post("/_admin/abandoned-carts", json=overrides)
    assert answer.status_code == 201, answer.text


def stored(deps) -> list[Any]:
    carts, _ = AbandonedCartStore(deps.dynamodb, deps.settings.config_table).between(
        MERCHANT, datetime(2020, 1, 1, tzinfo=UTC), NOW, limit=200
    )
    return carts


def test_the_carts_of_the_last_days_are_stored_with_exact_money_and_the_cursor_is_the_ranges_end(sync_deps, blink):
    add_cart(blink, created_at="2026-02-05 10:00:00", customer={"name": "Older", "phone": "+923000000001"})

    report = fire(FUNCTION)

    carts = stored(sync_deps)
    assert [c.created_at for c in carts] == [datetime(2026, 2, 5, 10, 0, tzinfo=UTC), SAMPLE_CREATED]
    sample = carts[1]
    assert (sample.customer_name, sample.customer_phone, sample.cart_value) == ("Test User", "+923300000009", 744)
    assert isinstance(sample.cart_value, Decimal) and sample.lines[0].unit_price == Decimal("142.000")
    assert (sample.notification_status, sample.lines[0].dish_id, sample.lines[0].quantity) == ("SENT", "722688", 1)
    # Blink was asked day by day, from seven days back to an hour before now, to the minute
    asked = [
        (r["query"]["start_date"], r["query"]["end_date"])
        for r in blink_requests(blink, "/interface/v1/getAbandonedCarts")
    ]
    assert asked[0] == ("2026-02-03 12:00", "2026-02-04 12:00") and asked[-1] == (
        "2026-02-09 12:00",
        "2026-02-10 11:00",
    )
    assert sync_deps.cursors.get("abandoned_carts", MERCHANT).value == (NOW - SETTLE).isoformat()
    assert (report["seen"], report["changed"], report["lag_seconds"], report["finished"]) == (2, 2, 0.0, True)


def test_a_cart_on_the_boundary_minute_is_read_by_both_ranges_and_stored_once(sync_deps, blink):
    # Given a cart made at the minute where one run's range ends (11:00) and the next one's starts
    add_cart(blink, created_at="2026-02-10 11:00:00", customer={"name": "Edge", "phone": "+923000000002"})
    first = sync_abandoned_carts(sync_deps, Context())
    later = NOW.replace(hour=13)
    sync_deps.clock = lambda: later

    # When the next run covers 11:00 to 12:00
    second = sync_abandoned_carts(sync_deps, Context())

    # Then it asked from the end of the last range, saw the cart again and changed nothing
    assert blink_requests(blink, "/interface/v1/getAbandonedCarts")[-1]["query"] == {
        "start_date": "2026-02-10 11:00",
        "end_date": "2026-02-10 12:00",
        "page": "1",
    }
    assert (first.changed, second.seen, second.changed) == (2, 1, 0)
    assert [c.customer_name for c in stored(sync_deps)].count("Edge") == 1


def test_a_notification_sent_since_is_a_change_stored_once(sync_deps, blink):
    add_cart(blink, created_at="2026-02-08 09:00:00", notification={"status": "PENDING", "sent_at": None})
    sync_abandoned_carts(sync_deps, Context())
    # Given Blink sent the notification since, and the range is read again from the start
    blink.carts[-1]["notification"] = {"status": "SENT", "sent_at": "2026-02-08 10:00:00"}
    sync_deps.cursors.advance(sync_deps.cursors.get("abandoned_carts", MERCHANT), None, at=NOW)

    report = sync_abandoned_carts(sync_deps, Context())

    assert (report.seen, report.changed) == (2, 1)
    cart = next(c for c in stored(sync_deps) if c.created_at.day == 8)
    assert (cart.notification_status, cart.notification_sent_at) == ("SENT", datetime(2026, 2, 8, 10, tzinfo=UTC))


def test_a_run_short_of_time_stops_and_the_next_goes_on_from_the_cursor(sync_deps, blink, lambda_time):
    # Given a cart on each of the last six days and Blink answers that take 2 s of a 10 s Lambda
    for day in range(4, 10):
        add_cart(
            blink, created_at=f"2026-02-0{day} 20:00:00", customer={"name": f"Day {day}", "phone": f"+9230000000{day}"}
        )
    lambda_time.per_request = 2.0

    first = sync_abandoned_carts(sync_deps, Context(10))

    assert first.finished is False and first.lag_seconds > 0
    covered = sync_deps.cursors.get("abandoned_carts", MERCHANT).value
    assert covered is not None and covered < (NOW - SETTLE).isoformat()

    runs = [sync_abandoned_carts(sync_deps, Context(10)) for _ in range(6)]

    assert runs[-1].finished is True
    assert first.changed + sum(r.changed for r in runs) == 7  # six carts and the doc's sample, each once
    assert len(stored(sync_deps)) == 7


def test_two_runs_at_once_store_each_cart_once(sync_deps, monkeypatch):
    barrier = Barrier(2)
    reports: list[Any] = []
    to_minute = carts_sync.to_minute
    calls = {"n": 0}

    def wait_once_read(moment: datetime) -> datetime:  # both runs have read the cursor
        calls["n"] += 1
        if calls["n"] <= 2:
            barrier.wait(timeout=10)
        return to_minute(moment)

    monkeypatch.setattr(carts_sync, "to_minute", wait_once_read)
    threads = [Thread(target=lambda: reports.append(sync_abandoned_carts(sync_deps, Context()))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(reports) == 2 and sum(r.changed for r in reports) == 1
    assert len(stored(sync_deps)) == 1


# -- the ops API -----------------------------------------------------------------------------------


@pytest.fixture
def carts(sync_deps, blink):
    add_cart(
        blink,
        created_at="2026-02-09 09:30:00",
        cart_value="12.50",
        customer={"name": '=HYPERLINK("http://evil.test","win")', "phone": "+923000000003"},
        cart_items=[
            {"dish_id": 1, "quantity": 2, "details": "@SUM(A1:A9)", "unit_price": "6.250", "total_price": "12.500"}
        ],
    )
    add_cart(blink, created_at="2026-02-07 09:00:00", customer={"name": "Earlier", "phone": "+923000000004"})
    sync_abandoned_carts(sync_deps, Context())
    return sync_deps


def test_the_carts_of_a_range_are_listed_page_by_page(carts):
    status, body, _ = ops("/ops/abandoned-carts", merchant=MERCHANT, **{"from": "2026-02-09", "to": "2026-02-09"})
    assert status == 200
    assert [c["created_at"] for c in body["carts"]] == ["2026-02-09T08:08:18Z", "2026-02-09T09:30:00Z"]
    assert body["carts"][1]["cart_value"] == "12.50"

    status, first, _ = ops("/ops/abandoned-carts", merchant=MERCHANT, limit="2", **{"from": "2026-02-01"})
    status, rest, _ = ops(
        "/ops/abandoned-carts", merchant=MERCHANT, limit="2", cursor=first["next_cursor"], **{"from": "2026-02-01"}
    )
    assert [c["customer_name"] for c in first["carts"] + rest["carts"]][0] == "Earlier"
    assert len(first["carts"] + rest["carts"]) == 3


def test_the_csv_export_has_a_header_exact_money_and_no_cell_a_spreadsheet_would_run(carts):
    status, text, headers = ops(
        "/ops/abandoned-carts.csv", merchant=MERCHANT, **{"from": "2026-02-09", "to": "2026-02-09"}
    )

    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "created_at",
        "merchant_id",
        "branch_id",
        "customer_name",
        "customer_phone",
        "cart_value",
        "item_count",
        "items",
        "notification_status",
        "notification_sent_at",
        "order_id",
        "cart_key",
    ]
    sample, risky = rows
    assert (sample["cart_value"], sample["customer_phone"]) == ("744", "+923300000009")
    assert risky["customer_name"] == '\'=HYPERLINK("http://evil.test","win")'
    assert risky["items"] == "2 x @SUM(A1:A9)" and risky["cart_value"] == "12.50" and risky["item_count"] == "2"
    # the same file through ?format=csv
    assert (
        ops("/ops/abandoned-carts", merchant=MERCHANT, format="csv", **{"from": "2026-02-09", "to": "2026-02-09"})[1]
        == text
    )


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, {"merchant"}),
        ({"merchant": "nobody"}, {"merchant"}),
        ({"merchant": MERCHANT, "from": "yesterday"}, {"from"}),
        ({"merchant": MERCHANT, "from": "2026-02-09", "to": "2026-02-01"}, {"from"}),
        ({"merchant": MERCHANT, "from": "2025-01-01", "to": "2026-02-01"}, {"from"}),
        ({"merchant": MERCHANT, "format": "xlsx", "limit": "0", "cursor": "!!"}, {"format", "limit", "cursor"}),
    ],
)
def test_a_bad_query_is_400_with_the_fields_reasons(carts, query, fields):
    status, body, _ = ops("/ops/abandoned-carts", **query)
    assert status == 400 and {e["field"] for e in body["errors"]} == fields
    if "limit" not in query and "cursor" not in query:
        assert ops("/ops/abandoned-carts.csv", **query)[0] == 400
