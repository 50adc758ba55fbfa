"""Rent reconciliation (``syncs/rents.py``): the Bloq.It events of open locker orders that no webhook
brought, applied as the webhook would have — against the Bloq.It sandbox served in-process (an httpx
WSGI transport) and moto's DynamoDB; the order stream is fed the order's change as Lambda would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from orderbridge.config import get_settings
from orderbridge.deps import Deps, get_deps
from orderbridge.domain.ids import order_id_for
from orderbridge.domain.rent_events import ACTED_ON_EVENTS, acted_on
from orderbridge.domain.statuses import rent_state_update
from orderbridge.domain.waits import WaitKind
from orderbridge.models.order import Lifecycle, OrderState, TimelineEvent
from orderbridge.models.rent import Rent
from orderbridge.models.states import RentState
from orderbridge.store.orders import order_key
from orderbridge.syncs.rents import SYNC, sync_rents
from orderbridge.syncs.runner import TIME_MARGIN_SECONDS
from orderbridge.vendors.clients import VendorClients
from orderbridge.workflow.signals import Signaller
from orderbridge_local.sandboxes.bloqit import BloqitSandbox, BloqitSettings

from tests.conftest import table_items
from tests.integration.actions.conftest import TEST_CREDENTIALS
from tests.integration.workflow.test_order_stream import _record, _run_stream
from tests.integration.workflow.test_signals import StepFunctionsRecorder
from tests.support import samples

LISBON_BLOQ = "5e5fbcebd1195468b647aa02"  # the sandbox's first seeded Bloq (takes deliveries)
API = "/api/v1/public"
WEBHOOK_URL = "http://127.0.0.1:9/webhooks/bloq"  # never reached: the sandbox drops its webhooks


class Context:
    """A LambdaContext whose remaining time the test sets (and spends)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


class BloqIt:
    """The Bloq.It sandbox in-process: its vendor API for the sync, its admin routes for the test."""

    def __init__(self) -> None:
        self.sandbox = BloqitSandbox(
            BloqitSettings(
                api_key=TEST_CREDENTIALS.require_bloqit().api_key.get_secret_value(),
                webhook_mode="sync",
                auto_expire=False,
            )
        )
        self.history_calls = 0
        self.on_history: list[Any] = []  # called on each rent history request (the test's clock)
        self.http = httpx.Client(transport=self.transport(), base_url="http://bloqit.local")
        self.http.headers["X-API-KEY"] = TEST_CREDENTIALS.require_bloqit().api_key.get_secret_value()
        # Our webhook is registered as RegisterBloqWebhookFunction registers it (the rent events we
        # act on), but every callback is lost (the sandbox's drop_webhooks fault).
        self.call("POST", f"{API}/webhooks", json={"url": WEBHOOK_URL, "enabledEvents": list(ACTED_ON_EVENTS)})
        self.call("POST", "/_admin/faults", json={"drop_webhooks": True})

    def transport(self) -> httpx.BaseTransport:
        wsgi = httpx.WSGITransport(app=self.sandbox)
        bloqit = self

        class Counting(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                if request.url.path.endswith("/history"):
                    bloqit.history_calls += 1
                    for hook in bloqit.on_history:
                        hook()
                return wsgi.handle_request(request)

        return Counting()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, path, **kwargs)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def reserved_rent(self, order_id: str) -> str:
        expiry = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        rent = self.call("POST", f"{API}/deliveries", params={"bloqID": LISBON_BLOQ}, json={
            "externalID": order_id, "expiryDate": expiry, "collectTimeLimit": 24,
        })  # fmt: skip
        assert rent["state"] == "reserved"
        return str(rent["_id"])

    def rent_codes(self, rent_id: str) -> list[str]:
        """The rent.* events Bloq.It has for the rent, in order."""
        return [
            e["codeName"] for e in self.sandbox.events if e["rent"] == rent_id and e["codeName"].startswith("rent.")
        ]

    def acted_on_codes(self, rent_id: str) -> list[str]:
        """The rent's events of the types our webhook subscribes to, in order."""
        return [code for code in self.rent_codes(rent_id) if acted_on(code)]

    def dropped_webhooks(self, rent_id: str) -> list[str]:
        """The raw bodies of the rent's webhooks the sandbox dropped, in order."""
        hooks = self.call("GET", "/_admin/webhooks")
        return [h["raw_body"] for h in hooks if h["status"] == "dropped" and h["body"]["rent"] == rent_id]


@pytest.fixture
def recorder(seeded, monkeypatch) -> Iterator[StepFunctionsRecorder]:
    recorder = StepFunctionsRecorder()
    monkeypatch.setenv("ORDER_WORKFLOW_ARN", "arn:aws:states:eu-west-1:123456789012:stateMachine:orders")
    get_settings.cache_clear()
    get_deps.cache_clear()
    get_deps().stepfunctions = recorder
    yield recorder
    get_deps.cache_clear()


