"""The order catch-up (``syncs/orders.py``) and the replay of events kept before their order
(``workflow/unmatched.py``), against the Blink sandbox served in-process (httpx's WSGI transport)
and moto; the order stream is fed the records of the orders the catch-up inserted."""

from __future__ import annotations

import json
import time
from threading import Barrier, Thread
from typing import Any

import httpx
import pytest
from orderbridge import aws as aws_clients
from orderbridge.config import get_settings
from orderbridge.deps import get_deps
from orderbridge.domain.ids import order_id_for
from orderbridge.models.config import Branch, Merchant
from orderbridge.store.dynamo import to_attrs
from orderbridge.syncs import orders as catch_up
from orderbridge.vendors.clients import VendorClients
from orderbridge.vendors.credentials import VendorCredentials
from orderbridge_local.sandboxes.blink import BlinkSandbox

from tests.conftest import table_items
from tests.integration.workflow.test_signals import StepFunctionsRecorder
from tests.support.apigw import LambdaContext, handler_module
from tests.support.hub import Hub

MERCHANT = "m-demo"
CREDENTIALS = VendorCredentials.model_validate(
    {"merchant_id": MERCHANT, "blink": {"username": "orderbridge", "password": "blink-sandbox-password"}}
)


class Context:
    """A LambdaContext given ``seconds`` when made; its remaining time then runs out for real."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.ends - time.monotonic()) * 1000))


class Blink:
    """The Blink sandbox, its admin routes called in-process."""

    def __init__(self, **settings: Any) -> None:
        self.sandbox = BlinkSandbox({"webhook_mode": "sync", **settings})
        self.admin = httpx.Client(transport=httpx.WSGITransport(app=self.sandbox), base_url="http://blink")
        self.drop_webhooks()

    def drop_webhooks(self) -> None:
        assert self.admin.post("/_admin/faults", json={"drop_webhooks": True}).status_code == 200

    def place_order(self, **overrides: Any) -> dict[str, Any]:
        """An order placed in Blink whose Order Webhook Blink dropped: its payload."""
        answer = self.admin.post("/_admin/place-order", json=overrides)
        assert answer.status_code == 201, answer.text
        return dict(answer.json()["order"])

    def status(self, blink_order_id: str, status: int) -> dict[str, Any]:
        """The restaurant moved the order in Blink: the Order Status Webhook Blink would send."""
        answer = self.admin.post("/_admin/order-status", json={"blink_order_id": blink_order_id, "status": status})
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["status_webhook"])

    def requests(self, path: str) -> list[dict[str, Any]]:
        return list(self.admin.get("/_admin/requests", params={"path": path}).json())


@pytest.fixture
def queue(aws, monkeypatch):
    url = aws_clients.client("sqs").create_queue(QueueName="sync-orders-dlq")["QueueUrl"]
    monkeypatch.setenv("SYNC_DEAD_LETTER_QUEUE_URL", url)
    monkeypatch.setenv("ORDER_WORKFLOW_ARN", "arn:aws:states:eu-west-1:123456789012:stateMachine:orders")
    return url


@pytest.fixture
def blink() -> Blink:
    return Blink(order_list_per_page=30)


@pytest.fixture
def deps(queue, blink):
    """The container with the Blink sandbox as Blink, one merchant with one branch (Blink 50220,
    the doc sample's) and a Step Functions recorder."""
    get_settings.cache_clear()
    get_deps.cache_clear()
    deps = get_deps()
    deps.vendors = VendorClients(
        get_settings(), credentials=lambda _: CREDENTIALS, transport=httpx.WSGITransport(app=blink.sandbox)
    )
    deps.stepfunctions = StepFunctionsRecorder()
    deps.config.put(
        Merchant(merchant_id=MERCHANT, name="Demo Restaurant"),
        Branch(branch_id="12345", merchant_id=MERCHANT, name="XYZ road", blink_id="50220"),
    )
    yield deps
    get_deps.cache_clear()


def orders() -> dict[str, dict[str, Any]]:
    return {i["order_id"]: i for i in table_items("OrdersTable") if i["sk"] == "META"}


def timeline(order_id: str) -> list[dict[str, Any]]:
    return sorted(
        (i for i in table_items("OrdersTable") if i["pk"] == f"ORDER#{order_id}" and i["sk"].startswith("EVENT#")),
        key=lambda e: e["received_at"],
    )


def unmatched() -> list[dict[str, Any]]:
    return [i for i in table_items("OrdersTable") if i["pk"].startswith("UNMATCHED#")]


def stream_inserts(deps, order_ids: list[str] | None = None) -> list[str]:
    """The order stream, fed the INSERT record of each order (as DynamoDB would deliver them)."""
    module = handler_module("OrderStreamFunction")
    records = [
        {
            "eventID": str(n),
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "dynamodb": {
                "Keys": to_attrs({"pk": item["pk"], "sk": "META"}),
                "NewImage": to_attrs(item),
                "SequenceNumber": str(n),
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
        for n, item in enumerate(orders().values())
        if order_ids is None or item["order_id"] in order_ids
    ]
    answer = module.lambda_handler({"Records": records}, LambdaContext(function_name="OrderStreamFunction"))
    assert answer == {"batchItemFailures": []}
    return [name for call, name in deps.stepfunctions.calls if call == "start"]


def stream_modify(old: dict[str, Any], new: dict[str, Any]) -> None:
    """The order stream, fed the MODIFY record of one order item."""
    record = {
        "eventID": "1",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": to_attrs({"pk": new["pk"], "sk": "META"}),
            "NewImage": to_attrs(new),
            "OldImage": to_attrs(old),
            "SequenceNumber": "1",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    module = handler_module("OrderStreamFunction")
    answer = module.lambda_handler({"Records": [record]}, LambdaContext(function_name="OrderStreamFunction"))
    assert answer == {"batchItemFailures": []}


def dead_letters(url: str) -> list[dict[str, Any]]:
    answer = aws_clients.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def run(deps, seconds: float = 60.0):
    return catch_up.sync_orders(deps, Context(seconds))


# -- the catch-up -------------------------------------------------------------------------------


def test_an_order_whose_webhook_blink_dropped_is_created_once_and_its_late_webhook_is_a_duplicate(deps, blink):
    # Given Blink dropped the Order Webhook of a delivery order
    payload = blink.place_order(type="DELIVERY", customer_address_latitude="24.9", customer_address_longitude="67.1")
    order_id = order_id_for("blink", payload["blink_order_id"])
    assert order_id not in orders()

    # When the catch-up runs
    report = run(deps)

    # Then the order is created from getOrder, as its webhook would have created it
    assert (report.seen, report.changed, report.failed, report.finished) == (1, 1, 0, True)
    order = orders()[order_id]
    assert (order["branch_id"], order["blink_branch_id"], order["status"], order["state"]) == (
        "12345",
        "50220",
        "pending",
        "received",
    )
    assert (order["order_type"], str(order["customer"]["latitude"])) == ("DELIVERY", "24.9")
    assert [(i["source_item_id"], i["quantity"]) for i in order["items"]] == [("1c54bd7abe7b", 1)]
    assert str(order["amounts"]["total"]) == "66.67"
    [received] = timeline(order_id)
    assert received["event_key"] == f"blink:order:{payload['blink_order_id']}"
    assert received["detail"]["via"] == "order catch-up"
    # And its workflow starts on its insert
    assert stream_inserts(deps) == [order_id]
    # And the cursor is past it
    assert deps.cursors.get("orders", MERCHANT).value == payload["blink_order_id"]

    # When the webhook Blink dropped comes after all
    late = Hub().blink_order(payload)

    # Then it is a duplicate: one order, one received event
    assert (late.status, late.body) == (200, {"status": "accepted", "order_id": order_id})
    assert list(orders()) == [order_id] and len(timeline(order_id)) == 1

    # And a second catch-up changes nothing and asks Blink for no order again
    again = run(deps)
    assert (again.seen, again.changed) == (0, 0)
    assert len(blink.requests("/interface/v1/getOrder?")) <= 1
    assert len([r for r in blink.requests("/interface/v1/getOrder") if r["path"].endswith("getOrder")]) == 1


def test_orders_whose_webhook_came_are_passed_over_without_reading_them(deps, blink):
    # Given two orders, one whose webhook came
    came = blink.place_order()
    missed = blink.place_order()
    Hub().blink_order(came)

    # When the catch-up runs
    report = run(deps)

    # Then only the missed one is read with getOrder and created
    assert (report.seen, report.changed) == (2, 1)
    reads = [r["query"]["order_id"] for r in blink.requests("/interface/v1/getOrder") if r["path"].endswith("getOrder")]
    assert reads == [missed["blink_order_id"]]
    assert set(orders()) == {
        order_id_for("blink", came["blink_order_id"]),
        order_id_for("blink", missed["blink_order_id"]),
    }


def test_a_partner_order_we_submitted_is_recognised_by_its_submission_mark_not_made_twice(deps, blink):
    # Given a partner order we are submitting: its mark written, Blink's answer not yet recorded
    from orderbridge.models.order import Order, OrderSource, TimelineEvent

    ours = Order(
        order_id="partner-order-1",
        source=OrderSource.PARTNER,
        source_order_id="P-1",
        partner_id="demo-partner",
        merchant_id=MERCHANT,
        branch_id="12345",
        items=[],
        received_at=deps.clock(),
    )
    received = TimelineEvent(
        event_key="partner:P-1", source="partner", kind="order_received", received_at=deps.clock(), summary="x"
    )
    deps.orders.create(ours, received, raw="{}")
    deps.orders.expect_submission("50220", "Demo Delivery App P-1", ours.order_id)
    # And Blink took it (and dropped its announcement)
    submitted = blink.place_order(customer_name="Demo Delivery App P-1", blink_branch_id="50220")

    # When the catch-up runs
    report = run(deps)

    # Then Blink's order lands on ours: no second order, Blink's id linked to it
    assert report.changed == 1
    assert set(orders()) == {"partner-order-1"}
    assert orders()["partner-order-1"]["blink_order_id"] == submitted["blink_order_id"]
    kinds = [e["kind"] for e in timeline("partner-order-1")]
    assert "blink_order_announced" in kinds


def test_the_first_run_passes_over_orders_older_than_orderbridge(deps, blink):
    # Given an order placed in Blink two days before the first run
    old = blink.place_order(created_at="2020-01-01 10:00:00")
    new = blink.place_order()

    # When the catch-up runs for the first time
    report = run(deps)

    # Then only the recent one is entered, and the cursor is past both
    assert (report.seen, report.changed) == (2, 1)
    assert set(orders()) == {order_id_for("blink", new["blink_order_id"])}
    assert order_id_for("blink", old["blink_order_id"]) not in orders()
    assert deps.cursors.get("orders", MERCHANT).value == new["blink_order_id"]


def test_with_several_branches_the_branch_a_kept_status_names_is_the_order_s(deps, blink, queue):
    # Given a merchant with two branches, and two orders whose webhooks were dropped
    deps.config.put(Branch(branch_id="63", merchant_id=MERCHANT, name="Clifton", blink_id="60001"))
    placed = blink.place_order(branch_id="63", blink_branch_id="60001")
    unplaced = blink.place_order()
    # And the first one's status webhook came (naming its branch) before the order
    early = Hub().blink_status(blink.status(placed["blink_order_id"], 1) | {"branch_id": "63"})
    assert (early.status, early.body) == (202, {"status": "unmatched"})

    # When the catch-up runs
    report = run(deps)

    # Then the first is entered at the branch its status named; the second, placed nowhere, is
    # dead-lettered for a person and the cursor goes past it
    assert (report.seen, report.changed, report.failed) == (2, 1, 1)
    placed_id = order_id_for("blink", placed["blink_order_id"])
    assert set(orders()) == {placed_id} and orders()[placed_id]["branch_id"] == "63"
    [letter] = dead_letters(queue)
    assert unplaced["blink_order_id"] in json.dumps(letter)
    assert deps.cursors.get("orders", MERCHANT).value == unplaced["blink_order_id"]


def test_blink_unavailable_stops_the_scope_before_the_order_and_the_next_run_enters_it(deps, blink):
    # Given an order whose webhook was dropped, and getOrder failing
    payload = blink.place_order()
    blink.admin.post(
        "/_admin/faults", json={"drop_webhooks": True, "error_rate": 1, "paths": ["/interface/v1/getOrder"]}
    )

    # When the catch-up runs
    report = run(deps)

    # Then the order is not entered and the cursor stays before it
    assert (report.changed, report.finished) == (0, False)
    assert orders() == {} and deps.cursors.get("orders", MERCHANT).value is None

    # When Blink is back, the next run enters it
    blink.drop_webhooks()
    assert run(deps).changed == 1
    assert set(orders()) == {order_id_for("blink", payload["blink_order_id"])}


def test_two_thousand_orders_on_twenty_pages_in_five_seconds_a_run_finish_over_runs_none_twice(queue):
    # Given 2,000 orders on 20 pages of getOrderList, every webhook dropped
    blink = Blink(order_list_per_page=100)
    deps = _deps_for(blink)
    placed = [blink.place_order()["blink_order_id"] for _ in range(2000)]

    # When the catch-up runs in a function given 5 s, again and again
    reports = []
    while not reports or not reports[-1].finished:
        started = time.monotonic()
        reports.append(run(deps, seconds=5.0))
        # Then each run stops in time, having entered orders (how many fit in 5 s depends on the
        # machine's load: progress is what must hold, not a number of runs)
        assert time.monotonic() - started < 5.0
        assert reports[-1].changed > 0 or reports[-1].finished
        assert len(reports) <= 2000

    # And the runs finish it: every order once, and no run entered an order another did
    assert len(reports) > 1 and not reports[0].finished
    assert sum(r.changed for r in reports) == 2000
    assert set(orders()) == {order_id_for("blink", i) for i in placed}
    assert sum(1 for i in table_items("OrdersTable") if i["sk"].startswith("EVENT#blink:order:")) == 2000
    assert deps.cursors.get("orders", MERCHANT).value == placed[-1]


def test_two_runs_at_once_change_nothing_more_than_one(deps, blink):
    # Given 60 orders whose webhooks were dropped
    placed = [blink.place_order()["blink_order_id"] for _ in range(60)]
    barrier, reports = Barrier(2), []

    def one_run() -> None:
        barrier.wait()
        reports.append(run(deps))

    # When two runs start at once
    threads = [Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # Then each order is entered once, by one run or the other, and the cursor is past them all
    assert len(reports) == 2
    assert sum(r.changed for r in reports) == 60
    assert set(orders()) == {order_id_for("blink", i) for i in placed}
    assert deps.cursors.get("orders", MERCHANT).value == placed[-1]
    # And a third run finds nothing to do
    assert run(deps).changed == 0


def _deps_for(blink: Blink):
    get_settings.cache_clear()
    get_deps.cache_clear()
    deps = get_deps()
    deps.vendors = VendorClients(
        get_settings(), credentials=lambda _: CREDENTIALS, transport=httpx.WSGITransport(app=blink.sandbox)
    )
    deps.config.put(
        Merchant(merchant_id=MERCHANT, name="Demo Restaurant"),
        Branch(branch_id="12345", merchant_id=MERCHANT, name="XYZ road", blink_id="50220"),
    )
    return deps


# -- events kept before their order -------------------------------------------------------------


def test_a_status_that_came_before_its_order_is_applied_when_the_catch_up_brings_the_order(deps, blink):
    # Given Blink dropped an order's webhook, and its "accepted" then "ready" statuses came first
    payload = blink.place_order()
    blink_id = payload["blink_order_id"]
    hub = Hub()
    for status in (1, 6):
        early = hub.blink_status(blink.status(blink_id, status))
        assert (early.status, early.body["status"]) == (202, "unmatched")
    assert len(unmatched()) == 2

    # When the catch-up brings the order and its insert reaches the order stream
    run(deps)
    order_id = order_id_for("blink", blink_id)
    stream_inserts(deps)

    # Then both statuses are on its timeline once, in their order, the order is ready (getOrder
    # already said so: the kept statuses are recorded, the track never moves back), nothing is kept
    assert orders()[order_id]["status"] == "ready"
    statuses = [int(e["detail"]["status"]) for e in timeline(order_id) if e["kind"] == "blink_status"]
    assert statuses == [1, 6]
    assert unmatched() == []
    # And the same insert delivered again applies nothing twice
    stream_inserts(deps)
    assert len(timeline(order_id)) == 3


def test_statuses_before_their_order_webhook_are_applied_in_their_order_when_the_webhook_brings_it(deps, blink):
    # Given "accepted" then "ready" for an order we do not know yet (its webhook is late)
    payload = blink.place_order()
    hub = Hub()
    for status in (1, 6):
        assert hub.blink_status(blink.status(payload["blink_order_id"], status)).status == 202

    # When the order's webhook comes (status pending) and its insert reaches the stream
    assert hub.blink_order(payload).status == 200
    stream_inserts(deps)

    # Then both statuses are applied, in their order, and nothing is kept any more
    order_id = order_id_for("blink", payload["blink_order_id"])
    assert orders()[order_id]["status"] == "ready"
    applied = [(int(e["detail"]["status"]), e["applied"]) for e in timeline(order_id) if e["kind"] == "blink_status"]
    assert applied == [(1, True), (6, True)]
    assert unmatched() == []


def test_a_replay_interrupted_after_applying_applies_nothing_twice(deps, blink):
    # Given a kept status applied to its order, but its kept item not deleted (a crash in between)
    from orderbridge.workflow import unmatched as replay

    payload = blink.place_order()
    hub = Hub()
    hub.blink_status(blink.status(payload["blink_order_id"], 1))
    [kept] = unmatched()
    hub.blink_order(payload)
    order_id = order_id_for("blink", payload["blink_order_id"])
    assert replay.replay(deps, order_id, "blink", payload["blink_order_id"]) == 1
    aws_clients.client("dynamodb").put_item(TableName="OrdersTable", Item=to_attrs(kept))

    # When the replay runs again
    applied = replay.replay(deps, order_id, "blink", payload["blink_order_id"])

    # Then nothing is applied twice, and the kept item is gone
    assert applied == 0
    assert [e["kind"] for e in timeline(order_id)].count("blink_status") == 1
    assert unmatched() == []


def test_a_task_event_before_the_task_was_linked_is_applied_when_the_courier_job_is_set(deps, blink):
    # Given an order, and a Blink Logistics event for a task not yet linked to it
    from orderbridge.domain.statuses import new_courier_job
    from orderbridge.models.order import TimelineEvent
    from orderbridge.models.states import TaskEvent

    payload = blink.place_order()
    hub = Hub()
    hub.blink_order(payload)
    order_id = order_id_for("blink", payload["blink_order_id"])
    event = {"eventId": 24, "event": "TASK_ACCEPTED", "data": {"taskId": "T-9", "type": 1}}
    early = hub.task_status(event)
    assert early.status == 202 and len(unmatched()) == 1

    # When the task is linked (the courier job set with its alias) and the change reaches the stream
    before = orders()[order_id]
    deps.orders.link_vendor(
        order_id,
        TimelineEvent(
            event_key="orderbridge:task:T-9", source="orderbridge", kind="x", received_at=deps.clock(), summary="x"
        ),
        alias=("blink_logistics", "T-9"),
        follow=new_courier_job("T-9", TaskEvent.TASK_CREATED),
    )
    stream_modify(before, orders()[order_id])

    # Then the task event is applied to the order's courier track, and not kept any more
    assert orders()[order_id]["courier_status"] == "TASK_ACCEPTED"
    assert unmatched() == []


def test_a_rent_event_before_the_rent_was_recorded_is_applied_when_the_order_follows_the_rent(deps, blink):
    # Given an order, and a Bloq.It drop-off for a rent we have not recorded yet
    from orderbridge.domain.statuses import rent_state_update
    from orderbridge.models.order import TimelineEvent
    from orderbridge.models.rent import Rent
    from orderbridge.models.states import RentState

    payload = blink.place_order()
    hub = Hub()
    hub.blink_order(payload)
    order_id = order_id_for("blink", payload["blink_order_id"])
    body = json.dumps({"_id": "ev-1", "codeName": "rent.in_progress", "rent": "R-1", "bloq": "b", "locker": "L"})
    assert hub.bloq(body).status == 202 and len(unmatched()) == 1

    # When the rent is recorded, the order's rent track follows it, and the change reaches the stream
    deps.rents.put(Rent(rent_id="R-1", order_id=order_id, state="reserved", created_at=deps.clock()))
    before = orders()[order_id]
    deps.orders.link_vendor(
        order_id,
        TimelineEvent(
            event_key="orderbridge:rent:R-1", source="orderbridge", kind="x", received_at=deps.clock(), summary="x"
        ),
        follow=rent_state_update(RentState.RESERVED).of("R-1"),
    )
    stream_modify(before, orders()[order_id])

    # Then the drop-off moved the rent and the order's rent track, once, and is not kept any more
    assert deps.rents.get("R-1").state == "in_progress"
    assert orders()[order_id]["rent_state"] == "in_progress"
    assert [i["pk"] for i in table_items("RentsTable") if i["pk"].startswith("BLOQEVENT#")] == ["BLOQEVENT#ev-1"]
    assert unmatched() == []
    # And the same event delivered again is a duplicate
    assert hub.bloq(body).status == 200
    assert [e["event_key"] for e in timeline(order_id)].count("bloq:ev-1") == 1


def test_a_kept_status_naming_another_branch_than_its_order_s_is_dropped_when_replayed(deps, blink, caplog):
    # Given a second branch configured, and a status that named it for an order not known yet
    deps.config.put(Branch(branch_id="63", merchant_id=MERCHANT, name="Clifton", blink_id="60001"))
    payload = blink.place_order()
    hub = Hub()
    early = hub.blink_status(blink.status(payload["blink_order_id"], 6) | {"branch_id": "63"})
    assert (early.status, early.body) == (202, {"status": "unmatched"})
    # And a status that named the order's own branch
    assert hub.blink_status(blink.status(payload["blink_order_id"], 1) | {"branch_id": "12345"}).status == 202

    # When the order comes, at branch 12345, and its insert reaches the order stream
    assert hub.blink_order(payload).status == 200
    order_id = order_id_for("blink", payload["blink_order_id"])
    assert orders()[order_id]["branch_id"] == "12345"
    stream_inserts(deps)

    # Then the other branch's status changed nothing: not on the timeline, the order only accepted,
    # and it is no longer kept (dropped with a warning, as its webhook refuses it once the order is known)
    assert orders()[order_id]["status"] == "accepted"
    statuses = [int(e["detail"]["status"]) for e in timeline(order_id) if e["kind"] == "blink_status"]
    assert statuses == [1]
    assert unmatched() == []
    assert "names another branch than its order's" in caplog.text
