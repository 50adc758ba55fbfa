"""The local Lambda runtime: every function's real handler, with that function's own environment,
in warm worker processes.

Isolation: one process per concurrent invocation of a function (a pool per function that grows
with concurrency up to a cap, like Lambda execution environments). Environment variables, module
state (Powertools' cached settings and clients, ``functools.cache`` deps) and ``sys.path`` are
per process, so two functions never see each other's configuration, and a handler that hangs
past its ``Timeout`` is killed without touching anything else. A worker (:mod:`.worker`) is a
standard-library script run with the project's interpreter; it imports the handler once (the
cold start) and then serves invocations one at a time.

The front door and the background (as in AWS, where each function has its own concurrency and a
webhook's answer never waits behind a workflow): an invocation is either *front* (API Gateway, the
``invoke`` command: someone waits for the answer) or *background* (Step Functions tasks, Lambda
``Invoke`` from the emulator, ``Event`` invocations, schedules, stream pollers). On one machine
they share the CPUs and the one emulator process, so the background is held back where it costs
the front door:

* at most ``background_concurrency`` background invocations run at once, across all functions
  (:class:`Lane`: the others wait their turn, first come first served, without holding a worker);
  a front invocation never waits for that lane; while the front door is pressed (a burst: several
  front invocations in flight at once) no new background invocation starts, for at most
  :data:`MAX_BACKGROUND_PAUSE_SECONDS` at a stretch; while it is quiet, more run;
* the workers of functions that no route reaches run at a lower OS priority
  (:data:`BACKGROUND_NICE`), so a webhook's worker gets the CPU first;
* each function keeps its own pool, so a front function's workers are never busy with background
  work of another function (the reserved concurrency of AWS).

Every invocation records how long it waited (for the lane and a worker: ``queued_ms``) and how long
its handler ran (``handler_ms``, AWS calls included); :meth:`Runtime.timings` sums them up.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orderbridge_local.aws_emulator import DEV_CREDENTIALS, DeployedFunction
from orderbridge_local.template import FunctionSpec

logger = logging.getLogger("orderbridge_local.runtime")

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
READY_TIMEOUT_SECONDS = 30.0
ACQUIRE_TIMEOUT_SECONDS = 30.0
# A worker idle this long is stopped: the pool a burst grew (up to --max-workers per function,
# ~70 MB each) shrinks back once the burst is over. A function behind a route keeps one warm; a
# background function's last worker goes too (it starts again on the next invocation, as Lambda's).
IDLE_WORKER_SECONDS = 30.0
# The OS priority (nice) of the workers of background functions: the CPU goes to the front door's
# workers first when both want it. Measured on the shared 2-core machine: at 5 the burst's p99 was
# ~1.5× worse than at 10 and the workflows' backlog grew all the same (nice is relative to every
# process on the machine: beside other work the background drains slowly either way).
BACKGROUND_NICE = 10
# The front door is quiet once no front invocation has run for this long: the background lane then
# widens from ``background_concurrency`` to ``background_idle_concurrency`` (its backlog drains).
FRONT_QUIET_SECONDS = 1.0
# The front door is pressed while this many front invocations are in flight at once (a burst, not a
# person's page polling): no new background invocation starts then — on one machine every background
# task (and the emulator work it causes in the stack's one process) is CPU a waiting webhook does not
# get. What waits is not lost: it starts once the pressure drops (Step Functions tasks and stream
# batches wait in the lane as an event source's backlog does in AWS).
FRONT_PRESSED_IN_FLIGHT = 2
# ... but never for longer than this at a stretch: after it, the lane's busy size
# (``background_concurrency``) runs even under pressure, so a front door that is never quiet cannot
# starve the workflows.
MAX_BACKGROUND_PAUSE_SECONDS = 20.0
# How many recent invocations per function and lane :meth:`Runtime.timings` sums up.
TIMINGS_KEPT = 2000

# Defaults the local runtime adds under the function's own variables: there is no X-Ray daemon, and
# the in-process emulator (one Python process for every AWS API) answers slower than AWS does when
# many orders are in flight, so AWS calls get more time than the functions' 1 s / 2 s in AWS
# (within a function's 10 s).
LOCAL_DEFAULTS = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "AWS_CONNECT_TIMEOUT_SECONDS": "3",
    "AWS_READ_TIMEOUT_SECONDS": "5",
}


def function_environment(
    spec: FunctionSpec, deployed: DeployedFunction, *, endpoint_url: str, region: str
) -> dict[str, str]:
    """The process environment of one function's workers: the deployed function's variables (the
    template's Globals and its own, resolved by the emulator's CloudFormation), then what the Lambda
    runtime itself sets (reserved: a function cannot override them), with boto3 pointed at the
    emulator and nothing of the developer's own AWS configuration."""
    reserved = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **DEV_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": deployed.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{deployed.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "ORDERBRIDGE_LOCAL_PATH": os.pathsep.join(str(p) for p in spec.layer_dirs),
    }
    # Which function's workers an emulator request came from (its User-Agent: ``app/<logical id>``),
    # for the emulator's timings; a function's own AWS_SDK_UA_APP_ID wins.
    caller = {"AWS_SDK_UA_APP_ID": spec.logical_id[:50]}
    return {**LOCAL_DEFAULTS, **caller, **deployed.environment, **reserved}


