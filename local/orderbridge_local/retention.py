"""What the emulator keeps, bounded — and what it would redo for every execution, done once.

moto is built for tests that live seconds; the local stack lives for hours and takes bursts. Left
alone, its memory grows with every request (issue 13 point 7) and Step Functions re-parses the
workflow for every execution (issue 12 point 4). :func:`install` patches, for the emulator's
lifetime (this process only):

* **Shard iterators** (DynamoDB Streams): moto keeps every iterator it ever returned — the stream
  pollers ask for records four times a second per shard, and each answer is a new iterator of
  ~1.6 KB, kept forever. Here an iterator expires as in AWS (15 minutes after it was returned), a
  used one soon after its successor was handed out (:data:`USED_ITERATOR_GRACE_SECONDS`: a
  client's retry of a lost answer still works), and at most :data:`MAX_SHARD_ITERATORS` are kept.
  An expired one is ``ExpiredIteratorException``, as in AWS.
* **Stream records**: moto keeps every record — both item images of every write — forever. Here a
  record is dropped once every reader's iterator is past it (and it is
  :data:`MIN_RECORD_SECONDS` old), after 24 hours (AWS's retention) regardless, and a shard keeps
  at most :data:`MAX_STREAM_RECORDS`. A reader behind the oldest record kept reads from there on.
* **Finished executions** (Step Functions): an execution's environment (its state, heap, callback
  endpoints, frames) stays with it after it ended. Here an ended execution keeps its history
  (``GetExecutionHistory``), its status and output, nothing else; a state machine keeps its
  newest :data:`MAX_FINISHED_EXECUTIONS` ended executions (running ones always).
* **Worker threads list**: moto's Step Functions engine appends every thread it starts to one
  module-level list and never empties it; finished threads are dropped from it.
* **Threads of a waiting execution**: moto runs an execution in a thread that starts a second one for
  the program and joins it, and each Task state in a third one that it waits on for the state's
  timeout — three threads (and their stacks) for an order that waits days for a kitchen or a
  courier. Here the program runs in the execution's own thread when the state machine has no
  ``TimeoutSeconds``, and a Task state runs in its caller's thread when nothing else enforces its
  timeout: no ``TimeoutSeconds`` (the default never ends), or a ``.waitForTaskToken`` task without
  heartbeat, whose wait for the token ends at that same timeout (``States.Timeout`` as before). A
  task with a heartbeat keeps moto's thread: its overall timeout is only enforced by that wait.
* **Every model instance ever made**: moto's ``BaseModel`` appends each instance of each of its
  models to a class-level list (``instances_tracked``, for moto server's ``/moto-api/data.json``
  dashboard) and never empties it — every DynamoDB item ever written, each copy a read or a
  transaction made, every stream record: the stack process grew ~270 KB per order more than its
  data, without end, after the table and the shard had let them go. Here no instance is listed
  (that dashboard shows nothing; the local stack does not serve it).
* **Partitions of keys that were only read**: a table with a sort key keeps its items in a
  ``defaultdict`` of partitions, so moto's ``GetItem`` of a key that does not exist adds an empty
  partition for it, and a ``DeleteItem`` of a partition's last item leaves one — an entry for every
  alias or order ever looked up. Here a read adds nothing and a partition goes with its last item.
* **The workflow program**: each execution parsed its state machine's definition with ANTLR (tens
  of milliseconds of CPU in the one process that serves every AWS call, for each order). The
  program is a tree of immutable components (an execution's state lives in its environment), so
  it is parsed once per definition and shared.

:func:`retained` counts what is held (the admin endpoint and the tests read it); :func:`held_bytes`,
:func:`object_census` and :func:`holders` find what a run leaves behind and who keeps it.

The collector (:class:`GcPauses`): a full collection walks every container object of the process
with the interpreter lock held. Once the stack has started, what start-up made is frozen out of its
reach (:func:`settle_heap`, ~400,000 objects), and while the front door is pressed no full
collection starts. Measured, two bursts of 1,000 on one stack: full passes of up to 700 ms, p99
0.79 / 1.61 s before; passes up to ~350 ms and p99 0.79 / 1.06 s after.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from unittest import mock

from orderbridge_local.emulator import dynamodb_lock

logger = logging.getLogger("orderbridge_local.retention")

ITERATOR_LIFETIME_SECONDS = 15 * 60.0  # AWS: a shard iterator expires 15 minutes after it is returned
USED_ITERATOR_GRACE_SECONDS = 30.0
MAX_SHARD_ITERATORS = 5_000
RECORD_RETENTION = datetime.timedelta(hours=24)  # AWS: stream records are kept 24 hours
MIN_RECORD_SECONDS = 30.0
MAX_STREAM_RECORDS = 10_000  # per shard
MAX_FINISHED_EXECUTIONS = 500  # per state machine
PROGRAM_CACHE_SIZE = 16
# The full collection's threshold while the front door is pressed: never reached in a burst.
DEFERRED_FULL_COLLECTION = 1_000_000


# ---------------------------------------------------------------------------- model instances


def _untracked_new(base: Any) -> Any:
    """``base.__new__`` (moto's ``BaseModel``) without appending the instance to
    ``cls.instances_tracked``; runs for every item, copy and record moto makes."""

    def new(cls: Any, *args: Any, **kwargs: Any) -> Any:
        return super(base, cls).__new__(cls)

    return staticmethod(new)


# ---------------------------------------------------------------------------- table partitions


def _get_item(original: Any) -> Any:
    def get_item(self: Any, hash_key: Any, range_key: Any = None, projection_expression: Any = None) -> Any:
        if range_key and hash_key not in self.items:
            return None  # moto's ``self.items[hash_key]`` would add an empty partition
        return original(self, hash_key, range_key, projection_expression)

    return get_item


def _delete_item(original: Any) -> Any:
    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        if range_key and hash_key not in self.items:
            return None
        item = original(self, hash_key, range_key)
        if range_key and self.items.get(hash_key) == {}:
            del self.items[hash_key]
        return item

    return delete_item


# ------------------------------------------------------------------------------ shard iterators


@dataclass
class _Held:
    iterator: Any  # moto's ShardIterator
    expires: float  # time.monotonic()
    used: bool = False


class ShardIterators:
    """The live shard iterators of one streams backend (replaces its ``shard_iterators`` dict,
    which is kept empty). Purging costs what it removes: unused iterators expire in the order
    they were made, used ones in the order they were used."""

    def __init__(self) -> None:
        self.held: OrderedDict[str, _Held] = OrderedDict()
        self._unused: dict[str, _Held] = {}
        self._used: deque[tuple[float, str]] = deque()

    def adopt(self, backend: Any) -> None:
        """Take the iterators moto just made (it puts them in ``backend.shard_iterators``)."""
        made = backend.shard_iterators
        now = time.monotonic()
        while made:
            arn, iterator = made.popitem()
            self.held[arn] = self._unused[arn] = _Held(iterator, now + ITERATOR_LIFETIME_SECONDS)
        self.purge(now)

    def take(self, arn: str) -> Any:
        """The iterator ``arn`` names, marked used (it expires soon); ``ExpiredIteratorException``
        when it is unknown or expired."""
        now = time.monotonic()
        self.purge(now)
        held = self.held.get(arn)
        if held is None or held.expires <= now:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError("ExpiredIteratorException", "Iterator expired: request a new one with GetShardIterator")
        if not held.used:
            held.used = True
            held.expires = min(held.expires, now + USED_ITERATOR_GRACE_SECONDS)
            self._unused.pop(arn, None)
            self._used.append((held.expires, arn))
        return held.iterator

    def purge(self, now: float) -> None:
        while self._used and self._used[0][0] <= now:
            self._forget(self._used.popleft()[1])
        while self.held and next(iter(self.held.values())).expires <= now:
            self._forget(next(iter(self.held)))
        while len(self.held) > MAX_SHARD_ITERATORS:  # the oldest first
            self._forget(next(iter(self.held)))

    def _forget(self, arn: str) -> None:
        self.held.pop(arn, None)
        self._unused.pop(arn, None)

    def reading(self, shard: Any) -> list[int]:
        """Where the readers of ``shard`` are: the positions of its unused live iterators."""
        return [h.iterator.sequence_number for h in self._unused.values() if h.iterator.stream_shard is shard]


def _iterators(backend: Any) -> ShardIterators:
    registry = backend.__dict__.get("_orderbridge_iterators")
    if registry is None:
        registry = backend.__dict__.setdefault("_orderbridge_iterators", ShardIterators())
    return registry


def _get_shard_iterator(original: Any) -> Any:
    def get_shard_iterator(backend: Any, *args: Any, **kwargs: Any) -> Any:
        with dynamodb_lock():
            iterator = original(backend, *args, **kwargs)
            _iterators(backend).adopt(backend)
            return iterator

    return get_shard_iterator


def _get_records(backend: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
    with dynamodb_lock():  # a write (or a transaction's rollback) never interleaves
        registry = _iterators(backend)
        iterator = registry.take(iterator_arn)
        shard = iterator.stream_shard
        if iterator.sequence_number < shard.starting_sequence_number:
            logger.warning("stream %s: a reader behind the oldest record kept reads on from there", shard.table.name)
            iterator.sequence_number = shard.starting_sequence_number
        answer: dict[str, Any] = iterator.get(limit)
        registry.adopt(backend)
        trim_records(shard, registry.reading(shard))
        return answer


# ------------------------------------------------------------------------------ stream records


def trim_records(shard: Any, readers: list[int] | None = None) -> int:
    """Drop the shard's records no one needs any more (see the module docstring); their sequence
    numbers stay as they were. Caller holds the DynamoDB lock. Returns how many were dropped."""
    items = shard.items
    if not items:
        return 0
    now = datetime.datetime.now(datetime.UTC)
    floor = min(readers) if readers else None
    start = shard.starting_sequence_number
    excess = len(items) - MAX_STREAM_RECORDS
    dropped = 0
    while dropped < len(items):
        created = _created(items[dropped])
        read_by_all = floor is not None and start + dropped < floor
        if (
            dropped < excess
            or now - created > RECORD_RETENTION
            or (read_by_all and (now - created).total_seconds() > MIN_RECORD_SECONDS)
        ):
            dropped += 1
            continue
        break
    if dropped:
        del items[:dropped]
        shard.starting_sequence_number = start + dropped
    return dropped


def _created(record: Any) -> datetime.datetime:
    moment = record.record["dynamodb"]["ApproximateCreationDateTime"]
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def after_stream_add(shard: Any) -> None:
    """Called after a record was added (inside the write: the DynamoDB lock is held): a shard
    nobody reads still keeps at most :data:`MAX_STREAM_RECORDS`."""
    if len(shard.items) > MAX_STREAM_RECORDS:
        trim_records(shard)


# ------------------------------------------------------------------------------ executions


class _NoCallbacks:
    """An ended execution's callback endpoints: none (a token of it is no longer valid)."""

    def get(self, callback_id: str) -> None:
        return None

    def notify(self, callback_id: str, outcome: Any) -> bool:
        return False

    def heartbeat(self, callback_id: str) -> bool:
        return False


class _NoMapRuns:
    def get(self, map_run_arn: str) -> None:
        return None

    def get_all(self) -> list[Any]:
        return []


class _History:
    def __init__(self, events: list[Any]) -> None:
        self.events = events

    def get_event_history(self) -> list[Any]:
        return list(self.events)


class EndedEnvironment:
    """What an ended execution keeps of its environment: its history and its end."""

    def __init__(self, env: Any) -> None:
        self.event_manager = _History(env.event_manager.get_event_history())
        self._state = env.program_state()
        self.callback_pool_manager = _NoCallbacks()
        self.map_run_record_pool_manager = _NoMapRuns()

    def program_state(self) -> Any:
        return self._state

    def is_running(self) -> bool:
        return False

    def set_stop(self, *args: Any, **kwargs: Any) -> None:
        return None


def _terminated(original: Any) -> Any:
    def terminated(comm: Any) -> None:
        original(comm)  # the execution's status, output and error are set from the environment
        execution = comm.execution
        worker = execution.exec_worker
        if worker is not None and worker.env is not None and not isinstance(worker.env, EndedEnvironment):
            worker.env = EndedEnvironment(worker.env)
        _forget_old_executions(execution)

    return terminated


def _forget_old_executions(execution: Any) -> None:
    """Keep the newest :data:`MAX_FINISHED_EXECUTIONS` ended executions of the execution's machine."""
    backend = _parser_backend(execution)
    if backend is None:
        return
    for machine in list(backend.state_machines):
        executions = machine.executions
        if not any(e is execution for e in reversed(executions)):
            continue
        ended = [e for e in list(executions) if e.status != "RUNNING"]
        for old in ended[: max(0, len(ended) - MAX_FINISHED_EXECUTIONS)]:
            with suppress(ValueError):  # another thread forgot it first
                executions.remove(old)
        return


def _parser_backend(execution: Any) -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    try:
        return stepfunctions_parser_backends[execution.account_id][execution.region_name]
    except (KeyError, AttributeError):
        return None


# ------------------------------------------------------------------------------ the program


class Programs:
    """Parsed definitions, newest :data:`PROGRAM_CACHE_SIZE` kept. One parse per definition even
    when a burst starts hundreds of executions at once (they wait for the first one's parse)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._programs: OrderedDict[str, Any] = OrderedDict()
        self._parsing: dict[str, threading.Lock] = {}
        self.parses = 0
        self.hits = 0

    def get(self, definition: str) -> Any:
        with self._lock:
            program = self._programs.get(definition)
            if program is not None:
                self._programs.move_to_end(definition)
                self.hits += 1
                return program
            parsing = self._parsing.setdefault(definition, threading.Lock())
        with parsing:
            with self._lock:
                program = self._programs.get(definition)
                if program is not None:
                    self.hits += 1
                    return program
            program = parse_program(definition)
            with self._lock:
                self.parses += 1
                self._programs[definition] = program
                while len(self._programs) > PROGRAM_CACHE_SIZE:
                    self._programs.popitem(last=False)
                self._parsing.pop(definition, None)
            return program

    def __len__(self) -> int:
        return len(self._programs)


PROGRAMS = Programs()


def parse_program(definition: str) -> Any:
    """The evaluation component of a definition (its heap keys made now, so that executions
    sharing it never race to make them)."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program = AmazonStateLanguageParser.parse(definition)[0]
    for component in _components(program):
        if isinstance(component, EvalComponent):
            _ = component.heap_key
    return program


def _components(root: Any) -> Iterator[Any]:
    from moto.stepfunctions.parser.asl.component.component import Component

    seen: set[int] = set()
    todo = [root]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Component):
            yield item
            todo.extend(vars(item).values())
        elif isinstance(item, list | tuple | set | frozenset):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())


