"""B4 — cost per 1,000 delivered orders per path, counted from outside on the local stack.

Orders are driven to their end as the vendors would (``tests/e2e/flow.py``: the Blink sandbox
places each, the courier and the locker move in their sandboxes), one path at a time, two orders a
path: the first on the path's cold containers, kept as ``first_order`` (the "cold" column), then the
measured one on warm containers — as the 1,000 orders of the figure mostly run: a container serves
many orders, and a cold start's first invocation (which loads what its first request needs) is
rare at volume. For each order's time window:

* Step Functions state transitions: ``*StateEntered`` events in the execution history of the order's
  executions (``GetExecutionHistory`` on the emulator) — what a Standard workflow is billed by;
* Lambda invocations per function and their handler's duration (the local runtime's invocation
  record, ``GET /_local/invocations``: :func:`billed_duration_ms`) × the function's MemorySize (the
  deployed configuration); ``cold_invocations``: how many ran on a worker just started;
* AWS API requests per service and DynamoDB requests per table and type, from moto's request
  recorder (started and stopped around the path). DynamoDB's consumed capacity cannot be read from
  outside (``ReturnConsumedCapacity`` is the caller's): it is ESTIMATED — a put at ceil(item
  size / 1 KB) WRU, the size counted as DynamoDB counts it (:func:`item_bytes`); an update or
  delete at the size of the item as last put in the window (DynamoDB bills the larger of before
  and after: growth by the update is missed), 1 WRU for an item put before the window;
  transactions ×2; reads at 1 RRU per strongly consistent item read and 0.5 otherwise, one item
  per GetItem, a Query or Scan at 1 RRU (items under 4 KB); DynamoDB Streams reads by Lambda are free;
* Secrets Manager calls: a container reads a secret once per ``SECRETS_MAX_AGE_SECONDS`` (300 s):
  the first order's cold containers read theirs; on warm containers an order reads none, and the
  reads come back once per container per 5 minutes (about $0.01 per 1,000 orders at 1,000 a day);
* API Gateway requests: invocations the API front made (a webhook or ops call).

The recorded requests also hold the local stack's own machinery (its scheduler reads EventBridge
rules, its stream poller reads DynamoDB Streams): shown per service, priced only where AWS bills
the order for them.

Invocations of schedules during the window (the courier keeper that polls DispatchNINJA, fired here
by the driver) are counted for the order: an upper bound, as in AWS one keeper run serves every open
order. Durations are the handlers' on the local stack (the emulator answers slower than AWS): an
upper bound too. The local runtime stops a background function's last idle worker after 30 s
(``runtime.IDLE_WORKER_SECONDS``; Lambda keeps an idle environment for minutes), so a function run
once an order is cold again in the measured order: ``cold_invocations`` says how many were.
"""

from __future__ import annotations

import base64
import json
import math
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import table

# Published on-demand prices, us-east-1, x86, first tier — as read on 2026-11-27 from
# aws.amazon.com/{lambda,step-functions,dynamodb,api-gateway,secrets-manager}/pricing.
PRICES_DATE = "2026-11-27"
PRICES = {
    "lambda_gb_second": 0.0000166667,
    "lambda_request": 0.20 / 1_000_000,
    "sfn_transition": 0.025 / 1_000,  # Standard workflows
    # DynamoDB on-demand since the 2024-11-01 price cut (was $1.25 / $0.25 per million)
    "dynamodb_wru": 0.625 / 1_000_000,
    "dynamodb_rru": 0.125 / 1_000_000,
    "apigw_rest_request": 3.50 / 1_000_000,
    "secretsmanager_api_call": 0.05 / 10_000,
}
_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
_READS = {"GetItem", "Query", "Scan"}


# ----------------------------------------------------------------------------- driving the paths


OBSERVER_KEY = "bench-observer"  # the access key of the benchmark's own AWS requests (left out of the counts)