# ----------------------------------------------------------------------------------- results


@dataclass
class Invocation:
    """One invocation, as the event log and the emulator's Invoke answer need it."""

    request_id: str
    function: str  # logical id
    source: str
    started_at: float
    ok: bool = False
    result: str | None = None  # the handler's return value, JSON text
    error: dict[str, Any] | None = None
    logs: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    cold_init_ms: float | None = None
    status: str = ""  # what the log line shows: an HTTP status, "ok", an error type
    order_id: str | None = None
    lane: str = "front"  # or "background" (see the module docstring)
    queued_ms: float = 0.0  # waiting for the background lane and for a free worker
    handler_ms: float | None = None  # the handler's own run, its AWS calls included (the worker's clock)

    def payload(self) -> bytes:
        if self.ok:
            return (self.result or "null").encode()
        return json.dumps(self.error or {}).encode()

    def summary(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "function": self.function,
            "source": self.source,
            "started_at": self.started_at,
            "ok": self.ok,
            "status": self.status,
            "order_id": self.order_id,
            "duration_ms": self.duration_ms,
            "cold_init_ms": self.cold_init_ms,
            "lane": self.lane,
            "queued_ms": self.queued_ms,
            "handler_ms": self.handler_ms,
            "error": self.error.get("errorType") if self.error else None,
        }


class WorkerGone(Exception):
    pass


# ------------------------------------------------------------------------------------ worker


