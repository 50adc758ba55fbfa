"""The fault run of the reliability suite (issue 13 point 8): orders of every kind driven to their
end on a local stack of their own while the vendor sandboxes fail about 30 % of the calls (500,
429 with ``Retry-After``, timeouts — lost answers too — and 6 s of latency) and one busy function
worker is killed (SIGKILL) mid-run. Then the faults stop, and a person deals with what is left
through the ops API, as the runbook says: a failed or stuck order is resumed; an order that needs
attention because a call's outcome is unknown is checked at the vendor (the sandbox's records),
told what was found (``PATCH checked_at_vendor``) and retried.

Then: no order lost (every one in a final state), no vendor side effect doubled (per order at most
one Blink order, one DispatchNINJA order and one Blink Logistics task per courier job — each known
to the order —, one Bloq.It rent, each Blink status sent once), and a table of the run's figures.

``make test`` runs a smoke share (12 orders); ``make reliability`` (``RELIABILITY_FULL=1``) 100.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from orderbridge_local.seed import DEMO_BLOQ_IDS

from tests.e2e.flow import CUSTOMER, HOME_BRANCH, STATE_MACHINE, Flow, Placed, run_concurrently
from tests.e2e.support import SYNCS, RunningStack, start_stack, write_test_template

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

FULL = os.environ.get("RELIABILITY_FULL") == "1"
ORDERS = 100 if FULL else 12
DRIVERS = 16 if FULL else 6  # orders driven at once
FAULT_SECONDS = 240 if FULL else 90  # how long the faults last
SETTLE_SECONDS = 600 if FULL else 300  # after the faults: every order must end within this
PHASE_SECONDS = 5.0  # each fault kind in turn, for this long
FAULT_RATE = 0.3
LATENCY_MS = 6000
HOLD_SECONDS = 12  # a "timeout" holds the answer longer than the clients' 10 s read timeout
VENDORS = ("blink", "blink_logistics", "bloqit", "dispatchninja")
PICKUP_LOCKER_BRANCH = "64"  # seed: a Bloq of its own for PICK-UP orders
PARTNER_NAME = "DemoApp"  # seed: the partner's display name in Blink
FINAL = {"delivered", "collected", "cancelled", "rejected"}
# Functions that call a vendor: one of their busy workers is killed mid-run.
VENDOR_FUNCTIONS = (
    "SubmitOrderToBlinkFunction",
    "SyncOrderStatusToBlinkFunction",
    "CreateBlinkLogisticsTaskFunction",
    "CreateDispatchNinjaOrderFunction",
    "ReserveLockerFunction",
    "SelectLockerFunction",
    "MakeDeliveryFunction",
    "NotifyLockerCustomerFunction",
    "CollectRentFunction",
    "FinishRentFunction",
)
# The fault kinds, in turn: (name, the sandboxes' fault settings).
FAULT_KINDS: list[tuple[str, dict[str, Any]]] = [
    ("500", {"error_rate": FAULT_RATE, "status_code": 500}),
    ("429 Retry-After", {"error_rate": FAULT_RATE, "status_code": 429, "retry_after_seconds": 1}),
    ("6 s latency", {"latency_ms": LATENCY_MS, "error_rate": FAULT_RATE, "status_code": 503}),
    ("timeout", {"timeout": True}),
    ("500", {"error_rate": FAULT_RATE, "status_code": 500}),
    ("timeout after processing", {"timeout": True, "process_before_timeout": True}),
]
TIMEOUT_PHASE_SECONDS = 1.5  # a timeout holds every call: kept short, about 30 % of the time


# --------------------------------------------------------------------------------------- stack


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own: the faults are sandbox-wide. Long waits (the run drives every order
    itself, slowly under faults), syncs only when fired."""
    folder = tmp_path_factory.mktemp("fault-run")
    running = start_stack(
        write_test_template(folder),
        folder / "state",
        "--max-workers",
        "3",
        "--parameter-overrides",
        "WorkflowDropoffTimeoutSeconds=900",
        "WorkflowBlinkEndTimeoutSeconds=900",
        "VendorMaxAttempts=2",
        *(f"{sync}Schedule=rate(1 day)" for sync in SYNCS),
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def driver(fault_stack: RunningStack) -> Iterator[Flow]:
    stack = fault_stack.info
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=stack["emulator"]["region"]
    )
    config = Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 3})

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=stack["emulator"]["endpoint_url"], config=config)

    machines = client("stepfunctions").list_state_machines()["stateMachines"]
    arn = next(m["stateMachineArn"] for m in machines if m["name"] == STATE_MACHINE)
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        flow = Flow(stack, http, client, arn, patience=4.0)
        # enough lockers for every locker order at once
        for bloq_id in DEMO_BLOQ_IDS:
            flow.admin("bloqit", "POST", f"/_admin/bloqs/{bloq_id}/lockers", json={"type": "M", "count": 40})
        yield flow


