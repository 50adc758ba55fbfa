"""Blink status reconciliation (``syncs/blink_statuses.py``): a status change whose Order Status
Webhook Blink dropped is read back with getOrder and recorded exactly as the webhook would have
been — once, however many runs — and the workflow moves on; the run stops in time and goes on.

Blink is the local Blink sandbox, served in-process through an httpx WSGI transport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from threading import Barrier, Thread
from typing import Any

import httpx
import pytest
from orderbridge.domain.ids import order_id_for
from orderbridge.domain.statuses import blink_status_identity as status_identity
from orderbridge.domain.waits import WaitKind
from orderbridge.models.order import Lifecycle, OrderState
from orderbridge.syncs import blink_statuses
from orderbridge.syncs.runner import TIME_MARGIN_SECONDS
from orderbridge.vendors.clients import VendorClients
from orderbridge.vendors.credentials import VendorCredentials
from orderbridge.workflow.signals import Signaller
from orderbridge_local.sandboxes import BlinkSandbox, BlinkSettings

from tests.conftest import table_items
from tests.integration.syncs.test_runner import Context
from tests.integration.workflow.test_signals import StepFunctionsRecorder

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
STALE = timedelta(minutes=11)  # past the default 10 minutes


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def blink() -> BlinkSandbox:
    return BlinkSandbox(BlinkSettings(webhook_mode="sync"))


@pytest.fixture
def clock(seeded) -> Clock:
    clock = Clock()
    seeded.clock = clock
    return clock


@pytest.fixture
def sync_deps(seeded, blink, clock, monkeypatch):
    credentials = VendorCredentials.model_validate(
        {"merchant_id": "m-demo", "blink": {"username": blink.settings.username, "password": blink.settings.password}}
    )
    seeded.vendors = VendorClients(
        seeded.settings, transport=httpx.WSGITransport(app=blink), credentials=lambda merchant: credentials
    )
    seeded.stepfunctions = StepFunctionsRecorder()
    return seeded


def place_order(blink: BlinkSandbox, hub: Any, **overrides: Any) -> str:
    """Given an order placed in Blink whose Order Webhook reached us: our order id."""
    payload, _ = blink._run_locked(lambda: blink.place_order(overrides))
    answer = hub.blink_order(payload)
    assert answer.status == 200, answer.body
    return str(answer.body["order_id"])


def status_change_dropped(blink: BlinkSandbox, blink_order_id: str, status: int, **extra: Any) -> None:
    """The restaurant changes the status in Blink; its webhook is dropped (the sandbox fault)."""
    blink.set_faults({"drop_webhooks": True})
    _, deliveries = blink._run_locked(lambda: blink.order_status(blink_order_id, status, **extra))
    assert [d["status"] for d in deliveries] == ["dropped"]
    blink.set_faults(None)


def blink_id(order_id: str, deps) -> str:
    loaded = deps.orders.load(order_id)
    assert loaded is not None
    return str(loaded[0].blink_order_id)


def statuses(order_id: str, deps) -> list[tuple[Any, bool]]:
    view = deps.orders.get(order_id)
    assert view is not None
    return [(e.detail.get("status"), e.applied) for e in view.timeline if e.kind == "blink_status"]


def test_a_dropped_status_webhook_is_recorded_by_the_reconciliation_and_the_workflow_moves_on(
    hub, blink, sync_deps, clock
):
    # Given an order whose workflow waits for the kitchen to end it in Blink
    order_id = place_order(blink, hub, type="PICK-UP")
    signaller = Signaller.of(sync_deps)
    assert signaller.register(order_id, WaitKind.BLINK_COMPLETED, "tok-end", timeout_seconds=3600) is None
    # And the restaurant marks it delivered in Blink, whose webhook is dropped
    status_change_dropped(blink, blink_id(order_id, sync_deps), 3)
    clock.now += STALE

    # When the reconciliation runs
    report = blink_statuses.sync_blink_statuses(sync_deps, Context(60))

    # Then the status is recorded as the webhook would have (the same track, kind and detail)
    assert (report.seen, report.changed, report.failed, report.finished) == (1, 1, 0, True)
    assert report.lag_seconds == STALE.total_seconds()
    view = sync_deps.orders.get(order_id)
    assert view is not None and view.tracks.status == "delivered"
    event = next(e for e in view.timeline if e.kind == "blink_status")
    assert event.event_key == status_identity(blink_id(order_id, sync_deps), 3)
    assert event.detail["status"] == 3 and event.detail["via"] == "reconciliation"
    # And the order stream's settle (what a MODIFY of the track runs) resumes the workflow
    assert set(signaller.settle(order_id)) == {WaitKind.BLINK_COMPLETED.value}
    assert sync_deps.stepfunctions.calls == [("success", "tok-end")]


def test_running_it_twice_records_the_status_once_and_the_late_webhook_is_a_duplicate(hub, blink, sync_deps, clock):
    order_id = place_order(blink, hub)
    blink_order_id = blink_id(order_id, sync_deps)
    status_change_dropped(blink, blink_order_id, 1)
    clock.now += STALE

    first = blink_statuses.sync_blink_statuses(sync_deps, Context(60))
    clock.now += STALE
    second = blink_statuses.sync_blink_statuses(sync_deps, Context(60))

    assert (first.changed, second.changed) == (1, 0)
    assert statuses(order_id, sync_deps) == [(1, True)]
    # When the webhook of that status arrives after all
    late = hub.blink_status(
        {"blink_order_id": blink_order_id, "branch_id": "12345", "status": 1, "created_at": "2026-11-27 12:00:05"}
    )
    # Then it is answered as usual and recorded nowhere
    assert (late.status, late.body["status"]) == (200, "accepted")
    assert statuses(order_id, sync_deps) == [(1, True)]


def test_two_runs_at_once_record_the_status_once(hub, blink, sync_deps, clock, monkeypatch):
    order_id = place_order(blink, hub)
    status_change_dropped(blink, blink_id(order_id, sync_deps), 6)
    clock.now += STALE
    # Both runs have read Blink before either writes
    barrier = Barrier(2)
    read = blink_statuses.reconcile

    def reconcile_together(deps, order):
        barrier.wait(timeout=10)
        return read(deps, order)

    monkeypatch.setattr(blink_statuses, "reconcile", reconcile_together)
    reports: list = []
    runs = [
        Thread(target=lambda: reports.append(blink_statuses.sync_blink_statuses(sync_deps, Context(60))))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert sorted(r.changed for r in reports) == [0, 1]
    assert statuses(order_id, sync_deps) == [(6, True)]
    assert sync_deps.orders.get(order_id).tracks.status == "ready"


def test_only_open_orders_whose_status_has_not_moved_for_a_while_are_read(hub, blink, sync_deps, clock):
    # Given one order that is stale, one whose status moved a minute ago, and one that has ended
    stale = place_order(blink, hub)
    clock.now += STALE
    fresh = place_order(blink, hub)
    ended = place_order(blink, hub)
    sync_deps.orders.set_state(ended, Lifecycle(state=OrderState.DELIVERED, at=clock.now))
    clock.now += timedelta(minutes=1)

    report = blink_statuses.sync_blink_statuses(sync_deps, Context(60))

    # Then only the stale one is read back, and nothing changed (Blink still says pending)
    assert (report.seen, report.changed) == (1, 0)
    asked = [r for r in blink.requests_log() if r["path"].endswith("/getOrder")]
    assert [r["query"]["order_id"] for r in asked] == [blink_id(stale, sync_deps)]
    assert fresh not in {stale, ended}


def test_the_run_stops_in_time_and_the_next_goes_on_from_its_cursor(hub, blink, sync_deps, clock):
    # Given three stale orders, each with a missed status change
    orders = [place_order(blink, hub) for _ in range(3)]
    for order_id in orders:
        status_change_dropped(blink, blink_id(order_id, sync_deps), 1)
    clock.now += STALE
    context = Context(TIME_MARGIN_SECONDS + 2)
    real = blink_statuses.reconcile

    def slow(deps, order):
        context.seconds -= 1  # each order takes a second
        return real(deps, order)

    blink_statuses.reconcile = slow  # type: ignore[assignment]
    try:
        # When a run has time for two orders only
        first = blink_statuses.sync_blink_statuses(sync_deps, context)
    finally:
        blink_statuses.reconcile = real  # type: ignore[assignment]

    # Then it stops, its cursor at the second order
    assert (first.seen, first.changed, first.finished) == (2, 2, False)
    cursor = sync_deps.cursors.get(blink_statuses.SYNC, blink_statuses.SCOPE)
    assert cursor.value is not None
    # And the next run goes on from there: the third order, then a walk complete
    second = blink_statuses.sync_blink_statuses(sync_deps, Context(60))
    assert (second.seen, second.changed, second.finished) == (1, 1, True)
    assert sync_deps.cursors.get(blink_statuses.SYNC, blink_statuses.SCOPE).value is None
    assert all(statuses(order_id, sync_deps) == [(1, True)] for order_id in orders)


def test_nothing_is_left_behind_in_the_table(hub, blink, sync_deps, clock):
    order_id = place_order(blink, hub)
    status_change_dropped(blink, blink_id(order_id, sync_deps), 4, comment="out of stock")
    clock.now += STALE

    blink_statuses.sync_blink_statuses(sync_deps, Context(60))

    meta = next(i for i in table_items("OrdersTable") if i["pk"] == f"ORDER#{order_id}" and i["sk"] == "META")
    assert (meta["status"], meta["status_at"]) == ("rejected", clock.now.isoformat())
    event = next(e for e in sync_deps.orders.get(order_id).timeline if e.kind == "blink_status")
    assert event.detail["comment"] == "out of stock"
    assert order_id == order_id_for("blink", blink_id(order_id, sync_deps))