@contextmanager
def observer(info: dict[str, Any], configs: dict[str, dict[str, Any]]) -> Iterator[Any]:
    """A Flow (tests/e2e/flow.py) whose reads cost the order nothing: the order is read in this
    process with the ops API's own code (``orderbridge.ops.get_order``) rather than through the API
    (whose invocations and DynamoDB reads would be counted), and every AWS request of the benchmark
    is signed with :data:`OBSERVER_KEY`, so the recording's counts leave it out."""
    from orderbridge import aws as aws_clients
    from orderbridge.config import get_settings
    from orderbridge.deps import get_deps
    from orderbridge.errors import NotFound
    from orderbridge.ops import get_order

    from bench.localstack import boto_client
    from tests.e2e.flow import STATE_MACHINE, Flow

    variables = {
        k: str(v) for k, v in (configs["OpsApiFunction"].get("Environment") or {}).get("Variables", {}).items()
    }
    env = {
        **variables,
        "AWS_ENDPOINT_URL": info["emulator"]["endpoint_url"],
        "AWS_REGION": info["emulator"]["region"],
        "AWS_DEFAULT_REGION": info["emulator"]["region"],
        "AWS_ACCESS_KEY_ID": OBSERVER_KEY,
        "AWS_SECRET_ACCESS_KEY": OBSERVER_KEY,
        "AWS_SESSION_TOKEN": OBSERVER_KEY,
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)

    def fresh() -> None:
        aws_clients.reset_clients()
        get_settings.cache_clear()
        get_deps.cache_clear()

    class Observer(Flow):
        def order(self, order_id: str) -> dict[str, Any] | None:
            try:
                detail = get_order(order_id, get_deps())
            except NotFound:
                return None
            found: dict[str, Any] = json.loads(detail.model_dump_json(by_alias=True))
            return found

    fresh()
    http = httpx.Client(timeout=30.0, trust_env=False)
    try:

        def aws(service: str) -> Any:
            return boto_client(info, service, access_key=OBSERVER_KEY)

        machines = aws("stepfunctions").list_state_machines()["stateMachines"]
        arns = [m["stateMachineArn"] for m in machines if m["name"] == STATE_MACHINE]
        if not arns:
            raise RuntimeError(f"no state machine {STATE_MACHINE}: {[m['name'] for m in machines]}")
        yield Observer(info, http, aws, arns[0], patience=3.0)
    finally:
        http.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        fresh()


def locker(flow: Any) -> Any:
    from tests.e2e.flow import CUSTOMER, rent_id_of

    placed = flow.place(type="DELIVERY", **{**CUSTOMER, "customer_name": "Bench Locker"})
    order = flow.wait_courier_task(placed)
    flow.deliver_to_locker(placed, order["order"]["blink_logistics_task_id"], rent_id_of(order))
    flow.wait_order(placed, lambda o: o["state"] == "collected", "the order collected")
    return placed


def home(flow: Any) -> Any:
    from tests.e2e.flow import CUSTOMER, HOME_BRANCH

    placed = flow.place(
        branch_id=HOME_BRANCH, blink_branch_id="60001", type="DELIVERY", **{**CUSTOMER, "customer_name": "Bench Home"}
    )
    order = flow.wait_order(placed, lambda o: o["order"].get("dispatchninja_order_id"), "a DispatchNINJA order")
    dn_id = order["order"]["dispatchninja_order_id"]
    # DispatchNINJA sends nothing: the courier keeper (a schedule) polls it; fired here
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Picked Up"})
    flow.fire_until(
        "CourierKeeperFunction",
        lambda: flow.order_if(placed, lambda o: o["status"] == "dispatched"),
        "dispatched",
        placed=placed,
    )
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{dn_id}/advance", json={"to": "Completed"})
    flow.fire_until(
        "CourierKeeperFunction",
        lambda: flow.order_if(placed, lambda o: o["state"] == "delivered"),
        "delivered",
        placed=placed,
    )
    return placed


def pickup(flow: Any) -> Any:
    placed = flow.place(
        type="PICK-UP", customer_name="Bench Counter", customer_address_latitude=None, customer_address_longitude=None
    )
    flow.wait_order(placed, lambda o: o["step"] == "blink_completed", "accepted, waiting for the kitchen")
    flow.kitchen(placed.blink_order_id, 6)
    flow.kitchen(placed.blink_order_id, 3)  # the customer took it at the counter
    flow.wait_order(placed, lambda o: o["state"] == "collected", "the order collected")
    return placed


PATHS: dict[str, Callable[[Any], Any]] = {
    "locker (DELIVERY to a Bloq.It locker)": locker,
    "home delivery (DispatchNINJA)": home,
    "pick-up (counter)": pickup,
}


# ----------------------------------------------------------------------------- counting


def _recorder(info: dict[str, Any], action: str) -> None:
    answer = httpx.post(f"{info['emulator']['endpoint_url']}/moto-api/recorder/{action}", timeout=30.0, trust_env=False)
    answer.raise_for_status()