# ------------------------------------------------------------------------------------- faults


@dataclass
class Figures:
    started: float = field(default_factory=time.monotonic)
    fault_windows: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    killed: list[str] = field(default_factory=list)
    resumes: int = 0
    attention: Counter[str] = field(default_factory=Counter)
    other_retries: int = 0
    placed_by_kind: Counter[str] = field(default_factory=Counter)
    ended_by_state: Counter[str] = field(default_factory=Counter)


class Faults:
    """Turns the fault kinds on in turn on every vendor sandbox, until stopped; kills one busy
    worker of a vendor-calling function during a latency phase."""

    def __init__(self, flow: Flow, figures: Figures) -> None:
        self.flow = flow
        self.figures = figures
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="faults", daemon=True)
        self.error: BaseException | None = None

    def set_all(self, settings: dict[str, Any] | None, phase: int = 0) -> None:
        for number, vendor in enumerate(VENDORS):
            if settings is None:
                self.flow.admin(vendor, "DELETE", "/_admin/faults")
                continue
            # Setting faults re-seeds the draws from the seed: a fresh seed each phase, else every
            # phase would fail the same few first calls (the ids' generator is not re-seeded).
            self.flow.admin(vendor, "POST", "/_admin/settings", json={"seed": 7919 * phase + number})
            self.flow.admin(vendor, "POST", "/_admin/faults", json=settings)

    def _run(self) -> None:
        try:
            for vendor in VENDORS:
                self.flow.admin(vendor, "POST", "/_admin/settings", json={"fault_timeout_seconds": HOLD_SECONDS})
            for phase, (name, settings) in enumerate(itertools.cycle(FAULT_KINDS), 1):
                if self.stop.is_set():
                    break
                began = datetime.now(UTC)
                self.set_all(settings, phase)
                seconds = TIMEOUT_PHASE_SECONDS if settings.get("timeout") else PHASE_SECONDS
                if name == "6 s latency" and not self.figures.killed:
                    self.stop.wait(LATENCY_MS / 2000)  # calls are held in the vendors: workers busy
                    killed = kill_a_busy_worker(self.flow)  # none yet: at the next latency phase
                    self.figures.killed += [killed] if killed else []
                self.stop.wait(seconds)
                self.figures.fault_windows.append((name, began, datetime.now(UTC)))
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.set_all(None)

    def __enter__(self) -> Faults:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(60)


def _sandbox_ports(flow: Flow) -> set[int]:
    return {httpx.URL(flow.sandbox(vendor)).port or 0 for vendor in VENDORS}