def _entrypoint(worker: Any) -> Any:
    return PROGRAMS.get(worker._evaluation_details.state_machine_details.definition)


# ------------------------------------------------------------------------------ threads


class ThreadListPruner:
    """Drops finished threads from moto's Step Functions ``TMP_THREADS`` list every few seconds."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="emulator-thread-pruner", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            prune_threads()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None


def prune_threads() -> int:
    from moto.stepfunctions.parser.utils import TMP_THREADS

    finished = [t for t in list(TMP_THREADS) if not t.is_alive()]
    for thread in finished:
        with suppress(ValueError):
            TMP_THREADS.remove(thread)
    return len(finished)


# ------------------------------------------------------------------ threads of a waiting execution

_inline = threading.local()


class _InlineThread:
    """What moto's Task state gets for a ``Thread`` when the state runs in its caller's thread: the
    target runs on ``start`` (moto's target records its outcome and sets the event it then waits on,
    which is already set)."""

    def __init__(self, target: Any = None, args: tuple[Any, ...] = (), daemon: bool | None = None, **_: Any) -> None:
        self._target = target
        self._args = args

    def start(self) -> None:
        self._target(*self._args)

    def is_alive(self) -> bool:
        return False

    def join(self, timeout: float | None = None) -> None:
        return None


def _thread_for_state(*args: Any, **kwargs: Any) -> Any:
    """``execute_state.Thread``: inline once for the state that asked for it (:func:`_evaluate`)."""
    if getattr(_inline, "next", False):
        _inline.next = False
        return _InlineThread(*args, **kwargs)
    return threading.Thread(*args, **kwargs)


def runs_inline(state: Any) -> bool:
    """Whether a Task state's timeout is enforced without moto's extra thread (see the module doc)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )

    if state.timeout.is_default_value():
        return True
    return (
        isinstance(state, StateTaskServiceCallback)
        and getattr(state.resource, "condition", None) == ResourceCondition.WaitForTaskToken
        and state.heartbeat is None
    )


