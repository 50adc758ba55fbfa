# ruff: noqa: F811 - the shared fixtures are imported from blink_records and named as arguments
"""Branches sync (``syncs/branches.py``): Blink's branches against ours, with the Blink sandbox
served in-process. Our ``branch_id`` is Blink's ``id`` (the code its webhooks send), our
``blink_id`` Blink's ``blink_id``."""

from __future__ import annotations

from threading import Barrier, Thread
from typing import Any

import pytest
from orderbridge.models.config import Branch, Merchant
from orderbridge.syncs import branches as branches_sync
from orderbridge.syncs.branches import sync_branches

from tests.integration.syncs.blink_records import (  # noqa: F401 - fixtures
    MERCHANT,
    Context,
    blink,
    dead_letter_queue,
    dead_letters,
    fire,
    lambda_time,
    ops,
    sync_deps,
)

FUNCTION = "SyncBranchesFunction"


@pytest.fixture
def ours(sync_deps):
    """Ours: 12345 (the Order Webhook sample's, named differently here), 63 (Clifton) and 99,
    which Blink does not have. Blink's seed: 63/60001, 64/60002, 12345/50220."""
    sync_deps.config.put(
        Branch(branch_id="12345", merchant_id=MERCHANT, name="XYZ road", blink_id="50220"),
        Branch(branch_id="63", merchant_id=MERCHANT, name="Clifton-Block 4", blink_id="60001"),
        Branch(branch_id="99", merchant_id=MERCHANT, name="Closed branch", blink_id="60099"),
    )
    return sync_deps


def flags(**query: str) -> dict[str, Any]:
    status, body, _ = ops("/ops/branches", merchant=MERCHANT, **query)
    assert status == 200, body
    return {b["branch_id"]: b["flag"] for b in body["branches"]}


def test_changes_are_taken_from_blink_vanished_and_unconfigured_branches_are_flagged(ours):
    # When the sync runs
    report = fire(FUNCTION)

    # Then Blink's name and address are set on ours, the rest of our configuration is kept
    precinct = ours.config.branch("12345")
    assert (precinct.name, precinct.address, precinct.blink_id) == ("Precinct-11A", "XYZ road street 13", "50220")
    clifton = ours.config.branch("63")
    assert clifton.address == "209 Bolvard center, caspian road beside Hollywood Cafe"
    # and the ops API shows each branch: 99 vanished, Blink's 64 unconfigured, the others in step
    assert flags() == {"12345": None, "63": None, "64": "unconfigured", "99": "vanished"}
    assert flags(flag="any") == {"64": "unconfigured", "99": "vanished"}
    assert flags(flag="vanished") == {"99": "vanished"}
    status, body, _ = ops("/ops/branches", merchant=MERCHANT)
    shown = {b["branch_id"]: b for b in body["branches"]}
    assert shown["12345"]["updated"] == ["address", "name"] and shown["64"]["blink_id"] == "60002"
    assert report["seen"] == 4 and report["changed"] == 4 and report["failed"] == 0 and report["finished"]


def test_a_changed_blink_id_is_taken_and_a_changed_code_is_flagged_not_rewritten(ours, blink):
    # Given Blink gave branch 12345 a new Blink id, and Clifton (blink id 60001) a new code, 65
    blink.branches[2]["blink_id"] = 50221
    blink.branches[0]["id"] = 65

    sync_branches(ours, Context())

    assert ours.config.branch("12345").blink_id == "50221"
    assert ours.config.branch("63").blink_id == "60001"  # left as it was: a person decides
    assert ours.config.branch("65") is None
    shown = flags()
    assert shown["63"] == "code_changed" and "65" not in shown


def test_running_twice_or_twice_at_once_changes_nothing_more_than_once(ours):
    # Given two runs at once (both read Blink and our branches before either writes)
    barrier = Barrier(2)
    listed = branches_sync.plan_branches

    def plan_then_wait(*args: Any) -> Any:
        plans = listed(*args)
        barrier.wait(timeout=10)
        return plans

    reports: list[Any] = []
    branches_sync.plan_branches = plan_then_wait
    try:
        threads = [Thread(target=lambda: reports.append(sync_branches(ours, Context()))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        branches_sync.plan_branches = listed

    # Then every change was made once between them
    assert len(reports) == 2 and sum(r.changed for r in reports) == 4
    # and a third run finds nothing to change
    again = sync_branches(ours, Context())
    assert (again.seen, again.changed, again.failed) == (4, 0, 0)
    assert ours.config.branch("12345").name == "Precinct-11A"


def test_a_branch_back_in_blink_is_no_longer_flagged_and_one_gone_from_both_is_forgotten(ours, blink):
    sync_branches(ours, Context())
    # Given Blink lists 99 again and drops the unconfigured 64
    blink.branches = [b for b in blink.branches if b["id"] != 64] + [
        {"id": 99, "blink_id": 60099, "branch": "Closed branch", "branch_address": None, "is_live": 1, "is_active": 0}
    ]

    sync_branches(ours, Context())

    assert flags() == {"12345": None, "63": None, "99": "inactive"}


def test_a_blink_failure_or_an_empty_answer_flags_nothing_and_is_dead_lettered(ours, blink, dead_letter_queue):
    # Given a second merchant whose Blink answers no branch at all (ours are configured)
    ours.config.put(Merchant(merchant_id="m-empty", name="Empty"))
    ours.config.put(Branch(branch_id="500", merchant_id="m-empty", name="Somewhere"))
    seeded = blink.branches

    def answer_for(merchant: str) -> Any:
        blink.branches = seeded if merchant == MERCHANT else []

    listed = ours.vendors.blink

    def blink_of(merchant: str) -> Any:
        answer_for(merchant)
        return listed(merchant)

    ours.vendors.blink = blink_of  # type: ignore[method-assign]

    report = sync_branches(ours, Context())

    # Then nothing of m-empty is flagged, the failure is dead-lettered, m-demo is synced
    assert flags() == {"12345": None, "63": None, "64": "unconfigured", "99": "vanished"}
    status, body, _ = ops("/ops/branches", merchant="m-empty")
    assert status == 200 and body["branches"] == []
    assert [(m["item"], m["error"]) for m in dead_letters(dead_letter_queue)] == [("m-empty:branches", "ValueError")]
    assert report.failed == 1 and report.finished is False
    assert ours.cursors.get("branches", "m-empty").value is None
    assert ours.cursors.get("branches", MERCHANT).value is not None


def test_the_ops_query_is_checked(ours):
    status, body, _ = ops("/ops/branches", merchant="nobody", flag="gone")
    assert status == 400
    assert {e["field"] for e in body["errors"]} == {"merchant", "flag"}
