# ruff: noqa: F811 - the fixtures are imported from test_catalog and named as arguments
"""Issue 13 point 1 for vendor answers: what Blink's ``fetchMenu`` says is bounded before the
catalog sync stores it. Through the SyncCatalogFunction's handler, with the Blink sandbox
in-process (its menu altered as a faulty Blink would send it) and moto."""

from __future__ import annotations

import json

from orderbridge.models.types import VENDOR_TEXT_MAX_LENGTH

from tests.integration.syncs.test_catalog import (  # noqa: F401 - fixtures
    CAPPUCCINO,
    MERCHANT,
    blink,
    cat_deps,
    catalog_rows,
    clock,
    dead_letters,
    queue,
    sync_catalog,
)


def test_a_menu_with_a_huge_name_an_overlong_id_and_a_nan_price_stores_the_rest(cat_deps, blink, queue, caplog):
    # Given Blink's menu (9 items) with three more: a 500 KB name, a 5,000-character id, a NaN price
    blink.sandbox.menu += [
        {"id": "huge-name", "name": "Q" * 500_000, "price": "10.000", "category": []},
        {"id": "5" * 5_000, "name": "Long id", "price": "10.000", "category": []},
        {"id": "nan-price", "name": "Not a price", "price": "NaN", "category": []},
    ]

    # When the catalog sync runs
    report = sync_catalog()

    # Then it finished: the 9 items and the huge-named one stored (its name cut, marked), 2 refused
    assert (report["finished"], report["failed"], report["refused"]) == (True, 2, 2)
    items = cat_deps.catalog.items(MERCHANT)
    assert len(items) == 10 and "nan-price" not in items
    name = items["huge-name"].item.name
    assert len(name) == VENDOR_TEXT_MAX_LENGTH and name.endswith(
        "[... truncated by Orderbridge: 500000 characters in all]"
    )
    letters = dead_letters(queue)
    assert sorted(m["error"] for m in letters) == ["EntryRefused", "EntryRefused"]
    reasons = " | ".join(m["reason"] for m in letters)
    assert "price: " in reasons and "not a finite number" in reasons and "id: " in reasons
    # And nothing of the refused ones was written (no item, no history entry), no value logged
    rows = json.dumps(catalog_rows(), default=str)
    assert "5" * 200 not in rows and "nan-price" not in rows
    logged = json.dumps([record.__dict__ for record in caplog.records], default=str) + json.dumps(letters)
    assert "Q" * 100 not in logged and "5" * 200 not in logged


def test_a_stored_item_blink_now_sends_unreadable_is_kept_as_it_was_not_removed(cat_deps, blink, queue, clock):
    # Given a synced catalog
    sync_catalog()
    before = cat_deps.catalog.item(MERCHANT, CAPPUCCINO)
    clock.tick(60)

    # When Blink sends the cappuccino with a price that is no number
    blink.admin.patch(f"/_admin/menu/{CAPPUCCINO}", json={"price": "Infinity"})
    report = sync_catalog()

    # Then it is refused and the stored one is kept as it was (still counted as on the menu)
    assert (report["failed"], report["refused"], report["finished"]) == (1, 1, True)
    after = cat_deps.catalog.item(MERCHANT, CAPPUCCINO)
    assert after == before and not after.removed
    [letter] = dead_letters(queue)
    assert letter["item"].endswith(f"={CAPPUCCINO}") and letter["error"] == "EntryRefused"


def test_an_item_too_big_for_a_dynamodb_item_is_refused_alone(cat_deps, blink, queue):
    # Given an item whose modifiers, each name within bounds, add up to more than an item holds
    options = [{"id": f"o{n}", "name": "O" * 1_900, "price": "1"} for n in range(150)]
    modifier = {"id": "big-mod", "name": "Extras", "modifier_options": options}
    blink.sandbox.menu.append({"id": "too-big", "name": "Big", "price": "1", "category": [], "modifiers": [modifier]})

    report = sync_catalog()

    assert (report["finished"], report["failed"], report["refused"]) == (True, 1, 1)
    assert "too-big" not in cat_deps.catalog.items(MERCHANT) and len(cat_deps.catalog.items(MERCHANT)) == 9
    [letter] = dead_letters(queue)
    assert letter["error"] == "EntryRefused" and "fit a DynamoDB item" in letter["reason"]