def _evaluate(original: Any) -> Any:
    def evaluate_with_timeout(self: Any, env: Any) -> None:
        _inline.next = runs_inline(self)
        try:
            original(self, env)
        finally:
            _inline.next = False

    return evaluate_with_timeout


def _program_eval(original: Any) -> Any:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    def program_eval(self: Any, env: Any) -> None:
        if self.timeout_seconds is not None:  # the execution's own timeout: moto's thread enforces it
            original(self, env)
            return
        env.next_state_name = self.start_at.start_at_name
        try:
            EvalComponent.eval(self, env)
        except Exception:  # as moto's program thread would: the execution's error is already set
            logger.exception("a Step Functions program ended with an exception")

    return program_eval


# ------------------------------------------------------------------------------ install / count


def patchers() -> list[Any]:
    """The patches of this module (started and stopped with the emulator's other patches)."""
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data
    from moto.dynamodb.models.table import Table
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    reset_model_data()  # what was listed before the emulator started
    return [
        mock.patch.object(BaseModel, "__new__", _untracked_new(BaseModel)),
        mock.patch.object(Table, "get_item", _get_item(Table.get_item)),
        mock.patch.object(Table, "delete_item", _delete_item(Table.delete_item)),
        mock.patch.object(execute_state, "Thread", _thread_for_state),
        mock.patch.object(
            execute_state.ExecutionState,
            "_evaluate_with_timeout",
            _evaluate(execute_state.ExecutionState._evaluate_with_timeout),
        ),
        mock.patch.object(Program, "eval", _program_eval(Program.eval)),
        mock.patch.object(
            DynamoDBStreamsBackend, "get_shard_iterator", _get_shard_iterator(DynamoDBStreamsBackend.get_shard_iterator)
        ),
        mock.patch.object(DynamoDBStreamsBackend, "get_records", _get_records),
        mock.patch.object(
            BaseExecutionWorkerCommunication, "terminated", _terminated(BaseExecutionWorkerCommunication.terminated)
        ),
        mock.patch.object(ExecutionWorker, "_get_evaluation_entrypoint", _entrypoint),
    ]


