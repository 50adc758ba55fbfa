"""The fault run of the reliability suite (issue 13 point 8): orders of every kind driven to their
end on a local stack of their own while the vendor sandboxes fail about 30 % of the calls (500,
429 with ``Retry-After``, timeouts — lost answers too — and 6 s of latency) and one function worker
is killed (SIGKILL) mid-invocation: while a vendor sandbox holds its call (the sandbox lists the
call's client port, the worker owns that connection), and the runtime then reports that
invocation ended by ``Runtime.ExitError``. Then the faults stop, and a person deals with what is left
through the ops API, as the runbook says: a failed or stuck order is resumed; an order that needs
attention because a call's outcome is unknown is checked at the vendor (the sandbox's records),
told what was found (``PATCH checked_at_vendor``) and retried.

Then: no order lost (every one in a final state), no vendor side effect doubled (per order at most
one Blink order, one DispatchNINJA order and one Blink Logistics task per courier job — each known
to the order by its exact id fields —, one Bloq.It rent, each Blink status sent once), the local
stack's memory (its process tree's RSS, sampled every 15 s) under a ceiling and, over a 10-minute
fault run, without a growth trend; and a table of the run's figures.

``make test`` runs a smoke share (12 orders, 90 s of faults); ``make reliability``
(``RELIABILITY_FULL=1``) 100 orders placed over 8 minutes of a 10-minute fault run.
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

from bench.common import process_tree, rss_kb
from tests.e2e.flow import CUSTOMER, HOME_BRANCH, STATE_MACHINE, Flow, Placed, run_concurrently
from tests.e2e.support import SYNCS, RunningStack, start_stack, write_test_template

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

FULL = os.environ.get("RELIABILITY_FULL") == "1"
ORDERS = 100 if FULL else 12
DRIVERS = 16 if FULL else 6  # orders placed at once
PLACE_SECONDS = 480 if FULL else 10  # the orders arrive spread over this long (load sustained)
FAULT_SECONDS = 600 if FULL else 90  # how long the faults last
KILL_AFTER_SECONDS = 120 if FULL else 10  # the worker is killed mid-run: not before this
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
# The local stack's memory: its process tree's RSS (the stack, its emulator, the function
# workers), sampled this often; its ceiling for the whole run, and over the last half of a
# 10-minute fault run the least-squares slope's bound. Measured: see the report of the run.
# The tree is mostly function workers (~70 MB each, up to 3 per function while calls are held
# 6 s: 7-26 of them in the full run): its ceiling bounds them. The stack process (emulator,
# sandboxes) is where the old leak was (moto: 40-55 MB/s, i.e. 2,400+ MB/min): its own ceiling
# and slope. Measured in two full runs on 2026-11-28 (100 orders, 10 minutes of faults): tree
# 639-1,993 MB; stack process 302-343 and 318-362 MB, over the faults' last half +2.1 and
# +2.8 MB/min (it holds the orders' own items; moto's per-object lists, the ended executions'
# histories and threads are bounded: orderbridge_local.retention). Before that (2026-11-27) the
# stack process was 313-577 MB at +15 and +23 MB/min. The bounds leave about 2x headroom over
# the highest figure (the slope: 3x, as 10 minutes is a short line to fit).
MEMORY_EVERY_SECONDS = 15.0
MEMORY_CEILING_MB = 3072  # the whole tree
STACK_CEILING_MB = 768  # the stack process alone
MEMORY_SLOPE_MB_PER_MIN = 100.0  # the tree: workers come and go, ~70 MB a step
STACK_SLOPE_MB_PER_MIN = 10.0  # the stack process alone
TREND_MIN_FAULT_SECONDS = 600  # the trend is judged over a fault run at least this long


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
                due = time.monotonic() - self.figures.started >= KILL_AFTER_SECONDS
                if name == "6 s latency" and due and not self.figures.killed:
                    # calls are held in the vendors for 6 s: look for a worker in one, for a while
                    until = time.monotonic() + LATENCY_MS / 1000
                    while not self.figures.killed and time.monotonic() < until and not self.stop.is_set():
                        killed = kill_a_busy_worker(self.flow)  # none seen: look again, or next phase
                        self.figures.killed += [killed] if killed else []
                        self.stop.wait(0.25)
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


def _established(pid: int) -> set[tuple[int, int]]:
    """The (local port, remote port) of ``pid``'s established TCP connections (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table_path in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table_path).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "01" and parts[9] in inodes:
                found.add((int(parts[1].rsplit(":", 1)[1], 16), int(parts[2].rsplit(":", 1)[1], 16)))
    return found


