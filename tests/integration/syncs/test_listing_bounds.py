# ruff: noqa: F811 - the shared fixtures are imported from blink_records and named as arguments
"""Issue 13 point 1 for vendor answers: what Blink's branches, customers and abandoned-carts
answers say is bounded before the syncs store it — a bad entry is refused alone (counted, logged,
dead-lettered with its reason, nothing of it written) and the others are stored; free text too
long is cut with a marker. Through the sync Lambdas' handlers, with the Blink sandbox in-process
(its data altered as a faulty Blink would send it) and moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from orderbridge.models.config import Branch
from orderbridge.models.types import VENDOR_TEXT_MAX_LENGTH
from orderbridge.store.abandoned_carts import AbandonedCartStore
from orderbridge.store.branch_checks import BranchCheckStore
from orderbridge.store.customers import CustomerStore

from tests.integration.syncs.blink_records import (  # noqa: F401 - fixtures
    MERCHANT,
    NOW,
    blink,
    dead_letter_queue,
    dead_letters,
    fire,
    lambda_time,
    sync_deps,
)
from tests.integration.syncs.test_sync_abandoned_carts import add_cart

MARKER = "[... truncated by Orderbridge: 500000 characters in all]"


def config_rows(deps) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = deps.dynamodb.scan(TableName=deps.settings.config_table)["Items"]
    return items


def test_a_branch_with_an_overlong_id_is_refused_and_the_others_are_checked(sync_deps, blink, dead_letter_queue):
    # Given our branch 12345 and Blink's branches, one with a 5,000-character code, one with no code,
    # and 12345 with a 500 KB name and address
    sync_deps.config.put(Branch(branch_id="12345", merchant_id=MERCHANT, name="XYZ road", blink_id="50220"))
    blink.branches.append({"id": "7" * 5_000, "blink_id": 1, "branch": "Bad", "is_live": 1})
    blink.branches.append({"id": "  ", "blink_id": 2, "branch": "Blank", "is_live": 1})
    precinct = next(b for b in blink.branches if b["id"] == 12345)
    precinct.update(branch="N" * 500_000, branch_address="A" * 500_000)

    # When the branches sync runs
    report = fire("SyncBranchesFunction")

    # Then the two bad ones are refused, the others checked
    assert (report["failed"], report["refused"], report["finished"]) == (2, 2, True)
    letters = dead_letters(dead_letter_queue)
    assert sorted(m["error"] for m in letters) == ["EntryRefused", "EntryRefused"]
    assert all(m["item"].startswith(f"{MERCHANT}:branches[") and "7" * 100 not in m["item"] for m in letters)
    checks = {
        c.branch_id for c in BranchCheckStore(sync_deps.dynamodb, sync_deps.settings.config_table).of_merchant(MERCHANT)
    }
    assert checks == {"63", "64", "12345"}
    # And our branch took Blink's name and address, cut to what it holds, each saying so
    ours = sync_deps.config.branch("12345")
    assert len(ours.name) == 200 and ours.name.endswith(MARKER)
    assert len(ours.address) == VENDOR_TEXT_MAX_LENGTH and ours.address.endswith(MARKER)
    # and the configuration still reads (a name our model refuses would break every order of the branch)
    assert [b.branch_id for b in sync_deps.config.records(Branch)] == ["12345"]


def test_every_branch_refused_flags_no_branch_of_ours_vanished(sync_deps, blink, dead_letter_queue):
    # Given our branch and a Blink answer whose every entry is refused
    sync_deps.config.put(Branch(branch_id="12345", merchant_id=MERCHANT, name="XYZ road", blink_id="50220"))
    blink.branches[:] = [{"id": "", "blink_id": 1}]

    report = fire("SyncBranchesFunction")

    assert (report["failed"], report["refused"]) == (1, 1)
    checks = BranchCheckStore(sync_deps.dynamodb, sync_deps.settings.config_table).of_merchant(MERCHANT)
    assert [c.flag for c in checks] == []


def test_a_customer_with_an_overlong_phone_is_refused_and_a_huge_name_is_cut(sync_deps, blink, dead_letter_queue):
    # Given Blink's customers, one with a phone of 5,000 characters, one with a 500 KB name
    blink.customers[0]["phone"] = "+92" + "3" * 5_000
    blink.customers[1]["full_name"] = "Z" * 500_000

    # When the customers sync runs
    report = fire("SyncCustomersFunction")

    # Then the one with the phone is refused, the three others stored (the name cut, marked)
    assert (report["seen"], report["changed"], report["failed"], report["refused"]) == (4, 3, 1, 1)
    customers = CustomerStore(sync_deps.dynamodb, sync_deps.settings.config_table).of_merchant(MERCHANT)
    assert len(customers) == 3
    [cut] = [c for c in customers if (c.full_name or "").startswith("ZZZ")]
    assert len(cut.full_name) == VENDOR_TEXT_MAX_LENGTH and cut.full_name.endswith(MARKER)
    [letter] = dead_letters(dead_letter_queue)
    assert letter["error"] == "EntryRefused" and "phone" in letter["reason"] and "333333" not in json.dumps(letter)
    # And the cursor moved to the newest customer: the walk is complete
    assert json.loads(sync_deps.cursors.get("customers", MERCHANT).value)["skip"] == 0


def test_a_cart_with_a_nan_amount_or_an_overlong_dish_id_is_refused_and_the_others_are_stored(
    sync_deps, blink, dead_letter_queue
):
    # Given Blink's sample cart, one whose value is NaN, one with a 5,000-character dish id and one
    # whose line details are 500 KB
    add_cart(blink, created_at="2026-02-05 10:00:00", cart_value="NaN", customer={"phone": "+923000000001"})
    add_cart(
        blink,
        created_at="2026-02-06 10:00:00",
        customer={"phone": "+923000000002"},
        cart_items=[{"dish_id": "8" * 5_000, "quantity": 1}],
    )
    add_cart(
        blink,
        created_at="2026-02-07 10:00:00",
        customer={"phone": "+923000000003"},
        cart_items=[{"dish_id": 5, "quantity": 2, "details": "D" * 500_000, "unit_price": "1.5"}],
    )

    # When the abandoned-carts sync runs
    report = fire("SyncAbandonedCartsFunction")

    # Then two carts are stored (the details cut, marked), two refused with their reasons
    assert (report["changed"], report["failed"], report["refused"], report["finished"]) == (2, 2, 2, True)
    carts, _ = AbandonedCartStore(sync_deps.dynamodb, sync_deps.settings.config_table).between(
        MERCHANT, datetime(2020, 1, 1, tzinfo=UTC), NOW, limit=200
    )
    assert sorted(c.created_at.day for c in carts) == [7, 9]
    [cut] = [c for c in carts if c.created_at.day == 7]
    assert len(cut.lines[0].name) == VENDOR_TEXT_MAX_LENGTH and cut.lines[0].name.endswith(MARKER)
    reasons = sorted(m["reason"] for m in dead_letters(dead_letter_queue))
    assert any("cart_value" in r and "finite" in r for r in reasons)
    assert any("cart_items.0.dish_id" in r for r in reasons)
    # And nothing of theirs is in the table (no half-written record)
    assert not any("+923000000001" in json.dumps(row) or "8" * 200 in json.dumps(row) for row in config_rows(sync_deps))