def retained() -> dict[str, Any]:
    """Counts of what the emulator holds now (every account and region)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodbstreams.models import dynamodbstreams_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends
    from moto.stepfunctions.parser.utils import TMP_THREADS

    iterators = 0
    for _, _, backend in _backends(dynamodbstreams_backends):
        iterators += len(backend.shard_iterators) + len(_iterators(backend).held)
    records: dict[str, int] = {}
    items: dict[str, int] = {}
    for _, _, backend in _backends(dynamodb_backends):
        for name, table in list(backend.tables.items()):
            items[name] = len(table)
            if table.stream_shard is not None:
                records[name] = len(table.stream_shard.items)
    running = ended = 0
    for _, _, backend in _backends(stepfunctions_parser_backends):
        for machine in list(backend.state_machines):
            for execution in list(machine.executions):
                if execution.status == "RUNNING":
                    running += 1
                else:
                    ended += 1
    return {
        "shard_iterators": iterators,
        "stream_records": records,
        "dynamodb_items": items,  # the data itself: it grows with the orders, as in DynamoDB
        "executions_running": running,
        "executions_ended": ended,
        "step_functions_threads": len(TMP_THREADS),
        "parsed_programs": len(PROGRAMS),
    }


class GcPauses:
    """How long the garbage collector held the process (its callbacks, per generation): a full
    collection walks every container object the process holds, with the interpreter lock held —
    every thread of the stack (API front, emulator, workflows) waits it out."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.max_ms = [0.0, 0.0, 0.0]
        self.total_ms = [0.0, 0.0, 0.0]
        self._began = 0.0
        self._old_threshold = 10  # CPython's default

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        generation = info["generation"]
        took = (time.perf_counter() - self._began) * 1000
        self.collections[generation] += 1
        self.total_ms[generation] += took
        self.max_ms[generation] = max(self.max_ms[generation], took)

    def front_state(self, state: str) -> None:
        """While the front door is pressed (a burst: :mod:`.runtime`), no full collection starts:
        it would stop every waiting webhook for 0.1-0.7 s (measured: seven full passes in two
        bursts, up to 700 ms each). The young generations are still collected; the full pass comes
        once the pressure is off (at most ``runtime.MAX_BACKGROUND_PAUSE_SECONDS`` later)."""
        import gc

        young, middle, old = gc.get_threshold()
        if state == "pressed":
            if old != DEFERRED_FULL_COLLECTION:
                self._old_threshold = old
                gc.set_threshold(young, middle, DEFERRED_FULL_COLLECTION)
        elif old == DEFERRED_FULL_COLLECTION:
            gc.set_threshold(young, middle, self._old_threshold)

    def install(self) -> GcPauses:
        import gc

        if self not in gc.callbacks:
            gc.callbacks.append(self)
        return self

    def report(self) -> dict[str, Any]:
        import gc

        return {
            "collections": list(self.collections),
            "max_ms": [round(x, 1) for x in self.max_ms],
            "total_s": [round(x / 1000, 2) for x in self.total_ms],
            "frozen_objects": gc.get_freeze_count(),
        }


