"""Each Blink status is sent once under faults and crashes (issue 13 point 4; found by the fault run,
tests/reliability/test_fault_run.py): a ``syncOrderStatus`` whose answer was lost (a timeout after
sending, a 500) or whose run was killed mid-call is not sent again blindly — Blink's order is read
back (``getOrder``) first, and a status Blink already has is recorded as sent, not repeated."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from orderbridge.vendors.http import RetryableVendorError

from tests.integration.actions.conftest import BLINK, event, timeline, tracks
from tests.unit.vendors import samples as docs
from tests.unit.vendors.support import json_response

SUBMIT = "SubmitOrderToBlinkFunction"
SYNC_STATUS = "SyncOrderStatusToBlinkFunction"


def blink_order(status: str) -> httpx.Response:
    """Blink's getOrder answer (the doc's sample) with the order at ``status``."""
    answer: dict[str, Any] = json.loads(docs.BLINK_GET_ORDER_RESPONSE)
    answer["data"]["status"] = status
    return json_response(answer)


@pytest.fixture
def submitted(act, partner_order) -> str:
    act(SUBMIT, event("submit_order_to_blink"))
    return partner_order


@pytest.fixture
def get_order(vendors) -> Any:
    return vendors.router.get(f"{BLINK}/interface/v1/getOrder")


def syncs(action_deps, order_id: str) -> list[tuple[int, bool, str]]:
    return [
        (e["detail"]["status"], e["applied"], e["summary"])
        for e in timeline(action_deps, order_id)
        if e["kind"] == "blink_status_sync"
    ]


@pytest.mark.parametrize(
    "lost",
    [httpx.ReadTimeout("read timed out"), httpx.Response(500)],
    ids=["timeout after sending", "HTTP 500"],
)
def test_a_status_blink_applied_whose_answer_was_lost_is_not_sent_again(
    act, vendors, submitted, get_order, action_deps, lost
):
    # Given Blink applies "accepted" and its answer is lost; Blink's order then reads accepted
    vendors.sync_status.mock(side_effect=[lost, json_response({"success": True, "msg": "Order status updated"})])
    get_order.mock(return_value=blink_order("ACCEPTED"))

    # When the status is synced
    out = act(SYNC_STATUS, event("sync_order_status_to_blink", order_id=submitted, status=1))

    # Then Blink was told once, the order is accepted, and its timeline says how it was known
    assert vendors.sync_status.call_count == 1 and get_order.call_count == 1
    assert (out["sent"], out["order_status"]) == (True, "accepted")
    assert tracks(action_deps, submitted)["status"] == "accepted"
    [(status, applied, summary)] = syncs(action_deps, submitted)
    assert (status, applied) == (1, True) and "earlier attempt" in summary


def test_a_status_blink_did_not_get_is_sent_again_by_the_retry_after_a_look(act, vendors, submitted, get_order):
    # Given the answer to "accepted" is lost and Blink's order is still pending
    vendors.sync_status.mock(
        side_effect=[httpx.ReadTimeout("read timed out"), json_response({"success": True, "msg": "ok"})]
    )
    get_order.mock(return_value=blink_order("PENDING"))

    # When the status is synced: the run ends retryable (the workflow's Retry), nothing repeated in it
    with pytest.raises(RetryableVendorError, match="not in Blink"):
        act(SYNC_STATUS, event("sync_order_status_to_blink", order_id=submitted, status=1))
    assert vendors.sync_status.call_count == 1

    # And the workflow's retry looks again, then sends it: Blink gets it
    out = act(SYNC_STATUS, event("sync_order_status_to_blink", order_id=submitted, status=1))
    assert vendors.sync_status.call_count == 2 and get_order.call_count == 2
    assert (out["sent"], out["order_status"]) == (True, "accepted")


def test_a_run_killed_after_sending_leaves_a_mark_and_the_next_run_sends_nothing_blink_has(
    act, vendors, submitted, get_order, action_deps
):
    # Given a run that marked and sent "accepted", then was killed before recording Blink's answer
    assert action_deps.orders.claim_send(submitted, "blink_status_1", 1, action_deps.clock())
    get_order.mock(return_value=blink_order("ACCEPTED"))

    # When the workflow runs the step again
    out = act(SYNC_STATUS, event("sync_order_status_to_blink", order_id=submitted, status=1))

    # Then Blink is read, not told again, and the order is accepted
    assert vendors.sync_status.call_count == 0 and get_order.call_count == 1
    assert (out["sent"], out["order_status"]) == (True, "accepted")


def test_a_status_that_provably_never_reached_blink_is_retried_in_the_same_run_without_a_look(
    act, vendors, submitted, get_order
):
    # Given Blink answers 503 once (it did nothing), then takes the status
    vendors.sync_status.mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "0"}), json_response({"success": True, "msg": "ok"})]
    )

    # When the status is synced
    out = act(SYNC_STATUS, event("sync_order_status_to_blink", order_id=submitted, status=1))

    # Then it was sent again at once, without reading Blink's order
    assert vendors.sync_status.call_count == 2 and get_order.call_count == 0
    assert out["statuses_sent"] == [1]