def _held_calls(flow: Flow) -> dict[tuple[int, int], str]:
    """The vendor calls the sandboxes hold right now: (the sandbox's port, the caller's port) →
    what the call is."""
    held: dict[tuple[int, int], str] = {}
    for vendor in VENDORS:
        port = httpx.URL(flow.sandbox(vendor)).port or 0
        for call in flow.admin(vendor, "GET", "/_admin/in_flight"):
            client_port = int(str(call["client"]).rsplit(":", 1)[1])
            held[(port, client_port)] = f"{vendor} {call['method']} {call['path']} (held since {call['since']})"
    return held


def kill_a_busy_worker(flow: Flow) -> str | None:
    """SIGKILL one worker of a vendor-calling function that is provably mid-invocation: a vendor
    sandbox holds a call whose client port is one of the worker's connections to that sandbox (a
    worker calls a vendor only while it runs an invocation). Then the runtime must report the
    invocation that died (``Runtime.ExitError``); what was killed and that invocation, or None
    while no such worker is seen."""
    admin = flow.stack["admin"]
    workers = httpx.get(f"{admin}/workers", timeout=10.0, trust_env=False).json()["workers"]
    candidates = [(name, pid) for name in VENDOR_FUNCTIONS for pid in workers.get(name, [])]
    if not candidates:
        return None
    held = _held_calls(flow)
    for name, pid in candidates:
        try:
            calls = [held[(remote, local)] for local, remote in _established(pid) if (remote, local) in held]
        except OSError:
            continue
        if not calls:
            continue
        killed_at = time.time()
        os.kill(pid, signal.SIGKILL)
        died = _died_invocation(admin, name, killed_at)
        return f"{name} pid {pid}, in the call {calls[0]}; its invocation {died}"
    return None


def _died_invocation(admin: str, function: str, killed_at: float) -> str:
    """The invocation of ``function`` that the runtime reports ended by the worker's exit."""
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        answer = httpx.get(f"{admin}/invocations", params={"function": function}, timeout=10.0, trust_env=False)
        died = [
            i
            for i in answer.json()["invocations"]
            if i.get("error") == "Runtime.ExitError" and i["started_at"] <= killed_at
        ]
        if died:
            order = f" (order {died[-1]['order_id']})" if died[-1].get("order_id") else ""
            return f"{died[-1]['request_id']}{order} ended Runtime.ExitError"
        time.sleep(0.5)
    raise AssertionError(f"the runtime reports no {function} invocation ended by the kill")


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


# ------------------------------------------------------------------------------------- memory