def _requests(recording: Path) -> list[dict[str, Any]]:
    if not recording.exists():
        return []
    out = []
    for line in recording.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
        auth = headers.get("authorization", "")
        if f"Credential={OBSERVER_KEY}/" in auth:
            continue  # the benchmark's own reading
        out.append({"target": headers.get("x-amz-target", ""), "auth": auth, "body": body})
    return out


def _service(request: dict[str, Any]) -> str:
    """The signing service (``dynamodbstreams`` for stream reads, which are signed as dynamodb)."""
    if request["target"].startswith("DynamoDBStreams"):
        return "dynamodbstreams"
    try:
        return str(request["auth"].split(",")[0].split()[1].split("/")[3])
    except IndexError:
        return "unsigned"


def value_bytes(value: dict[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value in its wire form (``{"S": "..."}``), by the
    rules of the DynamoDB Developer Guide, "Item sizes and formats": a string its UTF-8 bytes, a
    number 1 byte per two significant digits + 1, binary its raw bytes, a boolean or null 1 byte,
    a list or map 3 bytes + 1 per element + its elements (a map's names too), a set its elements."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return _number_bytes(str(data))
    if kind == "B":
        return len(base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_bytes(inner) + 1 for name, inner in data.items())
    if kind == "L":
        return 3 + sum(value_bytes(inner) + 1 for inner in data)
    if kind == "SS":
        return sum(len(str(text).encode()) for text in data)
    if kind == "NS":
        return sum(_number_bytes(str(number)) for number in data)
    if kind == "BS":
        return sum(len(base64.b64decode(blob)) for blob in data)
    return 0


def _number_bytes(number: str) -> int:
    digits = number.lower().split("e", 1)[0].lstrip("+-").replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def item_bytes(item: dict[str, Any] | None) -> int:
    """An item's size as DynamoDB counts it: each attribute's name (UTF-8) and value."""
    return sum(len(name.encode()) + value_bytes(value) for name, value in (item or {}).items())


_KEY_NAMES = ("pk", "sk", "id")  # the key attributes of the stack's tables (and Powertools idempotency's)


def _key(table: str, attributes: dict[str, Any] | None) -> str:
    attributes = attributes or {}
    return json.dumps([table, {name: attributes[name] for name in _KEY_NAMES if name in attributes}], sort_keys=True)


class _Sizes:
    """The size of each item as last put in the recording, by table and key: an update or delete is
    priced by the item's size (DynamoDB: "the larger of [the item's sizes] before and after the
    update"; the size after is not known from the request, so growth is missed: a lower bound), an
    item not put in the window (configuration) at 1 KB."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}

    def put(self, table: str, item: dict[str, Any] | None) -> int:
        size = item_bytes(item)
        self.known[_key(table, item)] = size
        return _wru(size)

    def change(self, table: str, key: dict[str, Any] | None) -> int:
        return _wru(self.known.get(_key(table, key), 0))


def _wru(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def dynamodb_usage(requests: list[dict[str, Any]]) -> dict[str, Any]:
    per_table: dict[str, Counter[str]] = defaultdict(Counter)
    sizes = _Sizes()
    wru = rru = 0.0
    for request in requests:
        target = request["target"]
        if not target.startswith("DynamoDB_"):
            continue
        op = target.split(".", 1)[1]
        try:
            body = json.loads(request["body"] or "{}")
        except ValueError:
            body = {}
        if op in _WRITES:
            table = body.get("TableName", "?")
            per_table[table][op] += 1
            wru += sizes.put(table, body.get("Item")) if op == "PutItem" else sizes.change(table, body.get("Key"))
        elif op in _READS:
            per_table[body.get("TableName", "?")][op] += 1
            rru += 1 if (body.get("ConsistentRead") or op != "GetItem") else 0.5
        elif op == "TransactWriteItems":
            for entry in body.get("TransactItems", []):
                kind, spec = next(iter(entry.items()))
                table = spec.get("TableName", "?")
                per_table[table][f"Transact{kind}"] += 1
                wru += 2 * (
                    sizes.put(table, spec.get("Item")) if kind == "Put" else sizes.change(table, spec.get("Key"))
                )
        elif op == "TransactGetItems":
            for entry in body.get("TransactItems", []):
                per_table[entry["Get"].get("TableName", "?")]["TransactGet"] += 1
                rru += 2
        elif op == "BatchGetItem":
            for name, spec in body.get("RequestItems", {}).items():
                per_table[name]["BatchGet"] += len(spec.get("Keys", []))
                rru += len(spec.get("Keys", [])) * (1 if spec.get("ConsistentRead") else 0.5)
        elif op == "BatchWriteItem":
            for name, entries in body.get("RequestItems", {}).items():
                per_table[name]["BatchWrite"] += len(entries)
                wru += sum(
                    sizes.put(name, e["PutRequest"].get("Item"))
                    if "PutRequest" in e
                    else sizes.change(name, e.get("DeleteRequest", {}).get("Key"))
                    for e in entries
                )
        else:
            per_table["(other)"][op] += 1
    return {
        "requests_per_table": {t: dict(sorted(c.items())) for t, c in sorted(per_table.items())},
        "wru_estimated": wru,
        "rru_estimated": rru,
    }


def billed_duration_ms(invocation: dict[str, Any]) -> float:
    """What Lambda bills of an invocation's run: its handler's, AWS calls included — the worker's
    clock (``handler_ms``), not the local runtime's, which also holds the wait for the background
    lane and for a free worker (the emulator's queueing; on AWS another execution environment would
    run it) and a cold worker's start. A cold start's init is left out (rare at volume; Lambda bills
    it on the cold invocation); what the handler loads on its first request is in (``cold``)."""
    handler = invocation.get("handler_ms")
    if handler is not None:
        return max(0.0, float(handler))
    return max(0.0, invocation["duration_ms"] - (invocation.get("cold_init_ms") or 0.0))


def count_path(
    info: dict[str, Any],
    flow: Any,
    placed: Any,
    began: float,
    ended: float,
    requests: list[dict[str, Any]],
    memory: dict[str, int],
) -> dict[str, Any]:
    from bench.localstack import admin

    transitions = 0
    states: list[str] = []
    for name in flow.executions_of(placed.order_id):
        entered = flow.states_entered(name)
        transitions += len(entered)
        states += entered
    invocations = [i for i in admin(info, "GET", "/invocations")["invocations"] if began <= i["started_at"] <= ended]
    per_function: dict[str, dict[str, Any]] = {}
    gb_seconds = 0.0
    api_requests = 0
    cold = 0
    for inv in invocations:
        row = per_function.setdefault(inv["function"], {"invocations": 0, "duration_ms": 0.0, "cold": 0})
        duration = billed_duration_ms(inv)
        row["invocations"] += 1
        row["duration_ms"] = round(row["duration_ms"] + duration, 1)
        if inv.get("cold_init_ms") is not None:
            row["cold"] += 1
            cold += 1
        billed_ms = math.ceil(duration)
        gb_seconds += billed_ms / 1000 * memory.get(inv["function"], 128) / 1024
        if inv["source"].split(" ", 1)[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
            api_requests += 1
    services = Counter(_service(r) for r in requests)
    dynamodb = dynamodb_usage(requests)
    secrets = sum(1 for r in requests if r["target"].startswith("secretsmanager."))
    dollars = {
        "lambda": gb_seconds * PRICES["lambda_gb_second"] + len(invocations) * PRICES["lambda_request"],
        "step_functions": transitions * PRICES["sfn_transition"],
        "dynamodb": dynamodb["wru_estimated"] * PRICES["dynamodb_wru"]
        + dynamodb["rru_estimated"] * PRICES["dynamodb_rru"],
        "api_gateway": api_requests * PRICES["apigw_rest_request"],
        "secrets_manager": secrets * PRICES["secretsmanager_api_call"],
    }
    per_1000 = {k: round(v * 1000, 4) for k, v in dollars.items()}
    return {
        "order_id": placed.order_id,
        "seconds": round(ended - began, 1),
        "transitions": transitions,
        "states": states,
        "invocations": len(invocations),
        "invocations_per_function": dict(sorted(per_function.items())),
        "cold_invocations": cold,
        "lambda_gb_seconds": round(gb_seconds, 3),
        "api_gateway_requests": api_requests,
        "secretsmanager_calls": secrets,
        "aws_requests_per_service": dict(sorted(services.items())),
        "dynamodb": dynamodb,
        "usd_per_1000": per_1000,
        "usd_per_1000_total": round(sum(per_1000.values()), 4),
    }


def _measure(
    info: dict[str, Any], flow: Any, drive: Callable[[Any], Any], recording: Path, memory: dict[str, int]
) -> dict[str, Any]:
    """One order driven to its end, counted over its time window."""
    _quiet(info)  # the previous order's last invocations (a late webhook) are not counted for this one
    _recorder(info, "reset-recording")
    _recorder(info, "start-recording")
    began = time.time()
    try:
        placed = drive(flow)
        flow.wait_execution_end(placed)
    finally:
        ended = time.time()
        _recorder(info, "stop-recording")
    time.sleep(1.0)  # the invocation record of the last step lands after its answer
    return count_path(info, flow, placed, began, ended, _requests(recording), memory)


def _quiet(info: dict[str, Any], *, seconds: float = 2.0, patience: float = 30.0) -> None:
    """Wait until no invocation has started for ``seconds`` (at most ``patience``)."""
    from bench.localstack import admin

    deadline = time.time() + patience
    while time.time() < deadline:
        started = [i["started_at"] for i in admin(info, "GET", "/invocations")["invocations"]]
        if not started or time.time() - max(started) >= seconds:
            return
        time.sleep(0.5)


# What is kept of a path's first order (its functions' containers cold) beside the measured one.
FIRST_ORDER_KEYS = (
    "transitions",
    "invocations",
    "cold_invocations",
    "invocations_per_function",
    "lambda_gb_seconds",
    "secretsmanager_calls",
    "dynamodb",
    "usd_per_1000",
    "usd_per_1000_total",
)


def run(
    info: dict[str, Any], configs: dict[str, dict[str, Any]], recording: Path, *, paths: list[str] | None = None
) -> dict[str, Any]:
    """Each path twice: a first order, on the path's cold containers (each function's first
    invocation loads what its first request needs: the cold start's second half, which Lambda bills
    on that invocation), then the measured order, on the containers the first left warm — as the
    1,000 orders of the figure mostly run (a container serves many orders). Those the local runtime
    stopped meanwhile (a background function idle 30 s) are cold again: ``cold_invocations``. The
    first order's figures are kept beside (``first_order``)."""
    memory = {logical: int(c.get("MemorySize", 128)) for logical, c in configs.items()}
    results = {}
    with observer(info, configs) as flow:
        for name, drive in PATHS.items():
            if paths is not None and name not in paths:
                continue
            first = _measure(info, flow, drive, recording, memory)
            measured = _measure(info, flow, drive, recording, memory)
            results[name] = {**measured, "first_order": {key: first[key] for key in FIRST_ORDER_KEYS}}
    # The bare baseline: one bare function invocation per order (the least an order can cost).
    bare_memory = 128
    bare = (
        PRICES["lambda_request"]
        + 0.001 * bare_memory / 1024 * PRICES["lambda_gb_second"]
        + PRICES["apigw_rest_request"]
    )
    return {
        "what": "cost per 1,000 delivered orders per path, USD, counted on the local stack",
        "prices": {"date": PRICES_DATE, "region": "us-east-1", **PRICES},
        "dynamodb_capacity": "estimated from recorded requests (DynamoDB item sizes), not consumed capacity",
        "measured": "each path's second order (cold_invocations: on a worker just started); first_order: its first",
        "bare_usd_per_1000": round(bare * 1000, 6),
        "paths": results,
    }


def render(result: dict[str, Any]) -> str:
    rows = []
    for name, row in result["paths"].items():
        usd = row["usd_per_1000"]
        rows.append(
            [
                name,
                row["transitions"],
                f"{row['invocations']} ({row['cold_invocations']} cold)",
                row["api_gateway_requests"],
                row["dynamodb"]["wru_estimated"],
                row["dynamodb"]["rru_estimated"],
                usd["step_functions"],
                usd["lambda"],
                usd["dynamodb"],
                usd["api_gateway"] + usd["secrets_manager"],
                row["usd_per_1000_total"],
                row["first_order"]["usd_per_1000_total"],
            ]
        )
    return table(
        f"B4 cost per 1,000 delivered orders (USD, us-east-1 prices of {result['prices']['date']}; each path's "
        f"second order, 'cold': its first; bare: one API request + one 1 ms 128 MB invocation = "
        f"${result['bare_usd_per_1000']})",
        [
            "path",
            "transitions",
            "invocations",
            "API reqs",
            "WRU~",
            "RRU~",
            "$ SFN",
            "$ Lambda",
            "$ DDB",
            "$ API+SM",
            "$ /1000",
            "$ /1000 cold",
        ],
        rows,
    )
