"""Resume from any failure point — issue "Every order reaches its right end", point 4.

For each step of the locker path and of the home path, one order meets an outage of exactly that
call (a sandbox outage scoped to the order: ``Flow.outage``), its workflow retries, gives up and
records the failure; the outage ends, a person resumes the order through the ops API once, and the
order is driven to its end. Then what the vendors hold is checked: Blink received each status once
and in order, the order's goods went into exactly one rent (any other rent of the order was released
empty before the resume), exactly one courier job. All scenarios run at once on the one stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.e2e.flow import CUSTOMER, HOME_BRANCH, Flow, Placed, new_blink_order_id, run_concurrently

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("patient_flow", "enough_lockers")]  # scenarios run at once

SYNC_STATUS = "/interface/v1/syncOrderStatus"
SUBMIT = "/interface/v1/submitOrder"
BLOQIT = "/"  # the Bloq.It base path is a deployment setting: match on the order's ids only
TASK_CREATE = "/api/client/task"  # Blink Logistics: create (and look up) a task, our order id its reference
DN_ADD = "/dn_api/1.1.0/orders/add"
FAILED_WITHIN = 120.0


@dataclass
class Outage:
    sandbox: str
    paths: list[str]
    contains: Callable[[Placed, str], list[str]]  # (order, its rent id or customer name) → strings to match


def status_outage(status: int) -> Outage:
    return Outage("blink", [SYNC_STATUS], lambda p, _: [f'"blink_order_id":"{p.blink_order_id}"', f'"status":{status}'])


# Where each step's vendor call is, and what of the order it carries.
STEPS: dict[str, Outage] = {
    "reserve": Outage("bloqit", [BLOQIT], lambda p, _: [p.order_id]),
    "accept": status_outage(1),
    "dispatch": Outage("blink_logistics", [TASK_CREATE], lambda p, _: [p.order_id]),
    "notify": Outage("bloqit", [BLOQIT], lambda p, rent: [f"/{rent}/notify"]),
    "ready": status_outage(6),
    "dispatched": status_outage(2),
    "delivered": status_outage(3),
}
HOME_STEPS: dict[str, Outage] = {
    "accept": status_outage(1),
    "dispatch": Outage("dispatchninja", [DN_ADD], lambda p, customer: [f"customer_name={customer}"]),
    "ready": status_outage(6),
    "dispatched": status_outage(2),
    "delivered": status_outage(3),
}


class Scenario:
    """One order, one outage at ``step``, one resume."""

    def __init__(self, flow: Flow, step: str, outage: Outage) -> None:
        self.flow, self.step, self.outage = flow, step, outage
        self.name = ""
        self.customer = ""

    def start(self, placed: Placed, rent_id: str = "") -> None:
        """The outage starts (``rent_id``: the order's rent once known; a home order's customer name)."""
        self.name = f"{self.step}-{placed.order_id}"
        known = rent_id or self.customer
        self.flow.outage(self.outage.sandbox, self.name, self.outage.paths, *self.outage.contains(placed, known))

    def fails_then_resumes(self, placed: Placed) -> str:
        """Wait for the recorded failure, end the outage, resume once; the new execution's name."""
        flow = self.flow
        try:
            order = flow.wait_order(placed, lambda o: o["state"] == "failed", f"failed at {self.step}", FAILED_WITHIN)
        finally:
            flow.end_outage(self.outage.sandbox, self.name)
        # The failure names the step that failed (its last error may be the emulator's, under load)
        assert order["failure"]["step"] and order["failure"]["message"], order["failure"]
        flow.wait_execution_end(placed)
        return resume(flow, placed)


def resume(flow: Flow, placed: Placed) -> str:
    """A person resumes the order once; a 5xx (our side was busy: a retry is safe) is retried, and a
    resume that went through before its answer was lost is not made twice."""
    for _ in range(3):
        answer = flow.ops("POST", f"/orders/{placed.order_id}/resume")
        if answer.status_code == 202:
            return answer.json()["execution"]
        assert answer.status_code >= 500, answer.text
        time.sleep(3)
        started = [name for name in flow.executions_of(placed.order_id) if name != placed.order_id]
        if started:
            return started[-1]
    raise AssertionError(f"the resume of {placed.order_id} kept failing: {answer.status_code} {answer.text}")


def goods_rents(flow: Flow, placed: Placed) -> tuple[list[dict], list[dict]]:
    """The order's rents at Bloq.It: those that held the goods, and the others (released empty)."""
    rents = flow.bloqit_rents_of(placed.order_id)
    held = [r for r in rents if any(s["state"] == "in_progress" for s in r["states"])]
    return held, [r for r in rents if r not in held]


