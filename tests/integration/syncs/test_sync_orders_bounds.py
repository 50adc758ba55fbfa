# ruff: noqa: F811 - the fixtures are imported from test_sync_orders and named as arguments
"""Issue 13 point 1 for vendor answers: what Blink's ``getOrderList`` / ``getOrder`` answer is
bounded before the order catch-up stores it. Through the SyncOrdersFunction's handler, the Blink
sandbox served in-process (its answers altered as a faulty Blink would send them) and moto."""

from __future__ import annotations

import json
from typing import Any

from orderbridge.domain.ids import order_id_for
from orderbridge.models.types import VENDOR_TEXT_MAX_LENGTH

from tests.integration.syncs.test_sync_orders import (  # noqa: F401 - fixtures
    MERCHANT,
    blink,
    deps,
    orders,
    queue,
    timeline,
)
from tests.integration.syncs.test_sync_orders import dead_letters as read_dead_letters
from tests.support.apigw import LambdaContext, handler_module


def fire() -> dict[str, Any]:
    """One run of the order catch-up through its Lambda handler; its report."""
    context = LambdaContext(function_name="SyncOrdersFunction")
    report: dict[str, Any] = handler_module("SyncOrdersFunction").lambda_handler({}, context)
    return report


def view(blink, payload: dict[str, Any]) -> dict[str, Any]:
    """What the sandbox answers for the order (getOrderList and getOrder): to alter it."""
    answer: dict[str, Any] = blink.sandbox.orders[int(payload["blink_order_id"])]["view"]
    return answer


def test_a_bad_order_in_blink_s_answers_is_refused_alone_and_the_others_are_entered(deps, blink, queue, caplog):
    # Given four orders whose webhooks Blink dropped, three of them with what a faulty Blink may say
    long_id = blink.place_order()
    view(blink, long_id)["id"] = "9" * 5_000  # an id over DynamoDB's key limits
    not_a_number = blink.place_order()
    view(blink, not_a_number)["total"] = "NaN"
    huge_note = blink.place_order()
    view(blink, huge_note)["instruction"] = "ring-twice." * 50_000  # 550,000 characters
    fine = blink.place_order()

    # When the catch-up runs
    report = fire()

    # Then the run finished, entering the good order and the one with the huge note (cut, marked)
    assert (report["finished"], report["seen"], report["changed"]) == (True, 4, 2)
    entered = orders()
    assert set(entered) == {
        order_id_for("blink", huge_note["blink_order_id"]),
        order_id_for("blink", fine["blink_order_id"]),
    }
    note = entered[order_id_for("blink", huge_note["blink_order_id"])]["note"]
    assert len(note) == VENDOR_TEXT_MAX_LENGTH and note.startswith("ring-twice.")
    assert note.endswith("[... truncated by Orderbridge: 550000 characters in all]")
    # (and its timeline keeps Blink's answer as read: cut too, well within an item)
    [received] = timeline(order_id_for("blink", huge_note["blink_order_id"]))
    assert len(received["raw"]) < 30_000
    # And the other two are refused: counted, dead-lettered with their reasons, nothing written
    assert (report["failed"], report["refused"]) == (2, 2)
    letters = read_dead_letters(queue)
    assert sorted(letter["error"] for letter in letters) == ["EntryRefused", "EntryRefused"]
    reasons = " | ".join(letter["reason"] for letter in letters)
    assert "id: " in reasons and "128" in reasons and "total: " in reasons and "not a finite number" in reasons
    assert not any(order_id_for("blink", p["blink_order_id"]) in entered for p in (long_id, not_a_number))
    # And no value of theirs is in a log line or a dead letter (only the fields and the limits)
    logged = json.dumps([record.__dict__ for record in caplog.records], default=str) + json.dumps(letters)
    assert "9" * 200 not in logged and "ring-twice.ring-twice." not in logged
    cut = [r.__dict__ for r in caplog.records if r.getMessage() == "vendor text truncated"]
    assert [(c["field"], c["length"], c["truncated"]) for c in cut] == [("instruction", 550_000, True)]
    assert len([r for r in caplog.records if r.getMessage() == "sync item refused"]) == 2
    # And the cursor moved past every order: the next run enters nothing and refuses nothing again
    assert deps.cursors.get("orders", MERCHANT).value == fine["blink_order_id"]
    again = fire()
    assert (again["seen"], again["failed"]) == (0, 0)


def test_an_order_whose_getorder_answer_is_off_its_model_is_refused_and_the_next_is_entered(deps, blink, queue):
    # Given two dropped orders, the first one's getOrder answer (not its listing: getOrderList has no
    # coordinates) with a latitude that is no finite number and a promo code longer than any real one
    bad = blink.place_order()
    view(blink, bad).update(latitude="Infinity", promo_code="P" * 5_000)
    good = blink.place_order()

    # When the catch-up runs
    report = fire()

    # Then the first is refused (not retried: the same answer would come), the second entered
    assert (report["seen"], report["changed"], report["failed"], report["refused"]) == (2, 1, 1, 1)
    assert set(orders()) == {order_id_for("blink", good["blink_order_id"])}
    [letter] = read_dead_letters(queue)
    assert (
        letter["error"] == "EntryRefused"
        and "data.latitude" in letter["reason"]
        and "data.promo_code" in letter["reason"]
    )
    assert "PPPP" not in letter["reason"]
    assert len([r for r in blink.requests("/interface/v1/getOrder") if r["path"].endswith("getOrder")]) == 2