class Memory:
    """Samples the local stack's memory every ``MEMORY_EVERY_SECONDS`` in a thread: (time, the
    process tree's RSS, the stack process's own RSS), in MB."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float, float]] = []
        self.workers: list[int] = []  # the tree's process count besides the stack, per sample
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="memory", daemon=True)
        self.lock = threading.Lock()

    def sample(self) -> None:
        pids = process_tree(self.pid)
        tree = sum(rss_kb(pid) or 0 for pid in pids) / 1024
        own = (rss_kb(self.pid) or 0) / 1024
        with self.lock:
            self.samples.append((time.monotonic(), tree, own))
            self.workers.append(len(pids) - 1)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(MEMORY_EVERY_SECONDS)

    def between(self, start: float, end: float) -> list[tuple[float, float, float]]:
        with self.lock:
            return [s for s in self.samples if start <= s[0] <= end]

    def trend(self, start: float, end: float, *, own: bool = False) -> float:
        """The least-squares slope of the tree's RSS (``own``: the stack process's) between
        ``start`` and ``end``, in MB/min."""
        points = [(t, mine if own else tree) for t, tree, mine in self.between(start, end)]
        if len(points) < 3:
            return 0.0
        mean_t = sum(t for t, _ in points) / len(points)
        mean_m = sum(m for _, m in points) / len(points)
        spread = sum((t - mean_t) ** 2 for t, _ in points)
        return 60 * sum((t - mean_t) * (m - mean_m) for t, m in points) / spread if spread else 0.0

    def describe(self, start: float, end: float) -> str:
        picked = self.between(start, end)
        if not picked:
            return "no samples"
        trees, owns = [tree for _, tree, _ in picked], [own for _, _, own in picked]
        with self.lock:
            workers = [n for (t, _, _), n in zip(self.samples, self.workers, strict=True) if start <= t <= end]
        return (
            f"tree min {min(trees):.0f} / max {max(trees):.0f} MB, slope {self.trend(start, end):+.1f} MB/min;"
            f" stack process {min(owns):.0f}-{max(owns):.0f} MB, slope {self.trend(start, end, own=True):+.1f}"
            f" MB/min; {min(workers)}-{max(workers)} workers; {len(picked)} samples"
        )

    def __enter__(self) -> Memory:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


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
        oid = driven.placed.order_id
        mine_dn = [o for o in dn_orders if _dn_customer(o) == driven.customer_name]
        mine_tasks = [t for t in tasks if str(t.get("mappingKey", "")).startswith(oid)]
        mine_rents = [r for r in rents if r.get("externalID") == oid]
        made_ids = (
            ("DispatchNINJA order", [str(m["details"]["id"]) for m in mine_dn]),
            ("Blink Logistics task", [str(t["taskId"]) for t in mine_tasks]),
        )
        for what, made in made_ids:
            known = known_ids(order, what)
            unknown = [made_id for made_id in made if made_id not in known]
            if unknown:
                found.append(f"{oid}: {what}s {unknown} made but not the order's (of {len(made)})")
        found.extend(rents_doubled(oid, mine_rents, order["timeline"]))
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


def rents_doubled(oid: str, rents: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> list[str]:
    """One live Bloq.It rent per order. A rent the order's failure path released (cancelled and
    finished before any drop-off, ``ReleaseEmptyLocker``, on the order's timeline) is not a second
    effect: a failed order frees its locker, and its resume reserves one again."""
    released = {
        str(event.get("detail", {}).get("rent_id"))
        for event in timeline
        if event.get("detail", {}).get("action") == "release"
    }
    live = [r for r in rents if not any(s.get("state") == "cancelled" for s in r.get("states", []))]
    found = [f"{oid}: {len(live)} live Bloq.It rents {[r.get('_id') for r in live]}"] if len(live) > 1 else []
    for rent in rents:
        if rent not in live and (rent.get("state") != "finished" or rent.get("_id") not in released):
            found.append(
                f"{oid}: Bloq.It rent {rent.get('_id')} cancelled ({rent.get('state')}) but not released by the order"
            )
    return found


# A courier job's vendor id: the order's field for its current job, and the timeline entries' detail
# field for every job it had (a replaced job stays in the timeline).
_KNOWN_BY = {
    "DispatchNINJA order": ("dispatchninja_order_id", "dispatchninja_order_id", {"courier_order_created"}),
    "Blink Logistics task": ("blink_logistics_task_id", "task_id", {"courier_task_created", "task_status"}),
}


def known_ids(order: dict[str, Any], what: str) -> set[str]:
    """The ids of ``what`` the order knows as its own, from the exact fields that hold them."""
    field_name, detail_name, kinds = _KNOWN_BY[what]
    known = {str(order["order"][field_name])} if order["order"].get(field_name) else set()
    for entry in order["timeline"]:
        value = (entry.get("detail") or {}).get(detail_name)
        if entry.get("kind") in kinds and value is not None:
            known.add(str(value))
    return known


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


def test_under_vendor_faults_and_a_killed_worker_no_order_is_lost_and_no_vendor_effect_doubled(
    fault_stack: RunningStack, driver: Flow
) -> None:
    flow = driver
    figures = Figures()
    orders: list[Driven] = []
    lock = threading.Lock()
    pace = DRIVERS * PLACE_SECONDS / ORDERS  # each placer's interval between its orders

    # Given the vendors failing about 30 % of the calls, and a worker killed mid-run
    with Memory(fault_stack.process.pid) as memory, Faults(flow, figures) as faults:
        # When orders of every kind arrive (spread over the run) and are driven while the faults last
        def place_some(worker: int) -> None:
            time.sleep(worker * pace / DRIVERS)
            for number in range(worker, ORDERS, DRIVERS):
                began = time.monotonic()
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
                time.sleep(max(0.5, pace - (time.monotonic() - began)))

        placing = threading.Thread(
            target=run_concurrently,
            args=({f"placer {w}": (lambda w=w: place_some(w)) for w in range(DRIVERS)},),
            kwargs={"workers": DRIVERS},
            name="placers",
            daemon=True,
        )
        placing.start()
        fault_until = figures.started + FAULT_SECONDS
        while time.monotonic() < fault_until:
            drive(flow, orders, fault_until)  # returns early when every order placed so far ended
            time.sleep(1.0)
        placing.join(PLACE_SECONDS)
        fault_end = time.monotonic()
    assert faults.error is None, f"the fault injection failed: {faults.error!r}"
    assert not placing.is_alive(), "the orders were not all placed while the faults lasted"
    assert len(orders) == ORDERS, f"{len(orders)} of {ORDERS} orders placed"

    # When the faults have stopped, a person deals with what is left, and the orders go on
    deadline = fault_end + SETTLE_SECONDS
    while time.monotonic() < deadline:
        memory.sample()
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
    memory.sample()
    half = figures.started + (fault_end - figures.started) / 2
    trend, own_trend = memory.trend(half, fault_end), memory.trend(half, fault_end, own=True)

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
        ("memory (stack tree RSS)", memory.describe(figures.started, fault_end)),
        ("memory after the faults", memory.describe(fault_end, time.monotonic())),
        (
            "memory slope, faults' last half",
            f"tree {trend:+.1f} MB/min (bound {MEMORY_SLOPE_MB_PER_MIN}),"
            f" stack process {own_trend:+.1f} MB/min (bound {STACK_SLOPE_MB_PER_MIN})",
        ),
        (
            "memory ceilings",
            f"tree {MEMORY_CEILING_MB} MB, stack process {STACK_CEILING_MB} MB;"
            f" samples every {MEMORY_EVERY_SECONDS:.0f} s: {len(memory.samples)}",
        ),
        ("duration", f"{duration:.0f} s (faults {fault_end - figures.started:.0f} s)"),
        ("load average (1, 5, 15 min)", " ".join(f"{n:.2f}" for n in os.getloadavg())),
    ]
    print("\nfault run\n" + table(rows))
    print("\n".join(["duplicated:", *doubled] if doubled else []))
    assert figures.killed, "no worker was killed"
    assert faults_seen["error 500"] and faults_seen["error 429"] and faults_seen["timeout (504 after 12 s)"]
    assert not lost, "lost orders:\n" + "\n\n".join(flow.report(d.placed) for d in lost[:5])
    assert not doubled, "duplicated vendor side effects:\n" + "\n".join(doubled)
    peak, own_peak = max(tree for _, tree, _ in memory.samples), max(own for _, _, own in memory.samples)
    assert peak <= MEMORY_CEILING_MB, f"the local stack peaked at {peak:.0f} MB (ceiling {MEMORY_CEILING_MB} MB)"
    assert own_peak <= STACK_CEILING_MB, f"the stack process peaked at {own_peak:.0f} MB (ceiling {STACK_CEILING_MB})"
    if fault_end - figures.started >= TREND_MIN_FAULT_SECONDS:
        assert trend <= MEMORY_SLOPE_MB_PER_MIN, f"the local stack's memory grows {trend:+.1f} MB/min under faults"
        assert own_trend <= STACK_SLOPE_MB_PER_MIN, f"the stack process grows {own_trend:+.1f} MB/min under faults"


def test_a_rent_released_by_the_failure_path_is_not_a_second_effect_two_live_rents_are():
    # Given an order whose first rent its failure path released (cancelled, finished, on its
    # timeline) and whose resume reserved a second one
    def rent(rent_id: str, *states: str) -> dict[str, Any]:
        return {"_id": rent_id, "state": states[-1], "states": [{"state": s} for s in states]}

    released = rent("r1", "reserved", "cancelled", "finished")
    used = rent("r2", "reserved", "in_progress", "collected", "finished")
    timeline = [{"kind": "rent_action", "detail": {"rent_id": "r1", "action": "release"}}]

    # Then nothing is doubled; but two rents that were never cancelled are, and so is a cancelled
    # rent the order did not release
    assert rents_doubled("o", [released, used], timeline) == []
    assert rents_doubled("o", [used, rent("r3", "reserved")], timeline) == ["o: 2 live Bloq.It rents ['r2', 'r3']"]
    assert rents_doubled("o", [released, used], []) == [
        "o: Bloq.It rent r1 cancelled (finished) but not released by the order"
    ]
