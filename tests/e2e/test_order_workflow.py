"""The order workflow on the local stack — issue "The delivery-to-locker flow in Step Functions".

Each scenario drives one fresh Blink order only as the outside world would: the Blink sandbox
places it (its Order Webhook), the courier and the locker move in their sandboxes (Blink Logistics
task events, DispatchNINJA statuses read by the courier keeper, Bloq.It rent events), vendors
fail through the sandboxes' faults, and an operator uses the ops API. Each is then checked where
it shows:

* the ops API (``GET /ops/orders/{id}``): the order's status tracks and its timeline;
* what Blink received (the Blink sandbox's ``status_history``, ``syncOrderStatus`` entries):
  complete and in order, so compared as a whole list, and monotonic;
* the Bloq.It sandbox's rent and the states it went through;
* the execution in the emulator's Step Functions (named after the order; ``-r<n>`` once resumed).

The session stack runs with ``WorkflowDropoffTimeoutSeconds=25`` (``conftest.py``) so the missed
drop-off deadline can be waited for; the other scenarios drop off within seconds.

State transitions of one execution (``*StateEntered`` history events — what a Standard workflow
is billed by), measured here (``pytest -s`` prints them): locker happy path 17; home delivery
with DispatchNINJA 14.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from orderbridge.domain.ids import order_id_for
from orderbridge.models.config import Branch, CourierProvider, DeliveryMode
from orderbridge.store.config import ConfigStore
from orderbridge_local.seed import DEMO_BLOQ_IDS, DEMO_MERCHANT, DEV_VENDOR_CREDENTIALS

from tests.e2e.support import WORKFLOW_DROPOFF_TIMEOUT_SECONDS

pytestmark = pytest.mark.e2e

STATE_MACHINE = "orderbridge-order-delivery-local"
LOCKER_BRANCH = "12345"  # seed: locker delivery, Blink Logistics, the two Lisbon Bloqs
HOME_BRANCH = "63"  # seed: home delivery, DispatchNINJA
NO_FALLBACK_BRANCH = "e2e-no-fallback"  # written by a test: the Lisbon Bloqs, no home delivery fallback
CUSTOMER = {  # a customer at home in Lisbon (the Blink Order Webhook's fields)
    "customer_name": "Ana Silva",
    "customer_phone": "+351910000000",
    "customer_address_description": "Rua Augusta 100, 1100-053 Lisboa",
    "customer_address_latitude": "38.7100",
    "customer_address_longitude": "-9.1370",
}
# Blink statuses in the order an order moves through them (4 rejected and 3 delivered are terminal).
BLINK_RANK = {0: 0, 1: 1, 6: 2, 2: 3, 3: 4, 4: 4}

_RUN = uuid.uuid4().int % 100_000
_COUNTER = itertools.count(1)


def new_blink_order_id() -> str:
    """A numeric Blink order id no other test of this session uses."""
    return f"9{_RUN:05d}{next(_COUNTER):03d}"


# --------------------------------------------------------------------------------------- driver


@dataclass
class Placed:
    blink_order_id: str
    order_id: str


@dataclass
class Flow:
    """Drives orders through the sandboxes and reads what the stack made of them."""

    stack: dict[str, Any]
    http: httpx.Client
    aws: Callable[[str], Any]
    state_machine_arn: str
    _sfn: Any = field(default=None, repr=False)

    @property
    def sfn(self) -> Any:
        if self._sfn is None:
            self._sfn = self.aws("stepfunctions")
        return self._sfn

    def sandbox(self, name: str) -> str:
        url = self.stack["sandboxes"][name]
        return url.split("/dn_api/", 1)[0] if name == "dispatchninja" else url  # admin routes at the root

    def admin(self, sandbox: str, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, f"{self.sandbox(sandbox)}{path}", **kwargs)
        assert answer.status_code < 300, f"{sandbox} {method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    # -- acting --------------------------------------------------------------------------------

    def place(self, **overrides: Any) -> Placed:
        """The Blink sandbox places a delivery order (its Order Webhook reaches the stack)."""
        blink_order_id = new_blink_order_id()
        body = {"blink_order_id": blink_order_id, "type": "DELIVERY", "branch_id": LOCKER_BRANCH, **overrides}
        self.admin("blink", "POST", "/_admin/place-order", json=body)
        return Placed(blink_order_id, order_id_for("blink", blink_order_id))

    def advance_task(self, task_id: str, **body: Any) -> None:
        self.admin("blink_logistics", "POST", f"/_admin/tasks/{task_id}/advance", json=body)

    def rent_admin(self, rent_id: str, action: str) -> None:
        self.admin("bloqit", "POST", f"/_admin/rents/{rent_id}/{action}")

    # -- reading -------------------------------------------------------------------------------

    def order(self, order_id: str) -> dict[str, Any] | None:
        answer = self.http.get(f"{self.stack['api']}/ops/orders/{order_id}",
                               headers={"X-Api-Key": self.stack["ops_api_key"]})
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        return answer.json()

    def blink_history(self, blink_order_id: str) -> list[dict[str, Any]]:
        return self.admin("blink", "GET", f"/_admin/orders/{blink_order_id}")["status_history"]

    def blink_statuses(self, blink_order_id: str) -> list[int]:
        """The statuses Blink received from us (syncOrderStatus), in the order it received them."""
        return [entry["status"] for entry in self.blink_history(blink_order_id) if entry["source"] == "syncOrderStatus"]

    def rent(self, rent_id: str) -> dict[str, Any]:
        return self.admin("bloqit", "GET", f"/_admin/rents/{rent_id}")

    def bloqit_rents_of(self, order_id: str) -> list[dict[str, Any]]:
        return [r for r in self.admin("bloqit", "GET", "/_admin/state")["rents"] if r.get("externalID") == order_id]

    def task(self, task_id: str) -> dict[str, Any]:
        return self.admin("blink_logistics", "GET", f"/_admin/tasks/{task_id}")

    def execution_arn(self, name: str) -> str:
        return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"

    def execution(self, name: str) -> dict[str, Any] | None:
        try:
            return self.sfn.describe_execution(executionArn=self.execution_arn(name))
        except self.sfn.exceptions.ExecutionDoesNotExist:
            return None

    def execution_status(self, name: str) -> str | None:
        found = self.execution(name)
        return found["status"] if found else None

    def history(self, name: str) -> list[dict[str, Any]]:
        return self.sfn.get_execution_history(executionArn=self.execution_arn(name), maxResults=1000)["events"]

    def states_entered(self, name: str) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history(name) if e["type"].endswith("StateEntered")]

    def executions_of(self, order_id: str) -> list[str]:
        names = [e["name"] for e in self.sfn.list_executions(stateMachineArn=self.state_machine_arn,
                                                             maxResults=1000)["executions"]]
        return sorted(n for n in names if n == order_id or n.startswith(f"{order_id}-r"))

    # -- waiting -------------------------------------------------------------------------------

    def wait_for(self, placed: Placed, predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
        """Poll ``predicate`` (bounded); on timeout fail with the order's timeline and executions."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = predicate()
            except (KeyError, TypeError, IndexError):  # the order is not (fully) there yet
                result = None
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what}: not within {timeout:.0f} s\n{self.report(placed)}")
            time.sleep(0.3)

    def wait_order(self, placed: Placed, predicate: Callable[[dict[str, Any]], Any], what: str,
                   timeout: float = 20.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            found = self.order(placed.order_id)
            return found if found is not None and predicate(found) else None

        return self.wait_for(placed, check, what, timeout)

    def wait_execution_end(self, placed: Placed, name: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        name = name or placed.order_id

        def ended() -> dict[str, Any] | None:
            found = self.execution(name)
            return found if found is not None and found["status"] != "RUNNING" else None

        return self.wait_for(placed, ended, f"execution {name} to end", timeout)

    def wait_courier_task(self, placed: Placed, *, not_: str | None = None) -> dict[str, Any]:
        return self.wait_order(
            placed, lambda o: o["order"].get("blink_logistics_task_id") not in (None, not_)
            and o["tracks"]["courier_status"] == "TASK_CREATED", "a Blink Logistics task")

    # -- diagnostics ---------------------------------------------------------------------------

    def report(self, placed: Placed) -> str:
        lines = [f"order {placed.order_id} (Blink {placed.blink_order_id})"]
        try:
            found = self.order(placed.order_id)
            if found is None:
                lines.append("  not in the ops API")
            else:
                lines.append(f"  tracks {found['tracks']}")
                lines += [f"  {e['received_at'][11:23]} {e['kind']:<22} {e['summary']}"
                          + ("" if e["applied"] else "  (late)") for e in found["timeline"]]
            lines.append(f"  Blink received {self.blink_history(placed.blink_order_id)}")
            for name in self.executions_of(placed.order_id):
                execution = self.execution(name) or {}
                lines.append(f"  execution {name}: {execution.get('status')} {execution.get('error') or ''} "
                             f"{execution.get('cause') or ''}")
                for event in self.history(name):
                    when = f"{event['timestamp']:%H:%M:%S.%f}"[:-3]
                    if event["type"].endswith("StateEntered"):
                        lines.append(f"    {when} {event['stateEnteredEventDetails']['name']}")
                    elif event["type"].endswith(("Failed", "TimedOut")):
                        details = {k: v for k, v in event.items() if k.endswith("EventDetails")}
                        lines.append(f"    {when}   {event['type']} {json.dumps(details, default=str)[:300]}")
        except Exception as exc:  # the report must not hide the failure it explains
            lines.append(f"  (report incomplete: {type(exc).__name__}: {exc})")
        return "\n".join(lines)

    # -- whole journeys ------------------------------------------------------------------------

    def drop_off(self, placed: Placed, task_id: str, rent_id: str) -> None:
        """The courier picks up and drops the goods into the locker; the customer is notified."""
        self.advance_task(task_id, to=26)  # TASK_STARTED: the courier has the goods
        self.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told ready and dispatched")
        self.rent_admin(rent_id, "dropoff")
        self.wait_order(placed, lambda o: any(e["kind"] == "rent_action" and e["detail"].get("action") ==
                                              "notify_customer" for e in o["timeline"]), "the customer notified")

    def deliver_to_locker(self, placed: Placed, task_id: str, rent_id: str, execution: str | None = None
                          ) -> dict[str, Any]:
        """The courier picks up and drops off, the customer is notified and collects; returns the
        order once ``execution`` (default: the order's first) has ended."""
        self.drop_off(placed, task_id, rent_id)
        self.rent_admin(rent_id, "pickup")
        self.wait_execution_end(placed, execution)
        return self.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "finished", "the rent finished")


@pytest.fixture(scope="session")
def state_machine_arn(aws: Any) -> str:
    machines = aws("stepfunctions").list_state_machines()["stateMachines"]
    found = [m["stateMachineArn"] for m in machines if m["name"] == STATE_MACHINE]
    assert found, f"no state machine {STATE_MACHINE} in {[m['name'] for m in machines]}"
    return found[0]


@pytest.fixture
def flow(stack: dict[str, Any], http: httpx.Client, aws: Any, state_machine_arn: str) -> Flow:
    return Flow(stack, http, aws, state_machine_arn)


@pytest.fixture(scope="module", autouse=True)
def lisbon_lockers_released(stack: dict[str, Any], http: httpx.Client, aws: Any, state_machine_arn: str) -> None:
    """The scenarios need the Lisbon Bloqs' M lockers (four of them). An order whose workflow
    failed keeps its locker reservation (for a resume): the session's other e2e tests leave such
    orders behind (test_local_stack's Blend orders reach branch 12345, reserve a locker, then fail
    at SubmitToBlink — the Blend contract has no customer). Their reservations are released
    first, as Bloq.It's back office would (cancel, finish), so these scenarios do not depend on
    what ran before them."""
    running = {e["name"][:36] for e in aws("stepfunctions").list_executions(
        stateMachineArn=state_machine_arn, statusFilter="RUNNING", maxResults=1000)["executions"]}
    bloqit = stack["sandboxes"]["bloqit"]
    rents = http.get(f"{bloqit}/_admin/state").json()["rents"]
    left = [r for r in rents if r["state"] in ("created", "reserved") and r.get("bloq") in DEMO_BLOQ_IDS
            and r.get("externalID") not in running]
    headers = {"X-API-KEY": DEV_VENDOR_CREDENTIALS["bloqit"]["api_key"]}
    for rent in left:
        for action in ("cancel", "finish"):
            answer = http.put(f"{bloqit}/api/v1/public/rents/{rent['_id']}/{action}", headers=headers)
            assert answer.status_code == 200, answer.text
    if left:
        print(f"\nreleased {len(left)} locker reservation(s) of ended workflows: {[r['externalID'] for r in left]}")


# --------------------------------------------------------------------------------------- checks


def rent_id_of(order: dict[str, Any]) -> str:
    reserved = [e for e in order["timeline"] if e["kind"] == "rent_reserved"]
    assert len(reserved) == 1, f"one locker reservation expected, timeline: {order['timeline']}"
    return reserved[0]["detail"]["rent_id"]


def workflow_entries(order: dict[str, Any]) -> list[str]:
    return [e["summary"] for e in order["timeline"] if e["kind"] == "workflow"]


def last_of_ours(order: dict[str, Any]) -> str:
    """The last thing Orderbridge itself recorded (a vendor's webhook about our last action, e.g.
    Bloq.It's rent.finished after FinishRent, may land after it)."""
    return [e["summary"] for e in order["timeline"] if e["source"] == "orderbridge"][-1]


def assert_monotonic(statuses: list[int]) -> None:
    ranks = [BLINK_RANK[s] for s in statuses]
    assert ranks == sorted(ranks) and len(set(statuses)) == len(statuses), f"not monotonic: {statuses}"


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    rest = iter(seen)
    return all(state in rest for state in wanted)


def rent_states(rent: dict[str, Any]) -> list[str]:
    return [entry["state"] for entry in rent["states"]]


def count_transitions(flow: Flow, name: str, label: str) -> int:
    entered = flow.states_entered(name)
    print(f"\n{label}: {len(entered)} state transitions ({' > '.join(entered)})")
    return len(entered)


@contextmanager
def lisbon_bloqs_unavailable(flow: Flow) -> Iterator[None]:
    """Both Lisbon Bloqs stop taking deliveries (inactive); restored whatever happens."""
    bloqs = {b["_id"]: b for b in flow.admin("bloqit", "GET", "/_admin/state")["bloqs"]}
    before = {bloq_id: bloqs[bloq_id]["active"] for bloq_id in DEMO_BLOQ_IDS}
    try:
        for bloq_id in DEMO_BLOQ_IDS:
            flow.admin("bloqit", "POST", f"/_admin/bloqs/{bloq_id}", json={"active": False})
        yield
    finally:
        for bloq_id, active in before.items():
            flow.admin("bloqit", "POST", f"/_admin/bloqs/{bloq_id}", json={"active": active})


# ------------------------------------------------------------------------------------ scenarios


def test_locker_happy_path(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    assert "Deliver to the Bloq.It locker" in flow.task(task_id)["request"]["instruction"]

    order = flow.deliver_to_locker(placed, task_id, rent_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    assert order["status"] == "delivered", report
    statuses = flow.blink_statuses(placed.blink_order_id)
    assert statuses == [1, 6, 2, 3], report
    assert_monotonic(statuses)
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and rent["externalID"] == placed.order_id
    assert is_subsequence(["reserved", "in_progress", "collect_item", "finished"], rent_states(rent)), rent_states(rent)
    assert order["timeline"][-1]["summary"].startswith("workflow delivered"), report
    assert workflow_entries(order) == ["workflow delivered: delivered"], report
    assert count_transitions(flow, placed.order_id, "locker happy path") == 17


def test_home_delivery_with_dispatchninja(flow):
    placed = flow.place(branch_id=HOME_BRANCH, blink_branch_id="60001", **CUSTOMER)
    order = flow.wait_order(placed, lambda o: o["order"].get("dispatchninja_order_id"), "a DispatchNINJA order")
    dn_id = order["order"]["dispatchninja_order_id"]
    dn_order = flow.admin("dispatchninja", "GET", f"/_admin/orders/{dn_id}")
    assert dn_order["form"]["customer_address"] == CUSTOMER["customer_address_description"]

    # DispatchNINJA sends nothing: the courier keeper (every 2 s here) reads each change
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Picked Up"})
    flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told ready and dispatched")
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Completed"})
    flow.wait_execution_end(placed)
    order = flow.order(placed.order_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    statuses = flow.blink_statuses(placed.blink_order_id)
    assert statuses == [1, 6, 2, 3], report
    assert_monotonic(statuses)
    assert order["status"] == "delivered" and order["tracks"]["courier_status"] == "TASK_FINISHED", report
    assert order["tracks"]["rent_state"] is None and flow.bloqit_rents_of(placed.order_id) == []
    assert order["timeline"][-1]["summary"].startswith("workflow delivered"), report
    assert count_transitions(flow, placed.order_id, "home delivery (DispatchNINJA)") == 14


def test_no_free_locker_falls_back_to_home_delivery_by_blink_logistics(flow):
    with lisbon_bloqs_unavailable(flow):
        placed = flow.place(**CUSTOMER)
        order = flow.wait_courier_task(placed)
    task_id = order["order"]["blink_logistics_task_id"]
    request = flow.task(task_id)["request"]
    assert (request["customerAddress"], request["lat"], request["lng"]) == (
        CUSTOMER["customer_address_description"], CUSTOMER["customer_address_latitude"],
        CUSTOMER["customer_address_longitude"]), "the courier goes to the customer's door"

    flow.advance_task(task_id, to=27)  # picked up and delivered
    flow.wait_execution_end(placed)
    order = flow.order(placed.order_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    assert {"NoFreeLocker", "FallBackToHomeDelivery", "WaitForHomeDelivery"} <= set(
        flow.states_entered(placed.order_id)), report
    statuses = flow.blink_statuses(placed.blink_order_id)
    assert statuses == [1, 6, 2, 3], report
    assert_monotonic(statuses)
    assert flow.bloqit_rents_of(placed.order_id) == [], "no locker was reserved"
    assert not [e for e in order["timeline"] if e["kind"] == "rent_reserved"], report
    assert last_of_ours(order) == "workflow delivered: delivered", report


def test_no_free_locker_and_no_fallback_rejects_the_order_in_blink(flow, stack, aws):
    table = stack["seeded"]["config_table"]
    ConfigStore(aws("dynamodb"), table).put(Branch(
        branch_id=NO_FALLBACK_BRANCH, merchant_id=DEMO_MERCHANT, name="Lockers only", blink_id="70001",
        delivery_mode=DeliveryMode.LOCKER, courier=CourierProvider.BLINK_LOGISTICS,
        allow_home_delivery_fallback=False, bloq_ids=list(DEMO_BLOQ_IDS)))
    with lisbon_bloqs_unavailable(flow):
        placed = flow.place(branch_id=NO_FALLBACK_BRANCH, blink_branch_id="70001", **CUSTOMER)
        flow.wait_execution_end(placed)
    order = flow.order(placed.order_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    history = [entry for entry in flow.blink_history(placed.blink_order_id) if entry["source"] == "syncOrderStatus"]
    assert [entry["status"] for entry in history] == [4], report
    assert history[0]["comment"], "Blink requires a comment with a rejection"
    assert order["status"] == "rejected", report
    assert order["timeline"][-1]["summary"] == "workflow rejected: no free locker and no home delivery fallback", report
    assert not order["order"].get("blink_logistics_task_id") and flow.bloqit_rents_of(placed.order_id) == []


def test_courier_cancels_twice_the_workflow_gives_up_and_frees_the_locker(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    first, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)

    flow.advance_task(first, event=28, reason="rider unavailable")
    order = flow.wait_courier_task(placed, not_=first)
    second = order["order"]["blink_logistics_task_id"]
    assert order["order"]["courier_attempt"] == 2
    flow.advance_task(second, event=28, reason="no rider again")
    execution = flow.wait_execution_end(placed)
    order = flow.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "finished", "the rent finished")

    report = flow.report(placed)
    assert (execution["status"], execution.get("error")) == ("FAILED", "CourierCancelled"), report
    assert {flow.task(t)["status"]["event"] for t in (first, second)} == {"TASK_CANCELLED"}
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and is_subsequence(["cancelled", "finished"], rent_states(rent)), rent
    assert "in_progress" not in rent_states(rent)
    assert "workflow alert: the courier cancelled twice" in workflow_entries(order), report
    assert flow.blink_statuses(placed.blink_order_id) == [1], report  # accepted, then left to a person


def test_courier_cancels_once_and_the_second_courier_delivers(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    first, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)

    flow.advance_task(first, event=28, reason="rider unavailable")
    order = flow.wait_courier_task(placed, not_=first)
    second = order["order"]["blink_logistics_task_id"]
    order = flow.deliver_to_locker(placed, second, rent_id)

    report = flow.report(placed)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", report
    assert "SecondCourierAttempt" in flow.states_entered(placed.order_id)
    statuses = flow.blink_statuses(placed.blink_order_id)
    assert statuses == [1, 6, 2, 3], report
    assert_monotonic(statuses)
    assert order["status"] == "delivered" and order["order"]["courier_attempt"] == 2, report
    assert is_subsequence(["in_progress", "collect_item", "finished"], rent_states(flow.rent(rent_id)))
    assert last_of_ours(order) == "workflow delivered: delivered", report


def test_missed_dropoff_deadline_cancels_the_rent_and_rejects_in_blink(flow, stack, aws):
    config = aws("lambda").get_function_configuration(FunctionName=stack["functions"]["PlanDeliveryFunction"])
    deadline = config["Environment"]["Variables"]["WORKFLOW_DROPOFF_TIMEOUT_SECONDS"]
    assert str(deadline) == str(WORKFLOW_DROPOFF_TIMEOUT_SECONDS), "the session stack's drop-off deadline (conftest.py)"
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    flow.advance_task(task_id, to=26)  # the courier has the goods ... and never reaches the locker
    flow.wait_order(placed, lambda o: o["status"] == "dispatched", "Blink told ready and dispatched")

    execution = flow.wait_execution_end(placed, timeout=WORKFLOW_DROPOFF_TIMEOUT_SECONDS + 20)
    order = flow.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "finished", "the rent finished")

    report = flow.report(placed)
    assert (execution["status"], execution.get("error")) == ("FAILED", "DropOffMissed"), report
    timed_out = [e for e in flow.history(placed.order_id) if e["type"] == "TaskTimedOut"]
    assert len(timed_out) == 1 and timed_out[0]["taskTimedOutEventDetails"]["error"] == "States.Timeout", report
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and is_subsequence(["reserved", "cancelled", "finished"], rent_states(rent))
    assert "in_progress" not in rent_states(rent)
    history = [entry for entry in flow.blink_history(placed.blink_order_id) if entry["source"] == "syncOrderStatus"]
    assert [entry["status"] for entry in history] == [1, 6, 2, 4], report
    assert_monotonic([entry["status"] for entry in history])
    assert history[-1]["comment"]
    assert "workflow alert: drop-off deadline passed" in workflow_entries(order), report


def test_rent_expired_uncollected_goes_back_as_a_return(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    flow.drop_off(placed, task_id, rent_id)
    try:
        flow.rent_admin(rent_id, "expire")  # the customer never comes
        execution = flow.wait_execution_end(placed)
        order = flow.order(placed.order_id)

        report = flow.report(placed)
        assert (execution["status"], execution.get("error")) == ("FAILED", "Uncollected"), report
        assert {"ReturnUncollected", "RecordUncollected"} <= set(flow.states_entered(placed.order_id)), report
        assert "workflow uncollected: the customer did not collect" in workflow_entries(order), report
        statuses = flow.blink_statuses(placed.blink_order_id)
        assert statuses == [1, 6, 2], report  # never delivered (3)
        assert_monotonic(statuses)
        rent = flow.rent(rent_id)
        assert (rent["type"], rent["state"]) == ("return", "in_progress"), rent
        assert is_subsequence(["in_progress", "expired", "in_progress"], rent_states(rent))
    finally:  # the merchant takes the return out: the locker is free for the next tests
        if flow.rent(rent_id)["state"] == "in_progress":
            flow.rent_admin(rent_id, "pickup")


def test_order_rejected_in_blink_while_waiting_for_the_courier(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    rent_id = rent_id_of(order)

    flow.admin("blink", "POST", "/_admin/order-status",
               json={"blink_order_id": placed.blink_order_id, "status": 4, "comment": "out of stock"})
    execution = flow.wait_execution_end(placed)
    order = flow.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "finished", "the rent finished")

    report = flow.report(placed)
    assert execution["status"] == "SUCCEEDED", report
    assert order["status"] == "rejected", report
    rent = flow.rent(rent_id)
    assert rent["state"] == "finished" and is_subsequence(["reserved", "cancelled", "finished"], rent_states(rent))
    assert flow.blink_statuses(placed.blink_order_id) == [1], report  # we sent nothing after Blink rejected
    assert [e["status"] for e in flow.blink_history(placed.blink_order_id)] == [1, 4]
    assert workflow_entries(order) == ["workflow rejected: rejected in Blink"], report
    assert last_of_ours(order) == "workflow rejected: rejected in Blink", report


def test_order_rejected_after_the_drop_off_keeps_the_goods_locked_in(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    flow.drop_off(placed, task_id, rent_id)
    try:
        flow.admin("blink", "POST", "/_admin/order-status",
                   json={"blink_order_id": placed.blink_order_id, "status": 4, "comment": "customer cancelled"})
        execution = flow.wait_execution_end(placed)
        order = flow.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "cancelled", "the rent cancelled")

        report = flow.report(placed)
        assert execution["status"] == "SUCCEEDED", report
        entered = flow.states_entered(placed.order_id)
        assert {"ReleaseRentOfRejected", "CancelRentOfRejected"} <= set(entered), report
        rent = flow.rent(rent_id)
        # the goods are in the locker: cancelled, not finished (Bloq.It keeps the locker until collected)
        assert rent["state"] == "cancelled" and "finished" not in rent_states(rent), report
        assert workflow_entries(order) == ["workflow rejected: rejected in Blink"], report
    finally:  # the merchant takes the goods back (collect, then finish): the locker is free again
        headers = {"X-API-KEY": DEV_VENDOR_CREDENTIALS["bloqit"]["api_key"]}
        for action in ("collect", "finish"):
            flow.http.put(f"{flow.sandbox('bloqit')}/api/v1/public/rents/{rent_id}/{action}", headers=headers)


def test_a_vendor_down_fails_the_workflow_and_the_ops_api_resumes_it(flow, http, stack):
    started = time.monotonic()
    try:
        flow.admin("bloqit", "POST", "/_admin/faults", json={"error_rate": 1.0, "status_code": 503})
        placed = flow.place()
        # the client's own retries, then ReserveLocker's Retry (MaxAttempts 4, backoff 2 s x2, full jitter)
        execution = flow.wait_execution_end(placed, timeout=80)
    finally:
        flow.admin("bloqit", "DELETE", "/_admin/faults")
    order = flow.order(placed.order_id)

    report = flow.report(placed)
    assert (execution["status"], execution.get("error")) == ("FAILED", "OrderWorkflowFailed"), report
    history = flow.history(placed.order_id)
    failures = [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]
    assert failures == ["RetryableVendorError"] * 5, report  # the first try and 4 retries
    # the failure path first frees the locker if nothing was dropped off (here: none was reserved)
    assert flow.states_entered(placed.order_id)[-3:] == ["RecordFailure", "RecordFailureOutcome", "Failed"], report
    failed = [e for e in order["timeline"] if e["kind"] == "workflow"]
    assert [e["summary"] for e in failed] == ["workflow failed: RetryableVendorError"], report
    assert "503" in failed[0]["detail"]["cause"]
    assert flow.blink_statuses(placed.blink_order_id) == [] and flow.bloqit_rents_of(placed.order_id) == []

    answer = http.post(f"{stack['api']}/ops/orders/{placed.order_id}/resume",
                       headers={"X-Api-Key": stack["ops_api_key"]})
    assert answer.status_code == 202, answer.text
    resumed = f"{placed.order_id}-r1"
    assert answer.json()["execution"] == resumed
    order = flow.wait_courier_task(placed)
    order = flow.deliver_to_locker(placed, order["order"]["blink_logistics_task_id"], rent_id_of(order), resumed)

    report = flow.report(placed)
    assert flow.execution_status(resumed) == "SUCCEEDED", report
    assert flow.execution_status(placed.order_id) == "FAILED"
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], report
    assert order["status"] == "delivered", report
    assert last_of_ours(order) == "workflow delivered: delivered", report
    assert workflow_entries(order) == ["workflow failed: RetryableVendorError", "workflow delivered: delivered"]
    print(f"\nvendor down, failed and resumed to delivered in {time.monotonic() - started:.0f} s")


def test_late_and_duplicate_callbacks_change_nothing(flow):
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    task_id, rent_id = order["order"]["blink_logistics_task_id"], rent_id_of(order)
    before = flow.deliver_to_locker(placed, task_id, rent_id)
    assert flow.execution_status(placed.order_id) == "SUCCEEDED", flow.report(placed)
    known = {e["event_key"] for e in before["timeline"]}

    # Blink Logistics sends its last task webhook again, as it was
    sent = [h for h in flow.admin("blink_logistics", "GET", "/_admin/webhooks", params={"flush": 1})
            if h["body"]["data"]["taskId"] == task_id]
    again = flow.http.post(sent[-1]["url"], content=sent[-1]["raw_body"], headers=sent[-1]["headers"])
    assert again.status_code == 200, again.text
    # Bloq.It sends its rent.finished webhook again (same event, same signature)
    sent = [h for h in flow.admin("bloqit", "GET", "/_admin/webhooks", params={"flush": 1})
            if h["body"].get("rent") == rent_id and h["body"].get("codeName") == "rent.finished"]
    again = flow.http.post(sent[-1]["url"], content=sent[-1]["raw_body"], headers=sent[-1]["headers"])
    assert again.status_code == 200, again.text
    # ... and a new, late rent.collect_item event for the finished rent
    event = flow.admin("bloqit", "POST", "/_admin/events/rent.collect_item", json={"rentID": rent_id})["event"]
    late = flow.wait_for(placed, lambda: [h for h in flow.admin("bloqit", "GET", "/_admin/webhooks",
                                                                params={"flush": 1})
                                          if h["body"].get("_id") == event["_id"]], "the late event sent")
    assert [h["status"] for h in late] == [200], late
    after = flow.wait_order(placed, lambda o: len(o["timeline"]) > len(before["timeline"]), "the late event kept")
    time.sleep(2.0)  # room for anything the stream would (wrongly) do with it
    after = flow.order(placed.order_id)

    report = flow.report(placed)
    assert after["tracks"] == before["tracks"] and after["status"] == "delivered", report
    assert after["timeline"][: len(before["timeline"])] == before["timeline"], report
    added = [e for e in after["timeline"] if e["event_key"] not in known]
    assert [(e["kind"], e["applied"], e["detail"].get("code_name")) for e in added] == [
        ("rent_event", False, "rent.collect_item")], report  # kept once, as late, not applied
    keys = [e["event_key"] for e in after["timeline"]]
    assert len(keys) == len(set(keys)), report
    assert workflow_entries(after) == ["workflow delivered: delivered"], report
    assert flow.executions_of(placed.order_id) == [placed.order_id]
    assert flow.execution_status(placed.order_id) == "SUCCEEDED"
    assert flow.blink_statuses(placed.blink_order_id) == [1, 6, 2, 3], report
    assert flow.rent(rent_id)["state"] == "finished"
