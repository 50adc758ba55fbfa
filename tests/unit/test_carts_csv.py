"""The abandoned-carts CSV (``ops_records.carts_csv``): a header row, money as exact decimal text,
and no cell a spreadsheet would run as a formula (OWASP "CSV Injection")."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from orderbridge.models.blink_records import AbandonedCartRecord, CartLine
from orderbridge.ops_records import CSV_COLUMNS, carts_csv, safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        ("  =x", "'  =x"),
        ("+923300000009", "+923300000009"),  # a phone number stays as it is
        ("-12.50", "-12.50"),  # so does a negative amount
        (Decimal("0.10"), "0.10"),
        (Decimal("744"), "744"),
        ("Cappuccino", "Cappuccino"),
        (None, ""),
    ],
)
def test_a_cell_is_quoted_only_when_a_spreadsheet_would_run_it(value, cell):
    assert safe_cell(value) == cell


def test_the_file_has_a_header_and_one_row_per_cart_with_exact_money():
    cart = AbandonedCartRecord(
        merchant_id="m-demo",
        cart_key="k1",
        created_at=datetime(2026, 2, 9, 8, 8, 18, tzinfo=UTC),
        customer_name="Test User",
        customer_phone="+923300000009",
        cart_value=Decimal("744.10"),
        lines=[CartLine(dish_id="722688", name="Milk, 1 Ltr", quantity=2, unit_price=Decimal("142.000"))],
        synced_at=datetime(2026, 2, 10, tzinfo=UTC),
    )

    text = carts_csv([cart])

    header, row = list(csv.reader(io.StringIO(text)))
    assert header == list(CSV_COLUMNS)
    values = dict(zip(header, row, strict=True))
    assert values["cart_value"] == "744.10" and values["items"] == "2 x Milk, 1 Ltr" and values["item_count"] == "2"
    assert values["created_at"] == "2026-02-09T08:08:18+00:00" and values["branch_id"] == ""
