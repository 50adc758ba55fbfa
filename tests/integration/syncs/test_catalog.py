"""Catalog sync (SyncCatalogFunction) and stock and price push (PushStockAndPriceFunction), through
their Lambda handlers and the ops API, against the Blink sandbox served in-process (moto for AWS).

Issue 10, points 6 and 7: a menu change in Blink (item added, price changed, item removed) appears
in the catalog and its history; a partner mapping to the removed item is flagged; a stock change set
through the ops API reaches Blink, stays pending while Blink fails and goes through after; runs
that stop for time continue from their cursor; two runs at once change nothing more than one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from threading import Barrier, Thread
from typing import Any

import httpx
import pytest
from orderbridge import aws as aws_clients
from orderbridge.config import get_settings
from orderbridge.deps import Deps, get_deps
from orderbridge.models.config import Branch, ItemMapping, Merchant
from orderbridge.syncs.runner import SyncRun
from orderbridge.vendors.clients import VendorClients
from orderbridge.vendors.credentials import VendorCredentials
from orderbridge_local.sandboxes.blink import BlinkSandbox, BlinkSettings

from tests.conftest import table_items
from tests.support.apigw import LambdaContext, handler_module, invoke, proxy_event

MERCHANT = "m-cat"
BRANCH = "12345"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CHICKEN, CAPPUCCINO, MILK, CHILLED = "1567138", "c0ffee000001", "257327", "596996"
CREDENTIALS = VendorCredentials.model_validate(
    {"merchant_id": MERCHANT, "blink": {"username": "orderbridge", "password": "blink-sandbox-password"}}
)


class Blink:
    """The Blink sandbox in-process: its vendor API for our client, its admin routes for the test."""

    def __init__(self) -> None:
        self.sandbox = BlinkSandbox(BlinkSettings(webhook_mode="sync"))
        self.transport = httpx.WSGITransport(app=self.sandbox)
        self.admin = httpx.Client(transport=self.transport, base_url="http://blink.sandbox")

    def menu(self) -> dict[str, dict[str, Any]]:
        return {item["id"]: item for item in self.admin.get("/_admin/menu").json()}

    def stock_pushes(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests_log() if r["path"].endswith("/syncStockAndPrice")]


@pytest.fixture
def blink() -> Iterator[Blink]:
    blink = Blink()
    yield blink
    blink.admin.close()


@pytest.fixture
def queue(aws, monkeypatch) -> str:
    url: str = aws_clients.client("sqs").create_queue(QueueName="catalog-dlq")["QueueUrl"]
    monkeypatch.setenv("SYNC_DEAD_LETTER_QUEUE_URL", url)
    return url


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cat_deps(queue, blink, clock) -> Deps:
    """The container the handlers use (get_deps): moto, the Blink sandbox, a clock the test moves;
    a merchant with branch 12345 and a partner's mappings to three of the sandbox's menu items."""
    get_settings.cache_clear()
    get_deps.cache_clear()
    deps = get_deps()
    deps.clock = clock
    settings = deps.settings.model_copy(
        update={"vendors": deps.settings.vendors.model_copy(update={"max_attempts": 1})}
    )
    deps.vendors = VendorClients(settings, transport=blink.transport, credentials=lambda merchant_id: CREDENTIALS)
    deps.config.put(
        Merchant(merchant_id=MERCHANT, name="Catalog Cafe"),
        Branch(branch_id=BRANCH, merchant_id=MERCHANT, name="XYZ road", blink_id="50220"),
        Branch(branch_id="elsewhere", merchant_id="m-other", name="Not ours"),
        *(
            ItemMapping(
                partner_id="demo-partner",
                merchant_id=MERCHANT,
                kind=kind,
                partner_item_id=partner_item_id,
                product_id=f"prod-{partner_item_id}",
                blink_id=blink_id,
            )
            for kind, partner_item_id, blink_id in (
                ("item", "p-chicken", CHICKEN),
                ("item", "p-cappuccino", CAPPUCCINO),
                ("option", "p-chilled", CHILLED),
            )
        ),
    )
    return deps


def run(function: str) -> dict[str, Any]:
    """One run of a sync Lambda through its handler."""
    answer: dict[str, Any] = handler_module(function).lambda_handler({}, LambdaContext(function_name=function))
    return answer


def sync_catalog() -> dict[str, Any]:
    return run("SyncCatalogFunction")


def push() -> dict[str, Any]:
    return run("PushStockAndPriceFunction")


def ops(method: str, path: str, body: Any = None, **query: str) -> Any:
    return invoke("OpsApiFunction", proxy_event(method, path, body=body, query=query or None, api_key="k"))


def dead_letters(url: str) -> list[dict[str, Any]]:
    answer = aws_clients.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def catalog_rows() -> list[dict[str, Any]]:
    return sorted(
        (row for row in table_items("ConfigTable") if row["pk"].startswith("CATALOG#")), key=lambda r: r["sk"]
    )


def stop_after(monkeypatch: pytest.MonkeyPatch, checks: int) -> None:
    """The run's time runs out after ``checks`` calls of ``time_left`` (the runner's own time
    keeping is tested in test_runner.py)."""
    real = SyncRun.time_left
    calls = {"n": 0}

    def time_left(self: SyncRun) -> bool:
        calls["n"] += 1
        if calls["n"] > checks:
            self.report.finished = False
            return False
        return real(self)

    monkeypatch.setattr(SyncRun, "time_left", time_left)


# --------------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------------


def test_the_first_run_reads_every_page_into_the_catalog(cat_deps, blink):
    # Given Blink's menu: 9 items on 5 pages of 2 (as the doc's sample)
    # When the catalog sync runs
    report = sync_catalog()

    # Then every item is in the catalog with Decimal prices, its modifiers and options
    assert report["finished"] is True and report["failed"] == 0
    catalog = ops("GET", f"/ops/catalog/{MERCHANT}")
    assert catalog.status == 200
    items = {entry["item"]["item_id"]: entry["item"] for entry in catalog.body["items"]}
    assert set(items) == set(blink.menu()) and len(items) == 9
    milk = cat_deps.catalog.item(MERCHANT, MILK)
    assert milk is not None and milk.item.price == Decimal("110.000") and milk.item.discount_price == Decimal("85")
    assert [o.id for m in milk.item.modifiers for o in m.options] == [CHILLED]
    # And each was added to the history by the sync, and no mapping is flagged
    history = cat_deps.catalog.history(MERCHANT)
    assert [(c.kind.value, c.by) for c in history] == [("added", "blink:fetchMenu")] * 9
    assert catalog.body["flags"] == [] and catalog.body["pending"] == []


def test_a_menu_change_appears_in_the_catalog_and_its_history_and_flags_the_mappings(cat_deps, blink, clock):
    # Given the catalog as Blink's menu was
    sync_catalog()
    clock.tick(60)

    # When the restaurant adds an item, changes a price and removes an item in Blink
    assert blink.admin.post("/_admin/menu", json={"id": "new-1", "name": "Flat White", "price": "520.000"}).is_success
    assert blink.admin.patch(f"/_admin/menu/{CAPPUCCINO}", json={"price": "480.000"}).is_success
    assert blink.admin.delete(f"/_admin/menu/{CHICKEN}").is_success
    report = sync_catalog()

    # Then the catalog shows the new menu
    assert (report["changed"], report["failed"]) == (4, 0)  # 3 items and the flags
    live = {e["item"]["item_id"]: e["item"] for e in ops("GET", f"/ops/catalog/{MERCHANT}").body["items"]}
    assert "new-1" in live and CHICKEN not in live and live[CAPPUCCINO]["price"] == "480.000"
    removed = ops("GET", f"/ops/catalog/{MERCHANT}", include="removed").body["items"]
    assert [e["removed"] for e in removed if e["item"]["item_id"] == CHICKEN] == [True]
    # And the history says what changed, when, by whom, before and after
    changes = [c for c in cat_deps.catalog.history(MERCHANT) if c.at == clock.now]
    by_item = {c.item_id: c for c in changes}
    assert {c.item_id: c.kind.value for c in changes} == {"new-1": "added", CAPPUCCINO: "changed", CHICKEN: "removed"}
    price = by_item[CAPPUCCINO]
    assert price.fields == ["price"] and price.by == "blink:fetchMenu"
    assert (price.before.price, price.after.price) == (Decimal("450.000"), Decimal("480.000"))
    assert by_item[CHICKEN].before.name == "Chicken Bites 8 Pcs" and by_item[CHICKEN].after is None
    one_item = ops("GET", f"/ops/catalog/{MERCHANT}/history", item_id=CAPPUCCINO).body["changes"]
    assert [(c["kind"], c["version"]) for c in one_item] == [("added", 1), ("changed", 2)]
    # And the mapping to the removed item is flagged missing, the one to the re-priced item re-priced
    flags = ops("GET", f"/ops/catalog/{MERCHANT}/flags").body["flags"]
    assert {(f["partner_item_id"], f["reason"]) for f in flags} == {
        ("p-chicken", "item_missing"),
        ("p-cappuccino", "price_changed"),
    }
    repriced = next(f for f in flags if f["reason"] == "price_changed")
    assert (repriced["price_before"], repriced["price_after"]) == ("450.000", "480.000")


def test_a_second_run_without_a_menu_change_writes_nothing(cat_deps, blink):
    # Given a synced catalog (with a flag: a mapping to an item Blink does not have)
    cat_deps.config.put(
        ItemMapping(
            partner_id="demo-partner",
            merchant_id=MERCHANT,
            kind="item",
            partner_item_id="p-ghost",
            product_id="prod-ghost",
            blink_id="no-such-item",
        )
    )
    sync_catalog()
    before = catalog_rows()
    assert [r["reason"] for r in before if r["sk"].startswith("FLAG#")] == ["item_missing"]

    # When the sync runs again and nothing changed at Blink
    report = sync_catalog()

    # Then nothing is written
    assert (report["seen"] > 0, report["changed"], report["failed"]) == (True, 0, 0)
    assert catalog_rows() == before


def test_a_flag_cleared_by_a_person_whose_cause_remains_is_raised_again(cat_deps, blink):
    blink.admin.delete(f"/_admin/menu/{CHICKEN}")
    sync_catalog()
    flag_id = "demo-partner:item:p-chicken:item_missing"
    assert ops("DELETE", f"/ops/catalog/{MERCHANT}/flags/{flag_id}").status == 200
    assert ops("DELETE", f"/ops/catalog/{MERCHANT}/flags/{flag_id}").status == 404
    sync_catalog()
    assert [f["flag_id"] for f in ops("GET", f"/ops/catalog/{MERCHANT}/flags").body["flags"]] == [flag_id]
    # and one that is gone (the item is back) is cleared by the sync
    blink.admin.post("/_admin/menu", json={"id": CHICKEN, "name": "Chicken Bites 8 Pcs", "price": "23.000"})
    sync_catalog()
    assert ops("GET", f"/ops/catalog/{MERCHANT}/flags").body["flags"] == []


def test_a_pass_that_runs_out_of_time_continues_from_its_page_and_its_misses_are_confirmed_by_the_next(
    cat_deps, blink, monkeypatch, clock
):
    # Given a synced catalog, then an item removed in Blink
    sync_catalog()
    blink.admin.delete(f"/_admin/menu/{CHICKEN}")  # the menu now has 8 items on 4 pages

    # When a run's time runs out after two pages
    stop_after(monkeypatch, checks=3)  # the scope, page 1, page 2
    clock.tick(5)
    first = sync_catalog()

    # Then it stops unfinished, its cursor at page 3 of the same pass, nothing removed yet
    assert first["finished"] is False
    cursor = cat_deps.cursors.get("catalog", MERCHANT)
    assert cursor.value is not None and cursor.value.endswith("|3")
    assert cat_deps.catalog.item(MERCHANT, CHICKEN).removed is False

    # When the next run has time
    monkeypatch.undo()
    clock.tick(5)
    second = sync_catalog()

    # Then it reads from page 3 on and finishes the pass; the item it missed is a suspect only
    assert second["finished"] is True and second["lag_seconds"] == 300.0  # the pass began 5 minutes ago
    assert cat_deps.cursors.get("catalog", MERCHANT).value is None
    assert not [r for r in catalog_rows() if r["sk"].startswith("PASS#")]
    assert cat_deps.catalog.item(MERCHANT, CHICKEN).removed is False
    assert cat_deps.catalog.suspects(MERCHANT) == {CHICKEN}

    # When the next pass misses it too
    sync_catalog()

    # Then it is removed, and only it
    stored = cat_deps.catalog.items(MERCHANT)
    assert [i for i, s in stored.items() if s.removed] == [CHICKEN]
    assert cat_deps.catalog.suspects(MERCHANT) == set()


def test_an_item_a_shifted_menu_hid_from_a_pass_is_not_removed(cat_deps, blink, monkeypatch):
    # Given a synced catalog, and a pass that read pages 1 and 2 and ran out of time
    sync_catalog()
    stop_after(monkeypatch, checks=3)
    sync_catalog()
    monkeypatch.undo()

    # When the first item is removed in Blink meanwhile: every item moves up one place, and the
    # first of page 3 (Chicken Bites) moves to page 2, which the pass has read
    first = next(iter(blink.menu()))
    blink.admin.delete(f"/_admin/menu/{first}")
    sync_catalog()  # the rest of the pass: it never read Chicken Bites
    assert cat_deps.catalog.suspects(MERCHANT) == {CHICKEN}
    sync_catalog()  # the next pass, in one run

    # Then the item that really went is removed, the one the pass missed is not
    removed = [c.item_id for c in cat_deps.catalog.history(MERCHANT) if c.kind.value == "removed"]
    assert removed == [first]
    assert cat_deps.catalog.item(MERCHANT, CHICKEN).removed is False
    assert cat_deps.catalog.suspects(MERCHANT) == set()


def test_two_catalog_runs_at_once_change_nothing_more_than_one(cat_deps, blink, clock):
    # Given a menu change in Blink
    sync_catalog()
    clock.tick(10)
    blink.admin.patch(f"/_admin/menu/{CAPPUCCINO}", json={"price": "499.000"})
    blink.admin.delete(f"/_admin/menu/{CHICKEN}")

    # When two runs go at once
    reports = both_at_once(sync_catalog)

    # Then each change is recorded once
    assert sum(r["changed"] for r in reports) in (3, 4)  # 2 items + flags, the flags once or by each
    later = [c for c in cat_deps.catalog.history(MERCHANT) if c.at == clock.now]
    assert sorted((c.item_id, c.kind.value) for c in later) == [(CHICKEN, "removed"), (CAPPUCCINO, "changed")]
    assert cat_deps.catalog.item(MERCHANT, CAPPUCCINO).version == 2


def both_at_once(work: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    barrier = Barrier(2)
    reports: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def go() -> None:
        barrier.wait()
        try:
            reports.append(work())
        except BaseException as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)

    threads = [Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(reports) == 2
    return reports


# --------------------------------------------------------------------------------------------------
# Stock and price
# --------------------------------------------------------------------------------------------------


def set_stock(item_id: str, **body: Any) -> Any:
    return ops("PUT", f"/ops/catalog/{MERCHANT}/items/{item_id}", body={"branch_id": BRANCH, **body})


def test_a_stock_change_set_through_the_ops_api_reaches_blink(cat_deps, blink):
    # Given the catalog
    sync_catalog()

    # When a person sets the stock and price of an item at branch 12345
    answer = set_stock(MILK, stock_quantity=3, price="99.500")
    assert answer.status == 202
    assert (answer.body["version"], answer.body["pushed_version"], answer.body["set_by"]) == (1, 0, "ops-api")
    assert [p["item_id"] for p in ops("GET", f"/ops/catalog/{MERCHANT}").body["pending"]] == [MILK]
    report = push()

    # Then Blink has it, with the item's own price, and it is no longer pending
    assert (report["changed"], report["failed"]) == (1, 0)
    [request] = blink.stock_pushes()
    [product] = request["body"]["products"]
    assert product["id"] == MILK and Decimal(str(product["price"])) == Decimal("110")
    assert product["branches"] == [{"id": BRANCH, "price": 99.5, "stock_quantity": 3}]
    assert blink.menu()[MILK]["branches"] == [{"id": BRANCH, "price": 99.5, "stock_quantity": 3}]
    assert ops("GET", f"/ops/catalog/{MERCHANT}").body["pending"] == []
    # And the next catalog sync sees it on the menu
    sync_catalog()
    branch = cat_deps.catalog.item(MERCHANT, MILK).item.branch(BRANCH)
    assert branch is not None and (branch.stock_quantity, branch.price) == (3, Decimal("99.5"))
    # And a push with nothing pending sends nothing
    assert push()["seen"] == 0 and len(blink.stock_pushes()) == 1


def test_a_bad_stock_change_is_refused_with_its_field_reasons(cat_deps, blink):
    sync_catalog()
    bad = set_stock(MILK, stock_quantity=-1, colour="red")
    assert bad.status == 422
    assert {e["field"] for e in bad.body["errors"]} == {"stock_quantity", "colour"}
    nothing = ops("PUT", f"/ops/catalog/{MERCHANT}/items/{MILK}", body={"branch_id": BRANCH})
    assert nothing.status == 422 and "at least one" in nothing.body["errors"][0]["reason"]
    not_json = ops("PUT", f"/ops/catalog/{MERCHANT}/items/{MILK}", body="stock=3")
    assert not_json.status == 400
    other_branch = ops(
        "PUT", f"/ops/catalog/{MERCHANT}/items/{MILK}", body={"branch_id": "elsewhere", "stock_quantity": 1}
    )
    assert other_branch.status == 422 and other_branch.body["errors"][0]["field"] == "branch_id"
    unknown_item = set_stock("no-such-item", stock_quantity=1)
    assert unknown_item.status == 404 and unknown_item.body["errors"][0]["field"] == "item_id"
    unknown_merchant = ops("PUT", f"/ops/catalog/nobody/items/{MILK}", body={"branch_id": BRANCH, "stock_quantity": 1})
    assert unknown_merchant.status == 404
    assert cat_deps.catalog.changes(MERCHANT) == []


def test_with_blink_failing_the_change_stays_pending_and_goes_through_after(cat_deps, blink, queue):
    # Given a stock change set, and Blink failing its syncStockAndPrice
    sync_catalog()
    set_stock(CAPPUCCINO, stock_quantity=0)
    blink.sandbox.set_faults({"error_rate": 1.0, "status_code": 503, "paths": ["/interface/v1/syncStockAndPrice"]})

    # When the push runs
    failed = push()

    # Then the change stays pending, with its error, and the item is dead-lettered for a person
    assert (failed["changed"], failed["failed"]) == (0, 1)
    [pending] = cat_deps.catalog.changes(MERCHANT)
    assert pending.pending and pending.attempts >= 1 and "RetryableVendorError" in (pending.last_error or "")
    assert [(m["sync"], m["item"]) for m in dead_letters(queue)] == [
        ("stock_and_price", f"{MERCHANT}/item/{CAPPUCCINO}")
    ]
    assert blink.menu()[CAPPUCCINO]["branches"] == []

    # When the fault clears and the push runs again
    blink.sandbox.set_faults(None)
    report = push()

    # Then it goes through
    assert (report["changed"], report["failed"]) == (1, 0)
    assert blink.menu()[CAPPUCCINO]["branches"] == [{"id": BRANCH, "stock_quantity": 0}]
    [pushed] = cat_deps.catalog.changes(MERCHANT)
    assert not pushed.pending and pushed.last_error is None and pushed.attempts == 0


def test_a_change_set_while_its_push_is_in_flight_is_not_lost(cat_deps, blink, monkeypatch):
    # Given a stock change (version 1), and a person who sets another while it is being pushed
    sync_catalog()
    set_stock(MILK, stock_quantity=5)
    client = cat_deps.vendors.blink(MERCHANT)
    real = client.sync_stock_and_price

    def meanwhile(sync: Any) -> Any:
        answer = real(sync)
        set_stock(MILK, stock_quantity=2)  # version 2, set before version 1 is marked pushed
        return answer

    monkeypatch.setattr(client, "sync_stock_and_price", meanwhile)

    # When the push runs
    push()

    # Then version 1 is pushed and version 2 is still pending
    [row] = cat_deps.catalog.changes(MERCHANT)
    assert (row.version, row.pushed_version, row.stock_quantity) == (2, 1, 2)
    assert blink.menu()[MILK]["branches"] == [{"id": BRANCH, "stock_quantity": 5}]

    # And the next run pushes it
    monkeypatch.undo()
    push()
    assert blink.menu()[MILK]["branches"] == [{"id": BRANCH, "stock_quantity": 2}]
    assert not cat_deps.catalog.changes(MERCHANT)[0].pending


def test_two_pushes_at_once_send_each_change_once(cat_deps, blink):
    sync_catalog()
    set_stock(MILK, stock_quantity=7)
    set_stock(CAPPUCCINO, stock_quantity=1, is_active=False)

    reports = both_at_once(push)

    assert sum(r["changed"] for r in reports) == 2 and sum(r["failed"] for r in reports) == 0
    pushed = sorted(product["id"] for request in blink.stock_pushes() for product in request["body"]["products"])
    assert pushed == sorted([MILK, CAPPUCCINO])
    assert not [c for c in cat_deps.catalog.changes(MERCHANT) if c.pending]


def test_a_push_sends_every_branch_blink_shows_for_the_item_with_the_change_on_top(cat_deps, blink):
    # Given an item Blink shows at branch 12345 with stock 4, and a second branch of the merchant
    cat_deps.config.put(Branch(branch_id="63", merchant_id=MERCHANT, name="Clifton-Block 4", blink_id="60001"))
    blink.admin.patch(
        f"/_admin/menu/{MILK}", json={"branches": [{"id": BRANCH, "is_active": True, "stock_quantity": 4}]}
    )
    sync_catalog()

    # When a person sets the stock at the second branch only
    ops("PUT", f"/ops/catalog/{MERCHANT}/items/{MILK}", body={"branch_id": "63", "stock_quantity": 9})
    push()

    # Then the request keeps branch 12345 as Blink showed it (the doc does not say whether a branch
    # left out keeps its values)
    [product] = blink.stock_pushes()[-1]["body"]["products"]
    assert product["branches"] == [
        {"id": BRANCH, "is_active": True, "stock_quantity": 4},
        {"id": "63", "stock_quantity": 9},
    ]


def test_a_push_blink_does_not_accept_stays_pending(cat_deps, blink, queue):
    # Given a change for an item that has since left Blink's menu (the catalog has not seen it yet)
    sync_catalog()
    set_stock(CHICKEN, stock_quantity=2)
    blink.admin.delete(f"/_admin/menu/{CHICKEN}")

    # When the push runs, Blink answers 200 naming it not found
    report = push()

    # Then it is not marked pushed
    assert (report["changed"], report["failed"]) == (0, 1)
    [row] = cat_deps.catalog.changes(MERCHANT)
    assert row.pending and "StockPushRefused" in (row.last_error or "")


def test_a_menu_item_without_an_id_is_left_out(cat_deps, blink):
    # Given the doc's own sample item, whose id is ""
    blink.sandbox.menu.append({"id": "", "name": "Parisian Platter", "price": "7199.980", "category": []})

    report = sync_catalog()

    assert report["failed"] == 0
    assert "" not in cat_deps.catalog.items(MERCHANT) and len(cat_deps.catalog.items(MERCHANT)) == 9
    # and it still counts against Blink's total_items: a removal is seen
    blink.admin.delete(f"/_admin/menu/{CHICKEN}")
    sync_catalog()
    assert cat_deps.catalog.item(MERCHANT, CHICKEN).removed is True


def test_an_item_another_run_is_pushing_is_left_to_it_until_its_lease_ends(cat_deps, blink, clock):
    # Given a pending change that another run holds (it is pushing it)
    sync_catalog()
    set_stock(MILK, stock_quantity=6)
    [row] = cat_deps.catalog.changes(MERCHANT)
    assert cat_deps.catalog.claim(row, run_id="the-other-run", now=clock.now) is not None

    # When this run pushes, then it leaves the item alone
    report = push()
    assert (report["changed"], report["failed"], blink.stock_pushes()) == (0, 0, [])

    # When the other run died and its lease ran out, then the next run pushes it
    clock.tick(3)
    assert push()["changed"] == 1
    assert blink.menu()[MILK]["branches"] == [{"id": BRANCH, "stock_quantity": 6}]