class Worker:
    """One worker process of one function (see :mod:`.worker` for the protocol)."""

    _ids = itertools.count(1)

    def __init__(self, spec: FunctionSpec, env: dict[str, str], nice: int = 0) -> None:
        self.spec = spec
        self.id = next(self._ids)
        self.cold = True
        self.init_ms: float | None = None
        self.init_logs: list[str] = []
        self.idle_since = time.monotonic()
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=str(spec.code_dir),
            start_new_session=True,  # Ctrl-C in the terminal is for the stack, which stops its workers
        )
        self.nice = 0
        if nice:
            try:
                base = os.getpriority(os.PRIO_PROCESS, 0)  # relative to the stack's own priority
                os.setpriority(os.PRIO_PROCESS, self.process.pid, min(19, base + nice))
                self.nice = nice
            except OSError as exc:  # not allowed here: the worker runs at the stack's priority
                logger.debug("could not lower the priority of a %s worker: %s", spec.logical_id, exc)
        self._reader = threading.Thread(target=self._read, name=f"worker-{spec.logical_id}-{self.id}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self._messages.put(json.loads(line))
            except ValueError:
                logger.warning("%s worker %s: unreadable line %r", self.spec.logical_id, self.id, line[:200])
        self._messages.put(None)

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        message = self._next(timeout)
        if message.get("type") != "ready":
            raise WorkerGone(f"unexpected first message {message.get('type')}")
        self.init_ms = message.get("init_ms")
        self.init_logs = message.get("logs") or []
        self.init_error = message.get("init_error")

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            message = self._messages.get(timeout=max(0.0, timeout))
        except queue.Empty:
            raise TimeoutError from None
        if message is None:
            raise WorkerGone(f"worker exited with {self.process.poll()}")
        return message

    def invoke(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerGone(str(exc)) from exc
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline - time.monotonic())
            if message.get("type") == "answer" and message.get("id") == request["id"]:
                return message

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def peak_kb(self) -> int:
        """The process's resident memory high-water mark (VmHWM), while it runs; 0 once gone."""
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def stop(self, timeout: float = 2.0) -> None:
        if self.process.poll() is None:
            try:
                if self.process.stdin:
                    self.process.stdin.close()  # the worker's loop ends on EOF
            except OSError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_pipes()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            try:
                self.process.wait(2.0)
            except subprocess.TimeoutExpired:
                logger.error("worker %s of %s did not die", self.process.pid, self.spec.logical_id)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                if pipe:
                    pipe.close()
            except OSError:
                pass
        self._reader.join(1.0)


class _Ticket:
    """A request waiting for a worker (handed one directly, in arrival order)."""

    __slots__ = ("abandoned", "worker")

    def __init__(self) -> None:
        self.worker: Worker | None = None
        self.abandoned = False


class FunctionPool:
    """The warm workers of one function; grows with concurrency up to ``max_workers``.

    A request never waits for a particular worker's cold start: when every worker is busy, one
    more is started in the background (up to the cap) and the request takes whichever worker is
    free first — a busy one that finishes, or the new one once it is ready. (Bound to the worker
    it started, a request in a burst waited out a whole cold start while warm workers came free
    many times over: seconds of p99 for a 100 ms function.)"""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], max_workers: int, *, nice: int = 0) -> None:
        self.spec = spec
        self.env = env
        self.nice = nice  # the OS priority of its workers (background functions: lower)
        self.max_workers = max(1, max_workers)
        self._idle: deque[Worker] = deque()
        self._all: set[Worker] = set()
        self._waiting: deque[_Ticket] = deque()
        self._starting = 0
        self._start_failure: str | None = None
        self._cond = threading.Condition()
        self._closed = False
        self.started = 0  # workers ever made ready
        self._gone_peak_kb = 0  # the highest VmHWM of the workers stopped so far

    def _retire(self, worker: Worker) -> None:
        """Note a worker's peak memory before it is stopped or killed (B6 reads it afterwards)."""
        self._gone_peak_kb = max(self._gone_peak_kb, worker.peak_kb())

    def peak_mb(self) -> float:
        """The highest resident memory any of this function's workers reached (live or stopped)."""
        with self._cond:
            live = [w.peak_kb() for w in self._all]
        return round(max([self._gone_peak_kb, *live]) / 1024, 1)

    def acquire(self, timeout: float = ACQUIRE_TIMEOUT_SECONDS) -> Worker:
        """A free worker; requests that had to wait are served first come, first served."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._closed:
                raise WorkerGone("the runtime is stopping")
            if not self._waiting:
                while self._idle:
                    worker = self._idle.pop()  # most recently used first: keeps the others cold-able
                    if worker.alive:
                        return worker
                    self._all.discard(worker)
            ticket = _Ticket()
            self._waiting.append(ticket)
            try:
                while ticket.worker is None:
                    if self._closed:
                        raise WorkerGone("the runtime is stopping")
                    if self._start_failure is not None and not self._starting:
                        failure, self._start_failure = self._start_failure, None
                        raise WorkerGone(failure)
                    if len(self._all) + self._starting < self.max_workers:
                        self._starting += 1
                        threading.Thread(
                            target=self._start_worker, name=f"start-{self.spec.logical_id}", daemon=True
                        ).start()
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"no free worker for {self.spec.logical_id} within {timeout:.0f} s")
                    self._cond.wait(remaining)
            except BaseException:
                ticket.abandoned = True
                if ticket.worker is not None:  # handed over just now: pass it on
                    self._hand_over(ticket.worker)
                else:
                    with suppress(ValueError):
                        self._waiting.remove(ticket)
                raise
            return ticket.worker

    def _hand_over(self, worker: Worker) -> None:
        """Give a free worker to the longest waiting request, or keep it idle (lock held)."""
        if not worker.alive or self._closed:
            self._all.discard(worker)
            self._cond.notify_all()
            return
        while self._waiting:
            ticket = self._waiting.popleft()
            if not ticket.abandoned:
                ticket.worker = worker
                self._cond.notify_all()
                return
        worker.idle_since = time.monotonic()
        self._idle.append(worker)

    def reap(self, idle_seconds: float, keep: int = 1) -> int:
        """Stop the workers idle for ``idle_seconds`` beyond the ``keep`` most recently used, as
        Lambda reclaims idle execution environments: a burst's workers do not stay forever."""
        stopped: list[Worker] = []
        now = time.monotonic()
        with self._cond:
            while len(self._all) > keep and self._idle and now - self._idle[0].idle_since >= idle_seconds:
                worker = self._idle.popleft()  # the least recently used
                self._all.discard(worker)
                stopped.append(worker)
        for worker in stopped:
            self._retire(worker)
            worker.stop(timeout=1.0)
        return len(stopped)

    def _start_worker(self) -> None:
        """A new worker, made ready in the background, then free for whoever waits."""
        worker: Worker | None = None
        try:
            worker = Worker(self.spec, self.env, self.nice)
            worker.wait_ready()
        except Exception as exc:
            logger.warning("%s: a worker did not start: %s", self.spec.logical_id, exc)
            if worker is not None:
                worker.kill()
            with self._cond:
                self._starting -= 1
                self._start_failure = f"the worker did not start: {exc}"
                self._cond.notify_all()
            return
        with self._cond:
            self._starting -= 1
            closed = self._closed
            if not closed:
                self.started += 1
                self._all.add(worker)
                self._hand_over(worker)
        if closed:
            worker.stop(timeout=1.0)

    def release(self, worker: Worker) -> None:
        with self._cond:
            self._hand_over(worker)

    def discard(self, worker: Worker) -> None:
        self._retire(worker)
        worker.kill()
        with self._cond:
            self._all.discard(worker)
            self._cond.notify_all()  # a waiter may start a new one in its place

    @property
    def size(self) -> int:
        return len(self._all)

    @property
    def starting(self) -> int:
        """Workers on their way up (cold starts in progress): not in :attr:`size` yet."""
        return self._starting

    def pids(self) -> list[int]:
        with self._cond:
            return sorted(w.process.pid for w in self._all)

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.stop(timeout=1.0)


