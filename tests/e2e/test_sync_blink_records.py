"""Blink's branches and abandoned carts on the local stack: the syncs fired now (as ``fire``
does), their results read through the ops API — the branches with their flags, the carts as the
CSV a recovery campaign downloads."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.e2e.flow import Flow

MERCHANT = "m-demo"


def test_an_abandoned_cart_in_blink_is_downloadable_as_csv_after_the_sync(flow: Flow) -> None:
    # Given a cart abandoned in Blink two hours ago by a customer named like a formula
    name = f"=cmd|{uuid.uuid4().hex[:8]}"
    created = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    flow.admin(
        "blink",
        "POST",
        "/_admin/abandoned-carts",
        json={"created_at": created, "cart_value": "99.950", "customer": {"name": name, "phone": "+923001234567"}},
    )
    day = created[:10]

    def row() -> dict[str, str] | None:
        answer = flow.ops("GET", "/abandoned-carts.csv", params={"merchant": MERCHANT, "from": day, "to": day})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        return next((r for r in rows if r["customer_name"] == "'" + name), None)

    # When the abandoned-carts sync runs, then the CSV has the cart: exact money, the formula quoted
    found = flow.fire_until("SyncAbandonedCartsFunction", row, "the cart in the CSV")
    assert (Decimal(found["cart_value"]), found["customer_phone"], found["merchant_id"]) == (
        Decimal("99.95"),
        "+923001234567",
        MERCHANT,
    )
    listed = flow.ops("GET", "/abandoned-carts", params={"merchant": MERCHANT, "from": day, "to": day}).json()
    assert [Decimal(c["cart_value"]) for c in listed["carts"] if c["customer_name"] == name] == [Decimal("99.95")]
    assert flow.ops("GET", "/abandoned-carts", params={"merchant": MERCHANT, "from": "soon"}).status_code == 400


def test_the_branches_sync_shows_blinks_branches_against_ours(flow: Flow) -> None:
    def checks() -> dict[str, Any] | None:
        answer = flow.ops("GET", "/branches", params={"merchant": MERCHANT})
        assert answer.status_code == 200, answer.text
        shown = {b["branch_id"]: b for b in answer.json()["branches"]}
        return shown if {"12345", "63", "64"} <= set(shown) else None

    shown = flow.fire_until("SyncBranchesFunction", checks, "the branch checks")
    assert {b: shown[b]["flag"] for b in ("12345", "63", "64")} == {"12345": None, "63": None, "64": None}
    assert shown["63"]["blink_id"] == "60001" and shown["63"]["configured"] is True