@pytest.fixture
def bloqit() -> BloqIt:
    return BloqIt()


@pytest.fixture
def sync_deps(recorder, bloqit) -> Deps:
    """The container the webhook and the sync share: the sandbox as Bloq.It, the test credentials."""
    deps = get_deps()
    # One attempt per Bloq.It call: the sync's own per-item retries are what these tests look at.
    settings = deps.settings.model_copy(
        update={"vendors": deps.settings.vendors.model_copy(update={"max_attempts": 1})}
    )
    deps.vendors = VendorClients(settings, transport=bloqit.transport(), credentials=lambda _: TEST_CREDENTIALS)
    return deps


_NEXT_ORDER = iter(range(7001, 8000))


def waiting_order(hub, deps: Deps, bloqit: BloqIt, wait: WaitKind | None = None) -> tuple[str, str]:
    """Given a Blink order in progress whose locker is reserved at Bloq.It (and, with ``wait``, its
    workflow parked on that wait); returns the order id and the rent id."""
    blink_order_id = str(next(_NEXT_ORDER))
    hub.blink_order({**samples.load("blink_order_webhook.json"), "blink_order_id": blink_order_id})
    order_id = order_id_for("blink", blink_order_id)
    rent_id = bloqit.reserved_rent(order_id)
    now = deps.clock()
    deps.rents.put(Rent(rent_id=rent_id, order_id=order_id, bloq_id=LISBON_BLOQ, state="reserved", created_at=now))
    reserved = TimelineEvent(
        event_key=f"orderbridge:test:reserve:{rent_id}",
        source="orderbridge",
        kind="rent_reserved",
        received_at=now,
        summary="locker reserved",
        detail={"rent_id": rent_id},
    )
    deps.orders.link_vendor(order_id, reserved, follow=rent_state_update(RentState.RESERVED).of(rent_id))
    step = wait.value if wait else "dropoff"
    deps.orders.set_state(order_id, Lifecycle(state=OrderState.IN_PROGRESS, step=step, at=now))
    if wait is not None:
        Signaller.of(deps).register(order_id, wait, f"tok-{order_id}", timeout_seconds=600)
    return order_id, rent_id


def order_item(order_id: str) -> dict[str, Any]:
    return next(i for i in table_items("OrdersTable") if {"pk": i["pk"], "sk": i["sk"]} == order_key(order_id))


def rent_timeline(hub, order_id: str) -> list[tuple[str, bool, str | None]]:
    timeline = hub.ops_order(order_id).body["timeline"]
    return [
        (e["detail"]["code_name"], e["applied"], e["detail"].get("found_by"))
        for e in timeline
        if e["kind"] == "rent_event"
    ]


def bloq_event_records() -> list[dict[str, Any]]:
    return [i for i in table_items("RentsTable") if i["pk"].startswith("BLOQEVENT#")]


def run(deps: Deps, seconds: float = 60.0) -> Any:
    return sync_rents(deps, Context(seconds))


# -- the cases -------------------------------------------------------------------------------


def test_an_expiry_no_webhook_brought_fails_the_customer_pickup_wait(hub, sync_deps, bloqit, recorder):
    # Given a locker order whose drop-off webhook was lost, found by a first run
    order_id, rent_id = waiting_order(hub, sync_deps, bloqit)
    bloqit.call("POST", f"/_admin/rents/{rent_id}/dropoff")
    assert run(sync_deps).changed == 1
    assert order_item(order_id)["rent_state"] == "in_progress"
    # ... and its workflow now waiting for the customer, who never comes
    Signaller.of(sync_deps).register(order_id, WaitKind.PICKUP, "tok-pickup", timeout_seconds=600)
    before = order_item(order_id)
    bloqit.call("POST", f"/_admin/rents/{rent_id}/expire")  # rent.expired: lost as well

    # When the reconciliation runs again
    report = run(sync_deps)

    # Then the expiry is applied as the webhook would have, and the order stream fails the wait
    assert (report.seen, report.changed, report.failed) == (1, 1, 0)
    assert report.lag_seconds is not None and report.lag_seconds >= 0
    after = order_item(order_id)
    assert after["rent_state"] == "expired"
    assert sync_deps.rents.get(rent_id).state == "expired"
    assert ("rent.expired", True, "rent reconciliation") in rent_timeline(hub, order_id)
    _run_stream(_record("MODIFY", after, before))
    assert ("failure", "tok-pickup", "RentExpired") in recorder.calls