def _established_remote_ports(pid: int) -> set[int]:
    """The remote ports of ``pid``'s established TCP connections (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "01" and parts[9] in inodes:
                ports.add(int(parts[2].rsplit(":", 1)[1], 16))
    return ports


def kill_a_busy_worker(flow: Flow) -> str | None:
    """SIGKILL one worker of a vendor-calling function that holds a connection to a sandbox (a
    call in flight, held by the latency); the first vendor worker if none does; None while no
    vendor-calling function has a worker."""
    workers = httpx.get(f"{flow.stack['admin']}/workers", timeout=10.0, trust_env=False).json()["workers"]
    candidates = [(name, pid) for name in VENDOR_FUNCTIONS for pid in workers.get(name, [])]
    if not candidates:
        return None
    ports = _sandbox_ports(flow)
    for name, pid in candidates:
        try:
            busy = bool(_established_remote_ports(pid) & ports)
        except OSError:
            continue
        if busy:
            os.kill(pid, signal.SIGKILL)
            return f"{name} pid {pid} (in a vendor call)"
    name, pid = candidates[0]
    os.kill(pid, signal.SIGKILL)
    return f"{name} pid {pid} (no call seen in flight)"


# -------------------------------------------------------------------------------------- orders


@dataclass
class Driven:
    kind: str
    placed: Placed
    customer_name: str
    done: set[str] = field(default_factory=set)
    last: dict[str, Any] | None = None


def place(flow: Flow, number: int) -> Driven:
    kind = ("locker delivery", "home delivery", "locker pick-up", "counter pick-up", "partner order")[number % 5]
    name = f"Fault {number:03d} {kind}"
    who = {**CUSTOMER, "customer_name": name}
    if kind == "locker delivery":
        placed = flow.place(type="DELIVERY", **who)
    elif kind == "home delivery":
        placed = flow.place(type="DELIVERY", branch_id=HOME_BRANCH, blink_branch_id="60001", **who)
    elif kind == "locker pick-up":
        placed = flow.place(type="PICK-UP", branch_id=PICKUP_LOCKER_BRANCH, blink_branch_id="60002", **who)
    elif kind == "counter pick-up":
        placed = flow.place(
            type="PICK-UP", **{**who, "customer_address_latitude": None, "customer_address_longitude": None}
        )
    else:
        placed = flow.partner_order()
    return Driven(kind, placed, name)


def _once(driven: Driven, step: str, act: Any) -> None:
    """Do ``act`` once (a sandbox's admin command); a refusal is tried again at the next look."""
    if step in driven.done:
        return
    try:
        act()
    except AssertionError:
        return
    driven.done.add(step)


def nudge(flow: Flow, driven: Driven) -> str | None:
    """Look at the order once and do what the outside world would do next (the courier, the
    lockers' users, the kitchen); the order's state."""
    order = flow.order(driven.placed.order_id)
    if order is None:
        return None
    driven.last = order
    state, step, record = order["state"], order["step"], order["order"]
    tracks, timeline = order["tracks"], order["timeline"]
    if state in FINAL:
        return state
    if not driven.placed.blink_order_id and record.get("blink_order_id"):
        driven.placed.blink_order_id = record["blink_order_id"]
    blink_id = driven.placed.blink_order_id
    rents = [e["detail"]["rent_id"] for e in timeline if e["kind"] == "rent_reserved"]
    notified = any(e["kind"] == "rent_action" and e["detail"].get("action") == "notify_customer" for e in timeline)
    task_id = record.get("blink_logistics_task_id")
    dn_id = record.get("dispatchninja_order_id")
    courier = tracks.get("courier_status")
    if task_id and courier == "TASK_CREATED":
        _once(driven, f"task {task_id} started", lambda: flow.advance_task(task_id, to=26))
    if dn_id and courier in ("TASK_CREATED", "ORDER_CREATED", None) and order["status"] != "dispatched":
        _once(driven, f"dn {dn_id} picked up", lambda: dn_advance(flow, dn_id, "Picked Up"))
    if dn_id and order["status"] == "dispatched":
        _once(driven, f"dn {dn_id} completed", lambda: dn_advance(flow, dn_id, "Completed"))
    if rents and (step == "dropoff" or (task_id and order["status"] == "dispatched")):
        _once(driven, f"rent {rents[-1]} dropped off", lambda: flow.rent_admin(rents[-1], "dropoff"))
    if rents and (notified or step == "pickup"):
        _once(driven, f"rent {rents[-1]} picked up", lambda: flow.rent_admin(rents[-1], "pickup"))
    if blink_id and step == "blink_completed":
        _once(driven, "kitchen ready", lambda: flow.kitchen(blink_id, 6))
        if "kitchen ready" in driven.done:
            _once(driven, "kitchen done", lambda: flow.kitchen(blink_id, 3))
    return state


def dn_advance(flow: Flow, dn_id: str, to: str) -> None:
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": to})


def drive(flow: Flow, orders: list[Driven], until: float, stop: threading.Event | None = None) -> None:
    """Nudge every order not ended yet, in turn, until all ended, ``until`` or ``stop``."""
    while time.monotonic() < until and not (stop and stop.is_set()):
        open_ = [d for d in orders if (d.last or {}).get("state") not in FINAL]
        if not open_:
            return
        for driven in open_:
            with suppress(httpx.HTTPError, AssertionError):  # busy: looked at again in the next round
                nudge(flow, driven)
        time.sleep(1.0)


# --------------------------------------------------------------------------------- the person


def found_at_vendor(flow: Flow, driven: Driven, call: str) -> str | None:
    """What a person finds at the vendor for a call in doubt: the vendor's id of what it made."""
    if call == "dispatchninja_add":
        found = [
            o for o in flow.admin("dispatchninja", "GET", "/_admin/orders") if _dn_customer(o) == driven.customer_name
        ]
        return str(found[0]["details"]["id"]) if found else None
    record = driven.last["order"] if driven.last else {}
    name = f"{PARTNER_NAME} {record.get('source_order_id')}"
    found = [
        o for o in flow.admin("blink", "GET", "/_admin/orders") if (o.get("request") or {}).get("customer_name") == name
    ]
    return str(found[0]["id"]) if found else None


def _dn_customer(order: dict[str, Any]) -> Any:
    return order.get("form", {}).get("customer_name")


def call_in_doubt(order: dict[str, Any]) -> str | None:
    failure = order.get("failure") or {}
    if failure.get("kind") != "VendorOutcomeUnknown":
        return None
    return {"dispatchninja": "dispatchninja_add", "blink": "blink_submit"}.get(failure.get("vendor") or "")


def deal_with(flow: Flow, driven: Driven, figures: Figures) -> None:
    """The runbook for an order not ended: a call in doubt is checked at the vendor and what was
    found recorded (``checked_at_vendor``), then the order is retried (needs attention) or resumed
    (failed); a failed or stuck one (or one whose workflow is no longer running) is resumed."""
    order = flow.order(driven.placed.order_id)
    if order is None or order["state"] in FINAL:
        return
    driven.last = order
    state, oid = order["state"], driven.placed.order_id
    call = call_in_doubt(order) if state in ("needs_attention", "failed") else None
    if call is not None:
        found_id = found_at_vendor(flow, driven, call)
        check = {"call": call, **({"found_id": found_id} if found_id else {})}
        answer = flow.ops("PATCH", f"/orders/{oid}", json={"checked_at_vendor": check})
        assert answer.status_code == 200, answer.text
        found = "found there, linked" if found_id else "nothing there, sent again"
        figures.attention[f"{call} in doubt ({state}): {found}"] += 1
    elif state == "needs_attention":
        figures.attention[f"other: {order['failure']}"] += 1
    if state == "needs_attention":
        answer = flow.ops("POST", f"/orders/{oid}/retry")
        assert answer.status_code in (202, 409), answer.text
        return
    if "resume" not in order["actions"]:
        return
    running = any(flow.execution_status(name) == "RUNNING" for name in flow.executions_of(oid))
    if state in ("failed", "stuck", "received") or (state == "in_progress" and not running):
        answer = flow.ops("POST", f"/orders/{oid}/resume")
        if answer.status_code == 202:
            figures.resumes += 1
            figures.attention[f"resumed from {state}: {(order.get('failure') or {}).get('kind')}"] += 1


# ------------------------------------------------------------------------------------- checks


def duplicates(flow: Flow, orders: list[Driven]) -> list[str]:
    """Every vendor side effect made twice (or not known to the order it was made for)."""
    found: list[str] = []
    blink_orders = flow.admin("blink", "GET", "/_admin/orders")
    dn_orders = flow.admin("dispatchninja", "GET", "/_admin/orders")
    tasks = flow.admin("blink_logistics", "GET", "/_admin/tasks")
    rents = flow.admin("bloqit", "GET", "/_admin/state")["rents"]
    for driven in orders:
        order = flow.order(driven.placed.order_id) or {"order": {}, "timeline": []}
        known = repr(order)
        oid = driven.placed.order_id
        mine_dn = [o for o in dn_orders if _dn_customer(o) == driven.customer_name]
        mine_tasks = [t for t in tasks if str(t.get("mappingKey", "")).startswith(oid)]
        mine_rents = [r for r in rents if r.get("externalID") == oid]
        made_ids = (
            ("DispatchNINJA order", [str(m["details"]["id"]) for m in mine_dn]),
            ("Blink Logistics task", [str(t["taskId"]) for t in mine_tasks]),
        )
        for what, made in made_ids:
            unknown = [made_id for made_id in made if f"'{made_id}'" not in known]
            if unknown:
                found.append(f"{oid}: {what}s {unknown} made but not the order's (of {len(made)})")
        if len(mine_rents) > 1:
            found.append(f"{oid}: {len(mine_rents)} Bloq.It rents {[r.get('_id') for r in mine_rents]}")
        if driven.kind == "partner order":
            name = f"{PARTNER_NAME} {order['order'].get('source_order_id')}"
            submitted = [o for o in blink_orders if (o.get("request") or {}).get("customer_name") == name]
            if len(submitted) > 1:
                found.append(f"{oid}: {len(submitted)} Blink orders submitted")
        if driven.placed.blink_order_id:
            sent = flow.blink_statuses(driven.placed.blink_order_id)
            twice = sorted(s for s, n in Counter(sent).items() if n > 1)
            if twice:
                found.append(f"{oid}: Blink statuses {twice} sent more than once ({sent})")
    return found


def fault_counts(flow: Flow, figures: Figures) -> Counter[str]:
    counts: Counter[str] = Counter()
    for vendor in VENDORS:
        for request in flow.admin(vendor, "GET", "/_admin/requests"):
            counts["vendor calls"] += 1
            if request.get("fault") == "error":
                counts[f"error {request['status']}"] += 1
            elif request.get("fault") == "timeout":
                counts["timeout (504 after 12 s)"] += 1
            at = datetime.fromisoformat(request["time"])
            if any(n == "6 s latency" and a <= at <= b for n, a, b in figures.fault_windows):
                counts["6 s latency"] += 1
    return counts


def retries(flow: Flow, orders: list[Driven]) -> Counter[str]:
    """Workflow-level retries (a Lambda task scheduled again in an execution) and executions."""
    counts: Counter[str] = Counter()
    for driven in orders:
        for name in flow.executions_of(driven.placed.order_id):
            counts["executions"] += 1
            events = flow.history(name)
            failed = [
                e for e in events if e["type"] in ("LambdaFunctionFailed", "LambdaFunctionTimedOut", "TaskFailed")
            ]
            counts["failed task attempts (retried or caught)"] += len(failed)
            for event in failed:
                details = event.get("lambdaFunctionFailedEventDetails") or event.get("taskFailedEventDetails") or {}
                counts[f"  {details.get('error', event['type'])}"] += 1
    return counts


def table(rows: list[tuple[str, Any]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


# --------------------------------------------------------------------------------------- test


def test_under_vendor_faults_and_a_killed_worker_no_order_is_lost_and_no_vendor_effect_doubled(driver: Flow) -> None:
    flow = driver
    figures = Figures()
    orders: list[Driven] = []
    lock = threading.Lock()

    # Given the vendors failing about 30 % of the calls, and a worker killed mid-run
    with Faults(flow, figures) as faults:
        # When orders of every kind arrive (a few at a time) and are driven while the faults last
        def place_some(worker: int) -> None:
            for number in range(worker, ORDERS, DRIVERS):
                placed = None
                for _ in range(5):  # the sandboxes' admin routes never fail; the stack may be busy
                    try:
                        placed = place(flow, number)
                        break
                    except (httpx.HTTPError, AssertionError):
                        time.sleep(1.0)
                assert placed is not None, f"order {number} could not be placed"
                with lock:
                    orders.append(placed)
                    figures.placed_by_kind[placed.kind] += 1
                time.sleep(0.5)

        run_concurrently({f"placer {w}": (lambda w=w: place_some(w)) for w in range(DRIVERS)}, workers=DRIVERS)
        drive(flow, orders, time.monotonic() + FAULT_SECONDS)
    assert faults.error is None, f"the fault injection failed: {faults.error!r}"
    fault_end = time.monotonic()

    # When the faults have stopped, a person deals with what is left, and the orders go on
    deadline = fault_end + SETTLE_SECONDS
    while time.monotonic() < deadline:
        drive(flow, orders, min(deadline, time.monotonic() + 20))
        open_ = [d for d in orders if (d.last or {}).get("state") not in FINAL]
        if not open_:
            break
        for driven in open_:
            try:
                deal_with(flow, driven, figures)
            except (httpx.HTTPError, AssertionError) as exc:
                figures.attention[f"ops API refused: {str(exc)[:80]}"] += 1
    duration = time.monotonic() - figures.started

    # Then every order ended, no vendor effect is doubled
    for driven in orders:
        nudge(flow, driven)
        figures.ended_by_state[(driven.last or {}).get("state", "not found")] += 1
    lost = [d for d in orders if (d.last or {}).get("state") not in FINAL]
    doubled = duplicates(flow, orders)
    faults_seen = fault_counts(flow, figures)
    rows: list[tuple[str, Any]] = [
        ("orders", f"{len(orders)} ({', '.join(f'{n} {k}' for k, n in sorted(figures.placed_by_kind.items()))})"),
        *((f"fault: {k}", n) for k, n in sorted(faults_seen.items())),
        ("worker killed", "; ".join(figures.killed) or "none"),
        *((f"retries: {k.strip()}", n) for k, n in sorted(retries(flow, orders).items())),
        *((f"ops: {k}", n) for k, n in sorted(figures.attention.items())),
        ("resumes (ops API)", figures.resumes),
        *((f"ended: {k}", n) for k, n in sorted(figures.ended_by_state.items())),
        ("lost (not in a final state)", len(lost)),
        ("duplicated vendor effects", len(doubled)),
        ("duration", f"{duration:.0f} s (faults {FAULT_SECONDS} s)"),
    ]
    print("\nfault run\n" + table(rows))
    print("\n".join(["duplicated:", *doubled] if doubled else []))
    assert figures.killed, "no worker was killed"
    assert faults_seen["error 500"] and faults_seen["error 429"] and faults_seen["timeout (504 after 12 s)"]
    assert not lost, "lost orders:\n" + "\n\n".join(flow.report(d.placed) for d in lost[:5])
    assert not doubled, "duplicated vendor side effects:\n" + "\n".join(doubled)