# -------------------------------------------------------------------------------------- lane


class _Turn:
    __slots__ = ("event", "granted")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.granted = False


class Lane:
    """At most ``size`` holders at once. The others wait, each on its own event (a release wakes
    exactly the next one, not every waiter), without a timeout (background work waits its turn as
    an event source's backlog does in AWS), and the functions take turns: a freed slot goes to the
    longest-waiting invocation of the next function in a round, so a stream batch waits behind one
    invocation of each other function, not behind five hundred workflow tasks (in AWS each function
    has its own concurrency)."""

    def __init__(self, size: int, idle_size: int | None = None) -> None:
        """``size`` at once while the front door is busy; ``idle_size`` (default: ``size``) while it
        is quiet (:meth:`front_quiet`): the background drains its backlog when no one waits."""
        self.size = max(1, size)
        self.idle_size = max(self.size, idle_size or self.size)
        self.pressed_size = 0
        self._capacity = self.size
        self._held = 0
        self._waiting: OrderedDict[str, deque[_Turn]] = OrderedDict()  # function -> its waiters; the round
        self._count = 0
        self._lock = threading.Lock()
        self._closed = False
        self.most_waiting = 0  # the longest the queue has been

    def acquire(self, function: str = "") -> None:
        with self._lock:
            if self._closed:
                raise WorkerGone("the runtime is stopping")
            if self._held < self._capacity:
                self._held += 1
                return
            turn = _Turn()
            self._waiting.setdefault(function, deque()).append(turn)
            self._count += 1
            self.most_waiting = max(self.most_waiting, self._count)
        turn.event.wait()
        if not turn.granted:
            raise WorkerGone("the runtime is stopping")

    def release(self) -> None:
        with self._lock:
            self._held -= 1
            self._grant()

    def front_quiet(self, quiet: bool) -> None:
        """The front door went quiet (the lane widens to ``idle_size``) or busy (back to ``size``:
        running background invocations finish, no new one starts until the lane is below it)."""
        self.front_state("quiet" if quiet else "busy")

    def front_state(self, state: str) -> None:
        """``quiet`` (``idle_size`` at once), ``busy`` (``size``) or ``pressed`` (``pressed_size``:
        none by default — running ones finish, new ones wait until the pressure drops)."""
        with self._lock:
            self._capacity = {"quiet": self.idle_size, "busy": self.size}.get(state, self.pressed_size)
            self._grant()

    def _grant(self) -> None:
        """Hand free slots to the waiting, the functions taking turns (lock held)."""
        while self._waiting and self._held < self._capacity:
            function, turns = next(iter(self._waiting.items()))
            turn = turns.popleft()
            if turns:
                self._waiting.move_to_end(function)  # the other functions' turn first
            else:
                del self._waiting[function]
            self._count -= 1
            self._held += 1
            turn.granted = True
            turn.event.set()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def held(self) -> int:
        return self._held

    @property
    def waiting(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting = [turn for turns in self._waiting.values() for turn in turns]
            self._waiting.clear()
            self._count = 0
        for turn in waiting:
            turn.event.set()


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(ordered[-1], 1)}