def test_a_cancellation_no_webhook_brought_fails_the_drop_off_wait(hub, sync_deps, bloqit, recorder):
    # Given a locker order waiting for its drop-off, whose rent Bloq.It cancelled (webhook lost)
    order_id, rent_id = waiting_order(hub, sync_deps, bloqit, WaitKind.DROPOFF)
    before = order_item(order_id)
    bloqit.call("PUT", f"{API}/rents/{rent_id}/cancel")

    # When the reconciliation runs
    report = run(sync_deps)

    # Then the order's rent is cancelled and the order stream fails the drop-off wait as after the
    # webhook; the events before it that our webhook does not subscribe to (created, reserved: the
    # answer of our own reservation) are not applied
    assert (report.seen, report.changed, report.failed) == (1, 1, 0)
    after = order_item(order_id)
    assert after["rent_state"] == "cancelled"
    assert bloqit.rent_codes(rent_id) == ["rent.created", "rent.reserved", "rent.cancelled"]
    assert rent_timeline(hub, order_id) == [("rent.cancelled", True, "rent reconciliation")]
    _run_stream(_record("MODIFY", after, before))
    assert ("failure", f"tok-{order_id}", "RentCancelled") in recorder.calls


def test_a_drop_off_and_pickup_found_by_reconciliation_end_the_waits_and_the_order_leaves_the_walk(
    hub, sync_deps, bloqit, recorder
):
    # Given a locker order waiting for its drop-off; the courier drops off and the customer collects,
    # and every webhook is lost
    order_id, rent_id = waiting_order(hub, sync_deps, bloqit, WaitKind.DROPOFF)
    before = order_item(order_id)
    bloqit.call("POST", f"/_admin/rents/{rent_id}/dropoff")
    bloqit.call("POST", f"/_admin/rents/{rent_id}/pickup")

    # When the reconciliation runs, twice
    first, second = run(sync_deps), run(sync_deps)

    # Then the rent is finished, the wait ends well, and a finished rent is not read again
    assert order_item(order_id)["rent_state"] == "finished"
    _run_stream(_record("MODIFY", order_item(order_id), before))
    assert ("success", f"tok-{order_id}") in recorder.calls
    assert (first.seen, first.changed, second.seen, second.changed) == (1, 1, 0, 0)
    assert bloqit.history_calls == 1


def test_the_reconciliation_applies_only_the_events_our_webhook_subscribes_to(hub, sync_deps, bloqit):
    # Given a locker order whose drop-off and pickup webhooks were all lost
    order_id, rent_id = waiting_order(hub, sync_deps, bloqit)
    bloqit.call("POST", f"/_admin/rents/{rent_id}/dropoff")
    bloqit.call("POST", f"/_admin/rents/{rent_id}/pickup")

    # When the reconciliation runs
    run(sync_deps)

    # Then of the rent's history it applies the events that move the rent to a state we act on, and
    # leaves the rest (our own reservation's, the drop-off's notices, the price calculation) unread
    assert {"rent.created", "rent.drop_off_confirmation", "rent.price_calculation"} <= set(bloqit.rent_codes(rent_id))
    applied = [code for code, _, _ in rent_timeline(hub, order_id)]
    assert applied == ["rent.started", "rent.in_progress", "rent.collect_item", "rent.finished"]
    assert {r["code_name"] for r in bloq_event_records()} == set(applied)


def test_two_runs_at_once_and_a_run_after_them_apply_each_event_once(hub, sync_deps, bloqit):
    # Given two locker orders whose drop-off and pickup webhooks were all lost
    orders = [waiting_order(hub, sync_deps, bloqit) for _ in range(2)]
    for _, rent_id in orders:
        bloqit.call("POST", f"/_admin/rents/{rent_id}/dropoff")
        bloqit.call("POST", f"/_admin/rents/{rent_id}/pickup")

    # When two runs start at once, and one more runs after them
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda _: run(sync_deps), range(2)))
    later = run(sync_deps)

    # Then every rent event is recorded once, on its order's timeline once, and nothing is left to do
    for order_id, rent_id in orders:
        codes = bloqit.acted_on_codes(rent_id)
        assert sorted(code for code, _, _ in rent_timeline(hub, order_id)) == sorted(codes)
        assert order_item(order_id)["rent_state"] == "finished"
    assert len(bloq_event_records()) == sum(len(bloqit.acted_on_codes(rent_id)) for _, rent_id in orders)
    assert all(r.failed == 0 for r in reports) and sum(r.seen for r in reports) >= 2
    assert (later.seen, later.changed) == (0, 0)
    assert sync_deps.cursors.get(SYNC, "m-demo").value is None  # the walk ended: the next starts over