GC_PAUSES = GcPauses()


def settle_heap() -> int:
    """Once the stack has started: what start-up made (the AWS service models, moto's backends, the
    deployed template — millions of objects that live as long as the process) is moved out of the
    collector's reach (``gc.freeze``), so a full collection walks only what came after. Returns how
    many objects were frozen."""
    import gc

    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def held_bytes() -> dict[str, Any]:
    """What the stored data weighs as DynamoDB would count it (its wire JSON, KB) per table, and the
    stream records' images — beside the process's RSS, the emulator's overhead per stored byte."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.utilities import dynamo_json_dump

    tables: dict[str, Any] = {}
    with dynamodb_lock():
        for _, _, backend in _backends(dynamodb_backends):
            for name, table in list(backend.tables.items()):
                wire = sum(len(dynamo_json_dump(item.to_json()["Attributes"])) for item in table.all_items())
                shard = table.stream_shard
                records = shard.items if shard is not None else []
                tables[name] = {
                    "items": len(table),
                    "empty_partitions": sum(1 for part in table.items.values() if part == {}),
                    "items_kb": round(wire / 1024, 1),
                    "stream_records": len(records),
                    "stream_records_kb": round(sum(r.record["dynamodb"]["SizeBytes"] for r in records) / 1024, 1),
                }
    return tables


def object_census(top: int = 30) -> list[dict[str, Any]]:
    """The ``top`` kinds of object the garbage collector tracks, by memory: type, count and
    ``sys.getsizeof`` total (MB; an object's own size, not what it refers to). Two reads around a
    run show which kinds a run leaves behind."""
    import gc
    import sys

    counts: dict[str, list[int]] = {}
    for obj in gc.get_objects():
        kind = type(obj)
        name = f"{kind.__module__}.{kind.__qualname__}"
        entry = counts.setdefault(name, [0, 0])
        entry[0] += 1
        entry[1] += sys.getsizeof(obj)
    ranked = sorted(counts.items(), key=lambda pair: pair[1][1], reverse=True)[:top]
    return [{"type": name, "count": count, "mb": round(size / 2**20, 2)} for name, (count, size) in ranked]


def holders(type_name: str, samples: int = 3, depth: int = 6) -> list[list[str]]:
    """For up to ``samples`` live objects whose type is named ``type_name`` (e.g. ``Item``): the
    chain of what refers to each, ``depth`` steps up (first referrer each step, skipping frames and
    the census's own lists), as ``module.Type`` names — who keeps an object the census counts."""
    import gc
    import inspect

    found = [obj for obj in gc.get_objects() if type(obj).__name__ == type_name][:samples]
    mine = {id(found)}
    chains: list[list[str]] = []
    mine.add(id(chains))
    for obj in found:
        chain: list[str] = []
        mine.add(id(chain))
        current, seen = obj, set()
        for _ in range(depth):
            seen.add(id(current))
            referrers = gc.get_referrers(current)
            mine.add(id(referrers))
            holders_ = [r for r in referrers if id(r) not in seen and id(r) not in mine and not inspect.isframe(r)]
            mine.add(id(holders_))
            if not holders_:
                break
            current = holders_[0]
            kind = type(current)
            detail = ""
            if isinstance(current, dict):  # names only: a table's keys can be customer data
                detail = f" keys={[k for k in list(current)[:6] if isinstance(k, str) and k.isidentifier()]}"
            elif isinstance(current, (list, tuple, set)):
                detail = f" len={len(current)}"
            chain.append(f"{kind.__module__}.{kind.__qualname__}{detail}")
        chains.append(chain)
    return chains


def _backends(backend_dict: Any) -> Iterator[tuple[str, str, Any]]:
    for account, regions in list(backend_dict.items()):
        for region, backend in list(regions.items()):
            yield account, region, backend
