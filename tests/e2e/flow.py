"""The e2e driver: place orders as the vendors would, move them through the sandboxes, read what
the stack made of them (ops API, sandboxes' admin state, Step Functions), and the checks the
scenarios share. The fixtures ``flow`` and ``state_machine_arn`` are in ``conftest.py``."""

from __future__ import annotations

import itertools
import json
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from orderbridge.domain.ids import order_id_for
from orderbridge_local.seed import DEMO_BLOQ_IDS, DEMO_PARTNER

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
class Placed:  # blink_order_id: "" for a partner order until it is in Blink
    blink_order_id: str
    order_id: str


@dataclass
class Flow:
    """Drives orders through the sandboxes and reads what the stack made of them."""

    stack: dict[str, Any]
    http: httpx.Client
    aws: Callable[[str], Any]
    state_machine_arn: str
    # Waits last this many times longer: the e2e suite runs two stacks at once on two cores, and
    # scenarios run at once (``patient_flow``) share one emulator's throughput.
    patience: float = 2.0
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
        # Blink gives the id (a test's own ids could meet the ones Blink gives submitted orders)
        body = {"type": "DELIVERY", "branch_id": LOCKER_BRANCH, **overrides}
        blink_order_id = str(self.admin("blink", "POST", "/_admin/place-order", json=body)["order"]["blink_order_id"])
        return Placed(blink_order_id, order_id_for("blink", blink_order_id))

    def advance_task(self, task_id: str, **body: Any) -> None:
        self.admin("blink_logistics", "POST", f"/_admin/tasks/{task_id}/advance", json=body)

    def rent_admin(self, rent_id: str, action: str) -> None:
        self.admin("bloqit", "POST", f"/_admin/rents/{rent_id}/{action}")

    def kitchen(self, blink_order_id: str, status: int, comment: str | None = None) -> None:
        """The restaurant moves the order in Blink (Blink's Order Status Webhook reaches the stack)."""
        body: dict[str, Any] = {"blink_order_id": blink_order_id, "status": status}
        if comment:
            body["comment"] = comment
        self.admin("blink", "POST", "/_admin/order-status", json=body)

    def partner_order(self, **overrides: Any) -> Placed:
        """The delivery partner sends a Blend ``order_created`` (the doc's sample, a fresh id)."""
        partner_order_id = f"p{_RUN:05d}-{next(_COUNTER):03d}"
        overrides = {"payload": {"id": partner_order_id, **overrides.pop("payload", {})}, **overrides}
        self.admin("partner", "POST", "/_admin/place-order", json=overrides)
        return Placed("", order_id_for(f"partner:{DEMO_PARTNER}", partner_order_id))

    def blink_order_of(self, placed: Placed) -> str:
        """The Blink id of an order Orderbridge submitted (waits for it)."""
        order = self.wait_order(placed, lambda o: o["order"].get("blink_order_id"), "the order in Blink")
        placed.blink_order_id = order["order"]["blink_order_id"]
        return placed.blink_order_id

    def outage(self, sandbox: str, name: str, paths: list[str], *contains: str) -> None:
        """One kind of call, for one order only (``contains``), fails with 503 until ended."""
        self.admin(sandbox, "POST", "/_admin/outages", json={"id": name, "paths": paths, "contains": list(contains)})

    def end_outage(self, sandbox: str, name: str) -> None:
        self.admin(sandbox, "DELETE", f"/_admin/outages/{name}")

    def ops(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(
            method, f"{self.stack['api']}/ops{path}", headers={"X-Api-Key": self.stack["ops_api_key"]}, **kwargs
        )

    def listed(self, **query: str) -> set[str]:
        """The ids of the orders the ops API lists for ``query`` (every page)."""
        ids: set[str] = set()
        cursor = None
        while True:
            answer = self.ops(
                "GET", "/orders", params={**query, "limit": "200", **({"cursor": cursor} if cursor else {})}
            )
            assert answer.status_code == 200, answer.text
            ids |= {o["order_id"] for o in answer.json()["orders"]}
            cursor = answer.json()["next_cursor"]
            if not cursor:
                return ids

    def tasks_of(self, order_id: str) -> list[dict[str, Any]]:
        """The Blink Logistics tasks created for the order (its id is their reference)."""
        return [
            t
            for t in self.admin("blink_logistics", "GET", "/_admin/tasks")
            if str(t.get("mappingKey", "")).startswith(order_id)
        ]

    def dispatchninja_orders_of(self, customer_name: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self.admin("dispatchninja", "GET", "/_admin/orders")
            if o.get("form", {}).get("customer_name") == customer_name
        ]

    # -- reading -------------------------------------------------------------------------------

    def order(self, order_id: str) -> dict[str, Any] | None:
        for _ in range(3):  # a 503 says "our side was busy, retry" (the emulator under load)
            answer = self.http.get(
                f"{self.stack['api']}/ops/orders/{order_id}", headers={"X-Api-Key": self.stack["ops_api_key"]}
            )
            if answer.status_code != 503:
                break
            time.sleep(1.0)
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
        names = [
            e["name"]
            for e in self.sfn.list_executions(stateMachineArn=self.state_machine_arn, maxResults=1000)["executions"]
        ]
        return sorted(n for n in names if n == order_id or n.startswith(f"{order_id}-r"))

    # -- waiting -------------------------------------------------------------------------------

    def wait_for(self, placed: Placed, predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
        """Poll ``predicate`` (bounded); on timeout fail with the order's timeline and executions."""
        timeout *= self.patience
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
            time.sleep(0.15 * self.patience)  # scenarios run at once poll less often

    def fire(self, function: str) -> None:
        """Fire a schedule's function now (the local stack's admin route, as ``fire`` does)."""
        answer = self.http.post(f"{self.stack['admin']}/schedules/{function}/fire", timeout=60.0)
        assert answer.status_code == 200, answer.text

    def fire_until(
        self, function: str, found: Callable[[], Any], what: str, *, placed: Placed | None = None, timeout: float = 30.0
    ) -> Any:
        """Fire ``function`` (asynchronous, like EventBridge) every few seconds until ``found()``
        (a run may meet a workflow step still in flight); with ``placed``, a failure reports it."""
        fired_at = [0.0]

        def check() -> Any:
            if time.monotonic() - fired_at[0] > 3.0 * self.patience:
                self.fire(function)
                fired_at[0] = time.monotonic()
            return found()

        if placed is not None:
            return self.wait_for(placed, check, what, timeout=timeout)
        deadline = time.monotonic() + timeout * self.patience
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.3 * self.patience)
        raise AssertionError(f"{what}: not within {timeout * self.patience:.0f} s")

    def order_if(self, placed: Placed, predicate: Callable[[dict[str, Any]], Any]) -> dict[str, Any] | None:
        """The order (ops API) when ``predicate`` holds for it; None otherwise."""
        found = self.order(placed.order_id)
        return found if found is not None and predicate(found) else None

    def wait_order(
        self, placed: Placed, predicate: Callable[[dict[str, Any]], Any], what: str, timeout: float = 20.0
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            return self.order_if(placed, predicate)

        return self.wait_for(placed, check, what, timeout)

    def wait_execution_end(self, placed: Placed, name: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        name = name or placed.order_id

        def ended() -> dict[str, Any] | None:
            found = self.execution(name)
            return found if found is not None and found["status"] != "RUNNING" else None

        return self.wait_for(placed, ended, f"execution {name} to end", timeout)

    def wait_courier_task(self, placed: Placed, *, not_: str | None = None) -> dict[str, Any]:
        return self.wait_order(
            placed,
            lambda o: (
                o["order"].get("blink_logistics_task_id") not in (None, not_)
                and o["tracks"]["courier_status"] == "TASK_CREATED"
            ),
            "a Blink Logistics task",
        )

    # -- diagnostics ---------------------------------------------------------------------------

    def report(self, placed: Placed) -> str:
        lines = [f"order {placed.order_id} (Blink {placed.blink_order_id})"]
        try:
            found = self.order(placed.order_id)
            if found is None:
                lines.append("  not in the ops API")
            else:
                lines.append(f"  tracks {found['tracks']}")
                lines += [
                    f"  {e['received_at'][11:23]} {e['kind']:<22} {e['summary']}" + ("" if e["applied"] else "  (late)")
                    for e in found["timeline"]
                ]
            if placed.blink_order_id:  # a partner order has none until it is submitted
                lines.append(f"  Blink received {self.blink_history(placed.blink_order_id)}")
            for name in self.executions_of(placed.order_id):
                execution = self.execution(name) or {}
                lines.append(
                    f"  execution {name}: {execution.get('status')} {execution.get('error') or ''} "
                    f"{execution.get('cause') or ''}"
                )
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
        self.wait_order(
            placed,
            lambda o: any(
                e["kind"] == "rent_action" and e["detail"].get("action") == "notify_customer" for e in o["timeline"]
            ),
            "the customer notified",
        )

    def deliver_to_locker(
        self, placed: Placed, task_id: str, rent_id: str, execution: str | None = None
    ) -> dict[str, Any]:
        """The courier picks up and drops off, the customer is notified and collects; returns the
        order once ``execution`` (default: the order's first) has ended."""
        self.drop_off(placed, task_id, rent_id)
        self.rent_admin(rent_id, "pickup")
        self.wait_execution_end(placed, execution)
        return self.wait_order(placed, lambda o: o["tracks"]["rent_state"] == "finished", "the rent finished")


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


def run_concurrently(scenarios: dict[str, Callable[[], None]], *, workers: int = 8) -> None:
    """Run independent scenarios at once on the one stack (the suite's wall time stays short);
    fail with every scenario's failure, not only the first."""
    from concurrent.futures import ThreadPoolExecutor

    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(scenario) for name, scenario in scenarios.items()}
        for name, future in futures.items():
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001 - every scenario's failure is reported
                where = traceback.extract_tb(exc.__traceback__)[-1]
                failures.append(f"--- {name}: {type(exc).__name__}: {exc} ({where.filename}:{where.lineno})")
    assert not failures, f"{len(failures)} of {len(scenarios)} scenarios failed:\n" + "\n".join(failures)
