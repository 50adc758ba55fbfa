"""Issue 13 point 1 for vendor answers (``models/types.py``, ``models/blink.py``,
``models/catalog.py``, ``syncs/runner.py``): what a vendor answers is bounded before it is stored —
ids within DynamoDB's key limits and not empty, short codes refused when longer than any real one,
free text cut to a documented cap with a marker, numbers finite, entries of a list refused alone."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from orderbridge.models.blink import (
    BRANCH_NAME_MAX_LENGTH,
    BlinkAbandonedCartsResponse,
    BlinkBranchesResponse,
    BlinkCustomersResponse,
    BlinkMenuPage,
    BlinkOrderDetails,
    BlinkOrderListResponse,
    BlinkOrderSummary,
)
from orderbridge.models.bloqit import Rent as BloqitRent
from orderbridge.models.catalog import CatalogItem
from orderbridge.models.dispatchninja import DispatchNinjaOrderDetails
from orderbridge.models.types import (
    ID_MAX_LENGTH,
    VENDOR_CODE_MAX_LENGTH,
    VENDOR_TEXT_MAX_LENGTH,
    RefusedEntry,
    cap_text,
    split_entries,
)
from orderbridge.syncs.runner import EntryRefused, SyncRun, check_fits
from orderbridge.vendors.http import PermanentVendorError
from pydantic import ValidationError

ORDER = {"id": "988309", "status": "PENDING", "total": "66.67", "items": [{"item_id": "a1", "quantity": 1}]}


def order(**changes: Any) -> dict[str, Any]:
    return {**ORDER, **changes}


# -- free text: cut, marked, logged ------------------------------------------------------------------


def test_free_text_over_the_cap_is_cut_to_it_ending_with_the_marker_and_logged_without_the_text(caplog):
    caplog.set_level(logging.WARNING)
    details = BlinkOrderDetails.model_validate(order(instruction="k" * 500_000, customer_name="Ayesha"))

    assert len(details.instruction) == VENDOR_TEXT_MAX_LENGTH
    assert details.instruction.startswith("kkk")
    assert details.instruction.endswith("[... truncated by Orderbridge: 500000 characters in all]")
    assert details.customer_name == "Ayesha"  # short text as it was
    [record] = [r for r in caplog.records if r.getMessage() == "vendor text truncated"]
    assert (record.field, record.length, record.kept, record.truncated) == ("instruction", 500_000, 2_000, True)
    assert "kkkk" not in json.dumps(record.__dict__, default=str)


def test_text_at_the_cap_is_kept_whole():
    assert cap_text("x" * VENDOR_TEXT_MAX_LENGTH) == "x" * VENDOR_TEXT_MAX_LENGTH


def test_a_lone_surrogate_in_free_text_becomes_the_replacement_character():
    details = BlinkOrderDetails.model_validate(order(instruction="bell \ud800 broken"))
    assert details.instruction == "bell \ufffd broken"
    details.instruction.encode("utf-8")  # DynamoDB can store it


def test_a_blink_branch_name_is_cut_to_what_our_branch_holds_once():
    answer = BlinkBranchesResponse.model_validate({"data": [{"id": 63, "branch": "N" * 5_000}]})
    [branch] = answer.data
    assert len(branch.branch) == BRANCH_NAME_MAX_LENGTH
    assert branch.branch.endswith("[... truncated by Orderbridge: 5000 characters in all]")


# -- ids and codes: refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "1" * (ID_MAX_LENGTH + 1)}, "id"),
        ({"id": ""}, "id"),
        ({"id": "   "}, "id"),
        ({"id": "12\ud800"}, "id"),
        ({"customer_phone": "3" * (VENDOR_CODE_MAX_LENGTH + 1)}, "customer_phone"),
        ({"status": "S" * 5_000}, "status"),
        ({"total": "NaN"}, "total"),
        ({"total": "Infinity"}, "total"),
        ({"total": "1e30"}, "total"),
        ({"latitude": "-inf"}, "latitude"),
        ({"items": [{"item_id": "a1", "quantity": 10_000_000}]}, "items.0.quantity"),
        ({"items": [{"item_id": "", "quantity": 1}]}, "items.0.item_id"),
    ],
)
def test_an_id_code_or_number_out_of_bounds_refuses_the_answer_naming_the_field(changes, field):
    with pytest.raises(ValidationError) as refused:
        BlinkOrderDetails.model_validate(order(**changes))
    assert field in [".".join(str(p) for p in e["loc"]) for e in refused.value.errors()]


def test_an_id_at_the_limit_and_an_int_id_are_accepted():
    assert BlinkOrderDetails.model_validate(order(id="1" * ID_MAX_LENGTH)).id == "1" * ID_MAX_LENGTH
    assert BlinkOrderDetails.model_validate(order(id=988309)).id == "988309"


# -- lists: each entry alone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "wrap", "good", "bad"),
    [
        (
            BlinkMenuPage,
            lambda d: {"data": d},
            {"id": "1", "name": "Tea", "price": "1"},
            {"id": "2", "name": "X", "price": "NaN"},
        ),
        (BlinkBranchesResponse, lambda d: {"data": d}, {"id": 63}, {"id": "6" * 5_000}),
        (BlinkOrderListResponse, lambda d: {"data": d}, ORDER, order(id="")),
        (BlinkCustomersResponse, lambda d: {"data": {"data": d}}, {"phone": "+923"}, {"phone": "9" * 5_000}),
        (
            BlinkAbandonedCartsResponse,
            lambda d: {"data": {"data": d}},
            {"cart_value": "744"},
            {"cart_value": "NaN"},
        ),
    ],
)
def test_a_list_answer_keeps_its_valid_entries_and_names_the_refused_ones(model, wrap, good, bad):
    answer = model.model_validate(wrap([good, bad, good]))

    page = answer.data if isinstance(answer.data, list) else answer.data.data
    refused = answer.refused if hasattr(answer, "refused") else answer.data.refused
    assert len(page) == 2
    [entry] = refused
    assert entry.index == 1 and entry.reason
    # the refusal is not part of what the answer dumps (nor of what is stored from it)
    assert "refused" not in json.dumps(answer.model_dump(mode="json"))


def test_a_refusal_names_the_fields_and_a_short_ref_never_the_values():
    kept, refused = split_entries(
        [{"id": "7" * 5_000, "customer_phone": "+923331234567" * 100}, {"id": "ok"}, "not an object"],
        BlinkOrderSummary,
        "id",
    )
    assert [k.id for k in kept] == ["ok"]
    first, third = refused
    assert first.ref == "7" * 64 + "... (5000 characters)"
    assert "customer_phone" in first.reason and "id" in first.reason
    assert "+92333" not in first.reason and "7777777" not in first.reason
    assert (third.index, third.ref) == (2, None)


# -- the catalog's branch entries and numbers ---------------------------------------------------------


def test_a_menu_item_s_branch_entries_keep_only_finite_prices_and_sane_ids():
    page = BlinkMenuPage.model_validate(
        {
            "data": [
                {
                    "id": "1",
                    "name": "Tea",
                    "price": "1",
                    "branches": [
                        {"id": "12345", "price": "NaN", "stock_quantity": "Infinity"},
                        {"id": "b" * 5_000, "price": "1"},
                        {"id": "63", "price": "2.5", "discount_price": "1e40", "stock_quantity": "7"},
                    ],
                }
            ]
        }
    )
    item = CatalogItem.from_menu(page.data[0])
    assert [(b.branch_id, b.price, b.discount_price, b.stock_quantity) for b in item.branches] == [
        ("12345", None, None, None),
        ("63", Decimal("2.5"), None, 7),
    ]


# -- the runner: refused items ------------------------------------------------------------------------


class _Letters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []

    def send(self, sync: str, key: str, error: Exception) -> None:
        self.sent.append((sync, key, type(error).__name__, str(error)))


class _Deps:
    def __init__(self) -> None:
        self.dead_letters = _Letters()


def test_an_item_refused_by_its_work_is_counted_dead_lettered_and_not_retried():
    deps = _Deps()
    run = SyncRun("demo", deps, None, pause=lambda _: None)  # type: ignore[arg-type]
    calls: list[int] = []

    def refuse() -> bool:
        calls.append(1)
        raise EntryRefused("the cart weighs 500,000 bytes as stored; at most 350,000 fit a DynamoDB item")

    def unreadable() -> bool:
        error = PermanentVendorError("blink", "the answer does not match BlinkOrderResponse at: data.latitude")
        error.unreadable_answer = True
        raise error

    assert run.item("cart-1", refuse) is False
    assert run.item("order-2", unreadable) is False
    assert run.item("fine", lambda: True) is True
    run.refused("m:branches", RefusedEntry(index=3, ref="6666", reason="id: too long"))

    assert calls == [1]  # not retried
    report = run.report
    assert (report.seen, report.changed, report.failed, report.refused) == (4, 1, 3, 3)
    assert [(key, error) for _, key, error, _ in deps.dead_letters.sent] == [
        ("cart-1", "EntryRefused"),
        ("order-2", "EntryRefused"),
        ("m:branches[3]=6666", "EntryRefused"),
    ]


def test_records_too_big_for_a_dynamodb_item_are_refused_before_any_write():
    small = RefusedEntry(index=0, reason="r" * 1_000)
    check_fits("a record", small)
    with pytest.raises(EntryRefused, match="at most 350,000 fit a DynamoDB item"):
        check_fits("a record", RefusedEntry(index=0, reason="r" * 400_000))


# -- courier and locker answers -----------------------------------------------------------------------


def test_dispatchninja_details_text_is_cut_with_the_marker_and_numbers_kept_exact():
    details = DispatchNinjaOrderDetails.model_validate(
        {"id": "15", "status": "S" * 300_000, "cancelled_reason": "late", "grand_total": "12.50"}
    )
    assert len(details.status) == VENDOR_TEXT_MAX_LENGTH and details.status.endswith("300000 characters in all]")
    assert (details.cancelled_reason, details.grand_total) == ("late", Decimal("12.50"))
    with pytest.raises(ValidationError):
        DispatchNinjaOrderDetails.model_validate({"id": "15", "grand_total": "NaN"})


@pytest.mark.parametrize("rent_id", ["", "r" * (ID_MAX_LENGTH + 1)])
def test_a_bloqit_rent_whose_id_cannot_key_our_rent_record_is_refused(rent_id):
    with pytest.raises(ValidationError) as refused:
        BloqitRent.model_validate({"_id": rent_id, "state": "reserved"})
    assert [e["loc"] for e in refused.value.errors()] == [("_id",)]
