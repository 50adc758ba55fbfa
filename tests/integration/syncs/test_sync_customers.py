# ruff: noqa: F811 - the shared fixtures are imported from blink_records and named as arguments
"""Customers sync (``syncs/customers.py``): Blink's customers created since the cursor, stored per
merchant with only what recovery and support need, with the Blink sandbox served in-process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from threading import Barrier, Thread
from typing import Any

from orderbridge.errors import ServiceUnavailable
from orderbridge.store.customers import CustomerStore
from orderbridge.syncs.customers import CustomersCursor, sync_customers

from tests.integration.syncs.blink_records import (  # noqa: F401 - fixtures
    MERCHANT,
    Context,
    blink,
    blink_requests,
    dead_letter_queue,
    dead_letters,
    fire,
    lambda_time,
    sync_deps,
)

FUNCTION = "SyncCustomersFunction"


def stored(deps) -> dict[str, Any]:
    customers = CustomerStore(deps.dynamodb, deps.settings.config_table).of_merchant(MERCHANT)
    return {c.phone: c for c in customers}


def new_customer(name: str, phone: str, created: str) -> dict[str, Any]:
    return {
        "full_name": name,
        "phone": phone,
        "gender": "Female",
        "date_of_birth": "2000-01-01",
        "created_at": created,
        "email": f"{name.split()[0].lower()}@example.com",
        "wallet_balance": "5",
        "loyalty_points": "7",
    }


def test_the_first_run_stores_every_customer_with_only_what_recovery_needs(sync_deps):
    report = fire(FUNCTION)

    customers = stored(sync_deps)
    assert set(customers) == {"+923300000000", "+923331234567", "+923009876543", "+923451112223"}
    ayesha = customers["+923331234567"]
    assert (ayesha.full_name, ayesha.email) == ("Ayesha Khan", "ayesha.khan@example.com")
    assert ayesha.created_at == datetime(2023, 3, 15, 10, 30, tzinfo=UTC)
    # no gender, birth date, wallet or loyalty figures are kept, and no phone is part of a key
    item = sync_deps.dynamodb.get_item(
        TableName=sync_deps.settings.config_table,
        Key={"pk": {"S": f"CUSTOMER#{MERCHANT}"}, "sk": {"S": f"KEY#{ayesha.customer_key}"}},
    )["Item"]
    assert not {"gender", "date_of_birth", "wallet_balance", "loyalty_points"} & set(item)
    assert "923331234567" not in ayesha.customer_key
    # the cursor is the newest customer's creation time
    cursor = CustomersCursor.read(sync_deps.cursors.get("customers", MERCHANT).value)
    assert cursor.after == datetime(2024, 6, 1, 8, 0, tzinfo=UTC) and cursor.skip == 0
    assert (report["seen"], report["changed"], report["failed"], report["finished"]) == (4, 4, 0, True)


def test_the_next_run_asks_from_the_cursor_and_stores_only_the_new_customer(sync_deps, blink):
    sync_customers(sync_deps, Context())
    # Given a customer created after the last run
    blink.customers.append(new_customer("Zara Shah", "+923001111111", "2024-07-01 09:00:00"))

    report = sync_customers(sync_deps, Context())

    # Then Blink was asked for the customers created after the cursor (less the overlap)
    asked = blink_requests(blink, "/interface/v1/customers")[-1]["query"]
    assert asked["created_at"] == "2024-06-01 07:55:00"
    # (the overlap reads the newest known customer again: seen, not changed)
    assert (report.seen, report.changed) == (2, 1)
    assert "+923001111111" in stored(sync_deps)
    # and once more changes nothing
    assert sync_customers(sync_deps, Context()).changed == 0


def test_a_run_short_of_time_stops_and_the_next_goes_on_from_where_it_stopped(sync_deps, blink, lambda_time):
    # Given one customer per page, each Blink answer taking 2 s of a Lambda with 9 s left (3 s margin)
    blink.configure(customers_per_page=1)
    lambda_time.per_request = 2.0

    first = sync_customers(sync_deps, Context(9))

    assert first.finished is False and 0 < first.changed < 4
    cursor = CustomersCursor.read(sync_deps.cursors.get("customers", MERCHANT).value)
    assert cursor.after is None and cursor.skip == first.changed

    # When the next runs have time
    second = sync_customers(sync_deps, Context(60))

    # Then they go on after what the first did: every customer stored once
    assert second.finished is True and first.changed + second.changed == 4
    assert len(stored(sync_deps)) == 4


def test_two_runs_at_once_store_each_customer_once(sync_deps, monkeypatch):
    # Given two runs that both read the cursor before either moves it
    barrier = Barrier(2)
    reports: list[Any] = []
    read = CustomersCursor.read

    def read_then_wait(value: str | None) -> CustomersCursor:
        cursor = read(value)
        barrier.wait(timeout=10)
        return cursor

    monkeypatch.setattr(CustomersCursor, "read", staticmethod(read_then_wait))

    def run() -> None:
        reports.append(sync_customers(sync_deps, Context()))

    threads = [Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each customer was stored once between them, and the cursor moved once
    assert len(reports) == 2 and sum(r.changed for r in reports) == 4
    assert sync_deps.cursors.get("customers", MERCHANT).version == 1
    assert sorted(r.finished for r in reports) == [False, True]


def test_a_customer_that_cannot_be_stored_is_retried_then_dead_lettered_without_personal_data(
    sync_deps, dead_letter_queue, monkeypatch, capsys
):
    keep = CustomerStore.keep

    def flaky(self, customer):
        if customer.full_name == "Bilal Ahmed":
            raise ServiceUnavailable("could not record the customer (ProvisionedThroughputExceeded); please retry")
        return keep(self, customer)

    monkeypatch.setattr(CustomerStore, "keep", flaky)

    report = sync_customers(sync_deps, Context())

    assert (report.seen, report.changed, report.failed) == (4, 3, 1)
    letters = dead_letters(dead_letter_queue)
    assert [m["error"] for m in letters] == ["ServiceUnavailable"]
    logged = capsys.readouterr().out + json.dumps(letters)
    for personal in ("923009876543", "Bilal", "bilal.ahmed@example.com"):
        assert personal not in logged
