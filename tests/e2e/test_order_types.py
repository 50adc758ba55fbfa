"""Every order reaches its right end — issue "Every order reaches its right end".

Driven only as the outside world would: the Blink sandbox places orders (its Order Webhook) and the
kitchen moves them (its Order Status Webhook), the delivery partner sends the Blend doc's sample,
the couriers and the lockers move in their sandboxes, a person uses the ops API. Each scenario
checks what every vendor received — the statuses Blink got, the rents Bloq.It holds, the courier
jobs — and the order's lifecycle ``state`` in the ops API. The scenarios of a test run at once on
the one stack (``run_concurrently``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from orderbridge.domain.ids import order_id_for
from orderbridge.models.config import ItemMapping
from orderbridge.store.config import ConfigStore
from orderbridge_local.seed import DEMO_MERCHANT, DEMO_PARTNER, DEMO_PICKUP_BLOQ_ID

from tests.e2e.flow import CUSTOMER, HOME_BRANCH, Flow, Placed, rent_id_of, run_concurrently
from tests.e2e.support import PRE_ORDER_LEAD_SECONDS

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("patient_flow", "enough_lockers")]  # scenarios run at once

PICKUP_LOCKER_BRANCH = "64"  # seed: a Bloq of its own for PICK-UP orders
PARTNER_NAME = "DemoApp"  # seed: the partner's display name in Blink
PARTNER_PHONE = "+351210000000"


def ended(flow: Flow, placed: Placed, state: str, timeout: float = 40.0) -> dict[str, Any]:
    """The order once its lifecycle ``state`` is reached (and its execution has ended)."""
    order = flow.wait_order(placed, lambda o: o["state"] == state, f"the order {state}", timeout)
    flow.wait_execution_end(placed, timeout=timeout)
    return order


def courier_jobs(flow: Flow, placed: Placed, customer_name: str) -> tuple[int, int]:
    """(Blink Logistics tasks, DispatchNINJA orders) created for the order."""
    return len(flow.tasks_of(placed.order_id)), len(flow.dispatchninja_orders_of(customer_name))


# --------------------------------------------------------------------------------- order types


def locker_delivery(flow: Flow) -> None:
    placed = flow.place(type="DELIVERY", **{**CUSTOMER, "customer_name": "Ana Locker"})
    order = flow.wait_courier_task(placed)
    flow.deliver_to_locker(placed, order["order"]["blink_logistics_task_id"], rent_id_of(order))
    order = ended(flow, placed, "collected")
    report = flow.report(placed)
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], report
    assert len(flow.bloqit_rents_of(placed.order_id)) == 1, report
    assert courier_jobs(flow, placed, "Ana Locker") == (1, 0), report


def home_delivery(flow: Flow) -> None:
    placed = flow.place(
        branch_id=HOME_BRANCH, blink_branch_id="60001", type="DELIVERY", **{**CUSTOMER, "customer_name": "Ana Home"}
    )
    order = flow.wait_order(placed, lambda o: o["order"].get("dispatchninja_order_id"), "a DispatchNINJA order")
    dn_id = order["order"]["dispatchninja_order_id"]
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Picked Up"})
    flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told ready and dispatched")
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Completed"})
    ended(flow, placed, "delivered")
    report = flow.report(placed)
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], report
    assert flow.bloqit_rents_of(placed.order_id) == [], report
    assert courier_jobs(flow, placed, "Ana Home") == (0, 1), report


def counter_pickup(flow: Flow) -> None:
    # The Blink doc's own sample: a PICK-UP order, no coordinates, at a branch without a pickup locker
    placed = flow.place(
        type="PICK-UP", customer_name="Ana Counter", customer_address_latitude=None, customer_address_longitude=None
    )
    flow.wait_order(
        placed,
        lambda o: o["status"] == "accepted" and o["step"] == "blink_completed",
        "accepted, then waiting for the kitchen",
    )
    flow.kitchen(placed.blink_order_id, 6)
    flow.kitchen(placed.blink_order_id, 3)  # the customer took it at the counter
    ended(flow, placed, "collected")
    report = flow.report(placed)
    assert flow.blink_statuses(placed.blink_order_id) == [1], report  # the kitchen set the rest itself
    assert flow.bloqit_rents_of(placed.order_id) == [], report
    assert courier_jobs(flow, placed, "Ana Counter") == (0, 0), report


def locker_pickup(flow: Flow) -> None:
    placed = flow.place(
        type="PICK-UP",
        branch_id=PICKUP_LOCKER_BRANCH,
        blink_branch_id="60002",
        customer_name="Ana Kiosk",
        customer_phone="+351910000001",
    )
    order = flow.wait_order(placed, lambda o: o["step"] == "dropoff", "waiting for the staff's drop-off")
    rent_id = rent_id_of(order)
    assert flow.rent(rent_id)["bloq"] == DEMO_PICKUP_BLOQ_ID
    assert flow.blink_statuses(placed.blink_order_id) == [1]
    flow.rent_admin(rent_id, "dropoff")  # the staff put it in the locker
    flow.wait_order(placed, lambda o: o["step"] == "pickup", "the customer notified, waiting for the pickup")
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6]
    flow.rent_admin(rent_id, "pickup")
    ended(flow, placed, "collected")
    report = flow.report(placed)
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 3], report
    assert len(flow.bloqit_rents_of(placed.order_id)) == 1, report
    assert courier_jobs(flow, placed, "Ana Kiosk") == (0, 0), report


def dine_in(flow: Flow) -> None:
    placed = flow.place(
        type="DINE-IN",
        customer_name="Ana Table",
        customer_address_description="DINE-IN",
        customer_address_latitude=None,
        customer_address_longitude=None,
    )
    flow.wait_order(placed, lambda o: o["step"] == "blink_completed", "accepted, then waiting for the kitchen")
    flow.kitchen(placed.blink_order_id, 3)
    ended(flow, placed, "delivered")
    report = flow.report(placed)
    assert flow.blink_statuses(placed.blink_order_id) == [1], report
    assert flow.bloqit_rents_of(placed.order_id) == [], report
    assert courier_jobs(flow, placed, "Ana Table") == (0, 0), report


def pre_order(flow: Flow) -> None:
    # Due in lead time + 40 s: nothing may be booked (nor accepted) for about 40 s
    due = (datetime.now(UTC) + timedelta(seconds=PRE_ORDER_LEAD_SECONDS + 40)).replace(microsecond=0)
    start = due - timedelta(seconds=PRE_ORDER_LEAD_SECONDS)
    placed = flow.place(
        type="DELIVERY",
        **{**CUSTOMER, "customer_name": "Ana Later"},
        is_pre_order=1,
        due_at=due.strftime("%Y-%m-%d %H:%M:%S"),
    )
    waiting = flow.wait_order(placed, lambda o: o["step"] == "due_time", "waiting for its start time")
    assert waiting["state"] == "in_progress"
    report = flow.report(placed)
    assert datetime.now(UTC) < start, "the check below must run before the start time"
    assert flow.blink_statuses(placed.blink_order_id) == [], report  # not even accepted yet
    assert flow.bloqit_rents_of(placed.order_id) == [] and flow.tasks_of(placed.order_id) == [], report
    order = flow.wait_courier_task(placed)  # once due minus the lead time: locker, accept, courier
    booked = [e for e in order["timeline"] if e["kind"] == "rent_reserved"][0]["received_at"]
    # (the emulator's Wait state may end up to a second early)
    assert datetime.fromisoformat(booked) >= start - timedelta(seconds=1), report
    flow.deliver_to_locker(placed, order["order"]["blink_logistics_task_id"], rent_id_of(order))
    ended(flow, placed, "collected")
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], flow.report(placed)


def test_each_order_type_takes_its_own_path_with_the_right_vendor_calls_and_no_others(flow):
    run_concurrently(
        {
            "DELIVERY to a locker": lambda: locker_delivery(flow),
            "DELIVERY to the door": lambda: home_delivery(flow),
            "PICK-UP at the counter": lambda: counter_pickup(flow),
            "PICK-UP from the branch's locker": lambda: locker_pickup(flow),
            "DINE-IN": lambda: dine_in(flow),
            "a pre-order": lambda: pre_order(flow),
        }
    )


# --------------------------------------------------------------------------------- partner orders


def partner_order_reaches_blink(flow: Flow) -> None:
    # Given the Blend doc's sample (DELIVERY, items 1 and 2, option 1 — all mapped), its rider the platform's
    placed = flow.partner_order()
    blink_id = flow.blink_order_of(placed)

    # Then Blink holds it under the partner's identity, with the mapped items and the branch's address
    held = flow.admin("blink", "GET", f"/_admin/orders/{blink_id}")
    sent = held["request"]
    partner_order_id = flow.order(placed.order_id)["order"]["source_order_id"]
    assert (sent["customer_name"], sent["customer_phone"]) == (f"{PARTNER_NAME} {partner_order_id}", PARTNER_PHONE)
    assert (sent["blink_branch_id"], sent["delivery_type"], sent["delivery"]["city"]) == (
        "50220",
        "delivery",
        "Karachi",
    )
    assert [(i["blink_item_id"], i["quantity"]) for i in sent["items"]] == [("257327", "2"), ("257328", "1")]
    assert sent["items"][0]["sub_options"][0]["sub_option_id"] == "596996"

    # And the kitchen takes it to the end in Blink (the platform's rider collects it)
    flow.wait_order(placed, lambda o: o["step"] == "blink_completed", "accepted, waiting for the kitchen")
    flow.kitchen(blink_id, 6)
    flow.kitchen(blink_id, 3)
    order = ended(flow, placed, "delivered")
    report = flow.report(placed)
    assert flow.blink_statuses(blink_id) == [1], report
    assert courier_jobs(flow, placed, sent["customer_name"]) == (0, 0) and flow.bloqit_rents_of(placed.order_id) == []

    # And Blink's announcement of the order changed nothing: one order, one workflow
    assert held["announced"] is True, held
    announced = [e for e in order["timeline"] if e["kind"] == "blink_order_announced"]
    assert len(announced) == 1, report
    assert flow.order(order_id_for("blink", blink_id)) is None, report
    assert flow.executions_of(placed.order_id) == [placed.order_id], report
    assert flow.execution(order_id_for("blink", blink_id)) is None


def test_a_partner_order_reaches_blink_as_one_order_whichever_comes_first(flow):
    run_concurrently({"Blink announces it after answering": lambda: partner_order_reaches_blink(flow)})
    # The announcement arriving before submitOrder's answer is recorded: the same, one order
    flow.admin("blink", "POST", "/_admin/settings", json={"announce_submitted_orders": "before"})
    try:
        run_concurrently({"Blink announces it before answering": lambda: partner_order_reaches_blink(flow)})
    finally:
        flow.admin("blink", "POST", "/_admin/settings", json={"announce_submitted_orders": "after"})


def test_an_unmapped_partner_item_needs_attention_then_a_mapping_and_a_retry_put_it_in_blink(flow, aws, stack):
    # Given a partner order with an item no mapping knows
    item_id = f"x{time.time_ns() % 10**9}"
    placed = flow.partner_order(
        payload={
            "items": [{"id": item_id, "quantity": 1, "price": 12, "note": "", "options": []}],
            "subtotal": 12,
            "tax": 0,
            "discount": 0,
            "total": 12,
        }
    )
    # Then it needs a person, with the reason in plain words, and Blink got nothing
    order = flow.wait_order(placed, lambda o: o["state"] == "needs_attention", "needs attention")
    failure = order["failure"]
    assert failure["step"] == "SubmitToBlink" and failure["kind"] == "ActionRefused", failure
    assert f"no Blink item is mapped for items[0] (item {item_id})" in failure["message"], failure
    assert "Traceback" not in str(order) and order["order"]["blink_order_id"] is None
    assert placed.order_id in flow.listed(state="needs_attention")

    # When the mapping is added to the configuration and the order retried through the ops API
    config = ConfigStore(aws("dynamodb"), stack["seeded"]["config_table"])
    config.put(
        ItemMapping(
            partner_id=DEMO_PARTNER,
            merchant_id=DEMO_MERCHANT,
            kind="item",
            partner_item_id=item_id,
            product_id="prod-burger",
            blink_id="257327",
            name="Burger",
        )
    )
    answer = flow.ops("POST", f"/orders/{placed.order_id}/retry")
    assert answer.status_code == 202, answer.text

    # Then it is in Blink with the mapped item, and in progress again
    blink_id = flow.blink_order_of(placed)
    sent = flow.admin("blink", "GET", f"/_admin/orders/{blink_id}")["request"]
    assert [(i["blink_item_id"], i["name"]) for i in sent["items"]] == [("257327", "Burger")]
    order = flow.wait_order(placed, lambda o: o["step"] == "blink_completed", "in progress again")
    assert order["failure"] is None and order["order"]["unmapped"] == []
    # And a retry is refused for an order that does not need attention
    assert flow.ops("POST", f"/orders/{placed.order_id}/retry").status_code == 409


def test_the_ops_api_lists_failed_needs_attention_and_stuck_orders_by_state(flow):
    # Given an order that failed (Bloq.It down for it), one that needs a person (an unmapped item)
    # and one whose workflow died while it waited (stuck once the wait's deadline passed)
    failed = flow.place(type="DELIVERY", **{**CUSTOMER, "customer_name": "Ana Failed"})
    flow.outage("bloqit", f"failed-{failed.order_id}", ["/"], failed.order_id)
    attention = flow.partner_order(
        payload={"items": [{"id": "nope", "quantity": 1, "price": 5, "note": "", "options": []}]}
    )
    stuck = flow.place(type="PICK-UP", customer_name="Ana Stuck")
    flow.wait_order(stuck, lambda o: o["step"] == "blink_completed", "waiting for the kitchen")
    flow.sfn.stop_execution(executionArn=flow.execution_arn(stuck.order_id), error="Killed", cause="e2e")
    try:
        flow.wait_order(failed, lambda o: o["state"] == "failed", "failed", timeout=90)
    finally:
        flow.end_outage("bloqit", f"failed-{failed.order_id}")
    flow.wait_order(attention, lambda o: o["state"] == "needs_attention", "needs attention")
    flow.wait_order(stuck, lambda o: o["state"] == "stuck", "stuck", timeout=120)

    # Then each is listed under its state, and under no other
    lists = {state: flow.listed(state=state) for state in ("failed", "needs_attention", "stuck", "in_progress")}
    for placed, state in ((failed, "failed"), (attention, "needs_attention"), (stuck, "stuck")):
        assert {s for s, ids in lists.items() if placed.order_id in ids} == {state}, (state, flow.report(placed))
    order = flow.order(failed.order_id)
    assert order["failure"]["vendor"] == "bloqit" and order["failure"]["http_status"] == 503, order["failure"]
    assert order["failure"]["step"] == "ReserveLocker" and "\n" not in order["failure"]["message"]
    # And a bad state is a 400 naming the field
    answer = flow.ops("GET", "/orders", params={"state": "lost"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "state"