# ----------------------------------------------------------------------------------- runtime


Listener = Callable[[Invocation], None]


class Runtime:
    """Runs the template's functions. ``invoke`` is what API Gateway, Step Functions, schedules,
    stream pollers and the ``invoke`` command all go through."""

    def __init__(
        self,
        functions: dict[str, FunctionSpec],
        deployed: dict[str, DeployedFunction],
        *,
        endpoint_url: str,
        region: str,
        max_workers: int = 4,
        history: int = 500,
        idle_seconds: float = IDLE_WORKER_SECONDS,
        front: Iterable[str] | None = None,
        background_concurrency: int | None = None,
        background_idle_concurrency: int | None = None,
    ) -> None:
        """``front``: the functions someone waits on (behind a route; default: all of them) — the
        others' workers run at :data:`BACKGROUND_NICE`. ``background_concurrency``: how many
        background invocations run at once while the front door is busy (default: the number of
        CPUs, at least 2); ``background_idle_concurrency``: while it is quiet (default: twice that)."""
        self.functions = functions
        self.front = set(functions if front is None else front)
        self.deployed = deployed
        self.endpoint_url = endpoint_url
        self.region = region
        busy = background_concurrency or max(2, os.cpu_count() or 2)
        self.lane = Lane(busy, background_idle_concurrency or 2 * busy)
        self._front_in_flight = 0
        self._front_last = 0.0  # time.monotonic() when the last front invocation ended
        self._pressed_since: float | None = None  # time.monotonic() when the front door became pressed
        self._lane_state = "busy"  # the lane starts at ``size``
        self._lane_lock = threading.Lock()
        # told each change of the front door's state (``quiet``, ``busy``, ``pressed``)
        self.front_listeners: list[Callable[[str], None]] = []
        # A background function never runs more at once than the lane lets through: its pool never
        # needs more workers than that (each one ~70 MB).
        self.pools = {
            name: FunctionPool(
                spec,
                function_environment(spec, deployed[name], endpoint_url=endpoint_url, region=region),
                min(
                    max_workers if name in self.front else min(max_workers, self.lane.idle_size),
                    spec.reserved_concurrency or max_workers,
                ),
                nice=0 if name in self.front else BACKGROUND_NICE,
            )
            for name, spec in functions.items()
        }
        self._timings: dict[tuple[str, str], deque[tuple[float, float, float, float]]] = {}
        self.listeners: list[Listener] = []
        self.recent: deque[Invocation] = deque(maxlen=history)
        self._recent_lock = threading.Lock()
        self._async = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lambda-async")
        self.idle_seconds = idle_seconds
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="runtime-reaper", daemon=True)
        self._reaper.start()
        self._front_watch = threading.Thread(target=self._watch_front, name="runtime-front-watch", daemon=True)
        self._front_watch.start()

    def _watch_front(self) -> None:
        """Set the background lane from the front door's state (:meth:`_front_state`)."""
        while not self._stopping.wait(0.1):
            self._set_lane()

    def _front_state(self) -> str:
        """``pressed`` (:data:`FRONT_PRESSED_IN_FLIGHT` front invocations at once, for at most
        :data:`MAX_BACKGROUND_PAUSE_SECONDS` at a stretch), ``busy`` (one in flight, or one ended
        within :data:`FRONT_QUIET_SECONDS`) or ``quiet``."""
        now = time.monotonic()
        with self._recent_lock:
            if self._front_in_flight >= FRONT_PRESSED_IN_FLIGHT:
                if self._pressed_since is None:
                    self._pressed_since = now
                if now - self._pressed_since < MAX_BACKGROUND_PAUSE_SECONDS:
                    return "pressed"
                return "busy"
            self._pressed_since = None
            if self._front_in_flight or now - self._front_last < FRONT_QUIET_SECONDS:
                return "busy"
            return "quiet"

    def _set_lane(self) -> None:
        with self._lane_lock:
            state = self._front_state()
            if state != self._lane_state:
                self._lane_state = state
                self.lane.front_state(state)
                for listener in self.front_listeners:
                    listener(state)

    def _front_begins(self) -> None:
        with self._recent_lock:
            self._front_in_flight += 1
        self._set_lane()  # at once: no new background invocation starts meanwhile

    def _front_ends(self) -> None:
        with self._recent_lock:
            self._front_in_flight -= 1
            self._front_last = time.monotonic()

    def _reap_loop(self) -> None:
        while not self._stopping.wait(min(5.0, max(0.1, self.idle_seconds / 2))):
            for name, pool in list(self.pools.items()):
                try:
                    # as Lambda reclaims idle execution environments; a front function keeps one warm
                    # (someone waits on its first answer: provisioned concurrency of one)
                    pool.reap(self.idle_seconds, keep=1 if name in self.front else 0)
                except Exception:
                    logger.exception("reaping idle workers of %s failed", pool.spec.logical_id)

    # ------------------------------------------------------------------ lookups

    def logical_id(self, name_or_arn: str) -> str:
        """A function's logical id from its logical id, physical name or ARN (qualifier ignored)."""
        if name_or_arn in self.functions:
            return name_or_arn
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        for logical, fn in self.deployed.items():
            if name in (fn.name, logical):
                return logical
        raise KeyError(f"no local function {name_or_arn!r}; known: {', '.join(sorted(self.functions))}")

    # ------------------------------------------------------------------ invoking

    def invoke(
        self, function: str, event: Any, *, source: str, timeout: float | None = None, background: bool = False
    ) -> Invocation:
        """Run ``function`` on ``event``; ``background``: through the background lane (see the
        module docstring) — Step Functions, the emulator's Invoke, async, schedules, streams."""
        logical = self.logical_id(function)
        spec = self.functions[logical]
        deployed = self.deployed[logical]
        pool = self.pools[logical]
        invocation = Invocation(
            request_id=str(uuid.uuid4()),
            function=logical,
            source=source,
            started_at=time.time(),
            lane="background" if background else "front",
        )
        limit = float(timeout if timeout is not None else spec.timeout)
        began = time.perf_counter()
        worker: Worker | None = None
        in_lane = False
        if not background:
            self._front_begins()
        try:
            if background:
                try:
                    self.lane.acquire(logical)
                except WorkerGone as exc:
                    invocation.error = {"errorType": "Runtime.ExitError", "errorMessage": str(exc)}
                    return self._done(invocation, began)
                in_lane = True
            try:
                worker = pool.acquire()
            except TimeoutError as exc:  # every worker busy for too long: what Lambda calls throttling
                invocation.error = {"errorType": "TooManyRequestsException", "errorMessage": str(exc)}
                invocation.queued_ms = round((time.perf_counter() - began) * 1000, 1)
                return self._done(invocation, began)
            invocation.queued_ms = round((time.perf_counter() - began) * 1000, 1)
            if worker.cold:
                invocation.cold_init_ms = worker.init_ms
                invocation.logs.extend(worker.init_logs)
                worker.cold = False
            deadline_ms = int(time.time() * 1000 + limit * 1000)
            request = {
                "id": invocation.request_id,
                "event": event,
                "context": {
                    "function_name": deployed.name,
                    "invoked_function_arn": deployed.arn,
                    "memory_limit_in_mb": spec.memory_mb,
                    "aws_request_id": invocation.request_id,
                    "deadline_ms": deadline_ms,
                },
            }
            answer = worker.invoke(request, timeout=limit)
            invocation.ok = bool(answer.get("ok"))
            invocation.result = answer.get("result")
            invocation.error = answer.get("error")
            invocation.logs.extend(answer.get("logs") or [])
            invocation.handler_ms = answer.get("duration_ms")
        except TimeoutError:
            invocation.error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {limit:.2f} seconds",
            }
            if worker is not None:
                pool.discard(worker)
                worker = None
        except WorkerGone as exc:
            invocation.error = {"errorType": "Runtime.ExitError", "errorMessage": f"worker exited: {exc}"}
            if worker is not None:
                pool.discard(worker)
                worker = None
        finally:
            if worker is not None:
                pool.release(worker)
            if in_lane:
                self.lane.release()
            if not background:
                self._front_ends()
        return self._done(invocation, began)

    def _done(self, invocation: Invocation, began: float) -> Invocation:
        invocation.duration_ms = round((time.perf_counter() - began) * 1000, 1)
        with self._recent_lock:
            kept = self._timings.get((invocation.function, invocation.lane))
            if kept is None:
                kept = self._timings[(invocation.function, invocation.lane)] = deque(maxlen=TIMINGS_KEPT)
            handler = invocation.handler_ms if invocation.handler_ms is not None else -1.0
            kept.append((invocation.started_at, invocation.queued_ms, handler, invocation.duration_ms))
        self._record(invocation)
        return invocation

    def timings(self, since: float = 0.0) -> dict[str, Any]:
        """Per function and lane, over its recent invocations that started at or after ``since``
        (epoch seconds): how many, and p50/p99/max of the time waiting (lane and worker), of the
        handler's run, and of the whole invocation, in ms; and the background lane now."""
        with self._recent_lock:
            kept = {key: [t for t in values if t[0] >= since] for key, values in self._timings.items()}
        out: dict[str, Any] = {}
        for (function, lane), values in sorted(kept.items()):
            if not values:
                continue
            handlers = [t[2] for t in values if t[2] >= 0]
            out.setdefault(function, {})[lane] = {
                "invocations": len(values),
                "queued_ms": _spread([t[1] for t in values]),
                "handler_ms": _spread(handlers) if handlers else None,
                "total_ms": _spread([t[3] for t in values]),
            }
        return {
            "functions": out,
            "background_lane": {
                "size": self.lane.size,
                "running": self.lane.held,
                "waiting": self.lane.waiting,
                "most_waiting": self.lane.most_waiting,
            },
        }

    def invoke_async(self, function: str, event: Any, *, source: str) -> str:
        """An ``Event`` invocation: accepted now, run in the background (no retries)."""
        request_id = str(uuid.uuid4())
        logical = self.logical_id(function)
        self._async.submit(self._safe_invoke, logical, event, source)
        return request_id

    def _safe_invoke(self, function: str, event: Any, source: str) -> None:
        try:
            self.invoke(function, event, source=source, background=True)
        except Exception:
            logger.exception("async invocation of %s failed", function)

    def route_from_emulator(
        self, function_name: str, payload: bytes, invocation_type: str, log_type: str | None
    ) -> tuple[bytes, str | None, str]:
        """The emulator's Lambda ``Invoke`` (from Step Functions, an SDK, the CLI) → this runtime."""
        try:
            event = json.loads(payload or b"{}")
        except ValueError:
            event = payload.decode("utf-8", "replace")
        source = "lambda:invoke"
        try:
            self.logical_id(function_name)
        except KeyError as exc:  # a function the template does not define (created through the API)
            error = {"errorType": "Runtime.NoLocalCode", "errorMessage": str(exc)}
            return json.dumps(error).encode(), "Unhandled", ""
        if invocation_type == "Event":
            self.invoke_async(function_name, event, source=source + " (async)")
            return b"", None, ""
        if invocation_type == "DryRun":
            return b"", None, ""
        invocation = self.invoke(function_name, event, source=source, background=True)
        tail = ""
        if log_type == "Tail":
            tail = base64.b64encode("\n".join(invocation.logs).encode()[-4096:]).decode()
        return invocation.payload(), (None if invocation.ok else "Unhandled"), tail

    # ------------------------------------------------------------------ bookkeeping

    def _record(self, invocation: Invocation) -> None:
        with self._recent_lock:
            self.recent.append(invocation)
        for listener in list(self.listeners):
            try:
                listener(invocation)
            except Exception:
                logger.exception("invocation listener failed")

    def history(self, function: str | None = None, source_prefix: str | None = None) -> list[dict[str, Any]]:
        with self._recent_lock:
            items = list(self.recent)
        return [
            i.summary()
            for i in items
            if (function is None or i.function == function)
            and (source_prefix is None or i.source.startswith(source_prefix))
        ]

    def warm(self, functions: Iterable[str] | None = None) -> None:
        """Start one worker per function, in parallel, and wait (bounded) until each is ready."""
        names = list(functions if functions is not None else self.functions)

        def start(name: str) -> None:
            try:
                pool = self.pools[name]
                worker = pool.acquire()
                worker.cold = False  # its start-up happened now, not in an invocation
                pool.release(worker)
            except Exception as exc:
                logger.warning("could not warm %s: %s", name, exc)

        threads = [threading.Thread(target=start, args=(n,), daemon=True) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(READY_TIMEOUT_SECONDS)

    def stop(self) -> None:
        self._stopping.set()
        self.lane.close()
        self._async.shutdown(wait=False, cancel_futures=True)
        for pool in self.pools.values():
            pool.stop()