def test_a_webhook_arriving_after_the_reconciliation_is_a_duplicate(hub, sync_deps, bloqit):
    # Given a drop-off whose webhooks were lost, applied by the reconciliation
    order_id, rent_id = waiting_order(hub, sync_deps, bloqit)
    bloqit.call("POST", f"/_admin/rents/{rent_id}/dropoff")
    run(sync_deps)
    timeline = rent_timeline(hub, order_id)
    records = bloq_event_records()

    # When Bloq.It delivers the lost webhooks after all (the same bodies, signed)
    late = bloqit.dropped_webhooks(rent_id)
    answers = [hub.bloq(raw) for raw in late]

    # Then each is accepted and changes nothing: same timeline, same event records
    assert late and {a.status for a in answers} == {200}
    assert {json.dumps(a.body, sort_keys=True) for a in answers} == {
        json.dumps({"status": "accepted", "order_id": order_id}, sort_keys=True)
    }
    assert rent_timeline(hub, order_id) == timeline
    assert bloq_event_records() == records
    assert {r["found_by"] for r in records} == {"rent reconciliation"}


def test_a_run_stops_in_time_and_the_next_goes_on_from_its_cursor(hub, sync_deps, bloqit):
    # Given four locker orders whose drop-off webhooks were lost
    orders = [waiting_order(hub, sync_deps, bloqit) for _ in range(4)]
    for _, rent_id in orders:
        bloqit.call("POST", f"/_admin/rents/{rent_id}/dropoff")
    # ... and a Lambda with little time left, where each Bloq.It call takes a second
    context = Context(TIME_MARGIN_SECONDS + 2.5)

    def spend() -> None:
        context.seconds -= 1

    bloqit.on_history.append(spend)

    # When the reconciliation runs, and then once more with time enough
    first = sync_rents(sync_deps, context)
    cursor = sync_deps.cursors.get(SYNC, "m-demo")
    second = run(sync_deps)

    # Then the first stops before its time is out, having moved its cursor behind the last order it
    # did; the second does the rest only; every drop-off is applied
    assert (first.seen, first.changed, first.finished) == (3, 3, False)
    assert cursor.value == order_item(orders[2][0])["created_key"]
    assert (second.seen, second.changed, second.finished) == (1, 1, True)
    assert [order_item(order_id)["rent_state"] for order_id, _ in orders] == ["in_progress"] * 4
    assert bloqit.history_calls == 4


def test_bloqit_failing_for_one_rent_is_retried_then_dead_lettered_and_the_others_reconciled(
    hub, sync_deps, bloqit, monkeypatch
):
    # Given two locker orders whose drop-off webhooks were lost, and Bloq.It failing on the first's history
    monkeypatch.setattr("orderbridge.syncs.runner.RETRY_PAUSE_SECONDS", 0.0)
    (broken, broken_rent), (fine, fine_rent) = [waiting_order(hub, sync_deps, bloqit) for _ in range(2)]
    for rent_id in (broken_rent, fine_rent):
        bloqit.call("POST", f"/_admin/rents/{rent_id}/dropoff")
    bloqit.call("POST", "/_admin/outages", json={"id": "down", "paths": [f"{API}/rents/{broken_rent}/history"]})

    # When the reconciliation runs
    report = run(sync_deps)

    # Then the failing rent is tried again, counted as failed, and the other one is reconciled
    assert (report.seen, report.changed, report.failed) == (2, 1, 1)
    assert order_item(broken)["rent_state"] == "reserved"
    assert order_item(fine)["rent_state"] == "in_progress"
    # ... and once Bloq.It answers again, the next walk (started over) catches up
    bloqit.call("DELETE", "/_admin/outages/down")
    assert run(sync_deps).changed == 1
    assert order_item(broken)["rent_state"] == "in_progress"


def test_only_orders_in_progress_holding_a_rent_are_read(hub, sync_deps, bloqit):
    # Given an order in progress holding a rent, one that failed holding a rent, one with no rent
    waiting, _ = waiting_order(hub, sync_deps, bloqit)
    failed, _ = waiting_order(hub, sync_deps, bloqit)
    sync_deps.orders.set_state(failed, Lifecycle(state=OrderState.FAILED, at=sync_deps.clock()))
    hub.blink_order({**samples.load("blink_order_webhook.json"), "blink_order_id": "6999"})
    no_rent = order_id_for("blink", "6999")
    sync_deps.orders.set_state(no_rent, Lifecycle(state=OrderState.IN_PROGRESS, step="starting", at=sync_deps.clock()))

    # When the reconciliation runs
    report = run(sync_deps)

    # Then only the first is read at Bloq.It
    assert (report.seen, bloqit.history_calls) == (1, 1)
    assert [o.order_id for o in sync_deps.orders.open_rents("m-demo")] == [waiting]
    assert list(sync_deps.orders.open_rents("another-merchant")) == []