def locker_order(flow: Flow, step: str) -> None:
    scenario = Scenario(flow, step, STEPS[step])
    placed = flow.place(type="DELIVERY", **{**CUSTOMER, "customer_name": f"Locker {step}"})
    if step in ("reserve", "accept", "dispatch"):
        scenario.start(placed)
        resumed = scenario.fails_then_resumes(placed)
        order = flow.wait_courier_task(placed)
    else:
        order = flow.wait_courier_task(placed)
    task_id = order["order"]["blink_logistics_task_id"]
    rent_id = [e for e in order["timeline"] if e["kind"] == "rent_reserved"][-1]["detail"]["rent_id"]
    if step in ("notify", "ready", "dispatched"):
        scenario.start(placed, rent_id)
        flow.advance_task(task_id, to=26)
        if step == "notify":
            flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told dispatched")
            flow.rent_admin(rent_id, "dropoff")
        resumed = scenario.fails_then_resumes(placed)
        if step != "notify":
            flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told dispatched")
            flow.rent_admin(rent_id, "dropoff")
    elif step == "delivered":
        scenario.start(placed, rent_id)
        flow.drop_off(placed, task_id, rent_id)
        flow.rent_admin(rent_id, "pickup")
        resumed = scenario.fails_then_resumes(placed)
    else:
        flow.drop_off(placed, task_id, rent_id)
    if step != "delivered":
        flow.wait_order(placed, lambda o: o["step"] == "pickup", "waiting for the customer")
        flow.rent_admin(rent_id, "pickup")
    flow.wait_execution_end(placed, resumed, timeout=60)

    order = flow.order(placed.order_id)
    report = flow.report(placed)
    assert flow.execution_status(resumed) == "SUCCEEDED", report
    assert order["state"] == "collected", report
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], report
    held, released = goods_rents(flow, placed)
    assert len(held) == 1 and held[0]["_id"] == rent_id, report
    assert all(r["state"] == "finished" and len(r["states"]) <= 4 for r in released), (released, report)
    assert len(flow.tasks_of(placed.order_id)) == 1, report


def home_order_scenario(flow: Flow, step: str) -> None:
    scenario = Scenario(flow, step, HOME_STEPS[step])
    customer = f"Dn{new_blink_order_id()}"  # one word: the form-encoded body carries it as it is
    placed = flow.place(
        branch_id=HOME_BRANCH, blink_branch_id="60001", type="DELIVERY", **{**CUSTOMER, "customer_name": customer}
    )
    scenario.customer = customer
    if step in ("accept", "dispatch"):
        scenario.start(placed)
        resumed = scenario.fails_then_resumes(placed)
    order = flow.wait_order(placed, lambda o: o["order"].get("dispatchninja_order_id"), "a DispatchNINJA order")
    dn_id = order["order"]["dispatchninja_order_id"]
    if step in ("ready", "dispatched"):
        scenario.start(placed)
        flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Picked Up"})
        resumed = scenario.fails_then_resumes(placed)
    else:
        flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Picked Up"})
    flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told dispatched")
    if step == "delivered":
        scenario.start(placed)
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Completed"})
    if step == "delivered":
        resumed = scenario.fails_then_resumes(placed)
    flow.wait_execution_end(placed, resumed, timeout=60)

    order = flow.order(placed.order_id)
    report = flow.report(placed)
    assert flow.execution_status(resumed) == "SUCCEEDED", report
    assert order["state"] == "delivered", report
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], report
    assert len(flow.dispatchninja_orders_of(customer)) == 1, report
    assert flow.bloqit_rents_of(placed.order_id) == [], report


def partner_submit(flow: Flow) -> None:
    # A partner order: Blink's submitOrder is down for it
    placed = flow.partner_order()
    partner_order_id = flow.wait_order(placed, lambda o: True, "the partner order")["order"]["source_order_id"]
    outage = Outage("blink", [SUBMIT], lambda p, _: [partner_order_id])
    scenario = Scenario(flow, "submit", outage)
    scenario.start(placed)
    resumed = scenario.fails_then_resumes(placed)
    blink_id = flow.blink_order_of(placed)
    flow.wait_order(placed, lambda o: o["step"] == "blink_completed", "waiting for the kitchen")
    flow.kitchen(blink_id, 3)
    flow.wait_execution_end(placed, resumed, timeout=60)
    report = flow.report(placed)
    assert flow.execution_status(resumed) == "SUCCEEDED", report
    assert flow.order(placed.order_id)["state"] == "delivered", report
    submitted = [
        o
        for o in flow.admin("blink", "GET", "/_admin/orders")
        if o.get("source") == "submitOrder" and partner_order_id in str(o.get("request", {}))
    ]
    assert len(submitted) == 1, report  # one order in Blink for the sale


def test_an_outage_at_any_step_then_one_resume_ends_delivered_with_one_effect_at_every_vendor(flow):
    scenarios: dict[str, Callable[[], None]] = {"partner order, submit": lambda: partner_submit(flow)}
    for step in STEPS:
        scenarios[f"locker path, {step}"] = lambda step=step: locker_order(flow, step)
    for step in HOME_STEPS:
        scenarios[f"home path, {step}"] = lambda step=step: home_order_scenario(flow, step)
    run_concurrently(scenarios, workers=5)  # more at once only queue in the emulator
