"""B1 — warm ack per webhook type, in-process against moto (``mock_aws``), the real handlers of
``functions/*/app.py`` driven with API Gateway events (``tests/support``).

Per request: wall time; the handler's own CPU time (the thread's CPU time minus the CPU time spent
inside botocore's ``Endpoint._do_get_response`` — where moto serves the call in-process and the
answer is parsed: what AWS would do); AWS calls (HTTP requests botocore made). The bare baseline
(``bench/bare/app.py:put_one``) parses the body and does one PutItem, measured the same way,
interleaved with the real handlers (one real request, one bare request, ...).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

from bench.common import BARE_DIR, ratio, summary, table

# Set before the handlers import boto3 and Powertools (the tests' values, tests/conftest.py).
TEST_ENV = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_SERVICE_NAME": "orderbridge",
    "POWERTOOLS_METRICS_NAMESPACE": "Orderbridge",
    "POWERTOOLS_DEV": "0",
    "POWERTOOLS_LOG_LEVEL": "INFO",  # the template's default (LogLevel); the lines go to /dev/null
    "ORDERS_TABLE": "OrdersTable",
    "CONFIG_TABLE": "ConfigTable",
    "RENTS_TABLE": "RentsTable",
    "IDEMPOTENCY_TABLE": "IdempotencyTable",
}
TYPES = ("blink_new", "blink_duplicate", "blink_status", "task_status", "partner_order", "bloq")


# ----------------------------------------------------------------------------- measuring


class AwsMeter:
    """CPU time and requests inside botocore's ``Endpoint._do_get_response`` (the AWS side)."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.calls = 0
        self._original: Any = None

    def install(self) -> None:
        from botocore.endpoint import Endpoint

        original = Endpoint._do_get_response
        meter = self

        def metered(endpoint: Any, *args: Any, **kwargs: Any) -> Any:
            began = time.thread_time()
            try:
                return original(endpoint, *args, **kwargs)
            finally:
                meter.cpu += time.thread_time() - began
                meter.calls += 1

        self._original = original
        Endpoint._do_get_response = metered  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from botocore.endpoint import Endpoint

        if self._original is not None:
            Endpoint._do_get_response = self._original  # type: ignore[method-assign]
            self._original = None


@dataclass
class Samples:
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def result(self) -> dict[str, Any]:
        return {
            "wall_ms": summary(self.wall_ms),
            "cpu_ms": summary(self.cpu_ms),
            "aws_calls": round(statistics.mean(self.calls), 2) if self.calls else None,
            "statuses": self.statuses,
        }


def measure(meter: AwsMeter, samples: Samples, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    cpu_before, calls_before = meter.cpu, meter.calls
    wall, cpu = time.perf_counter(), time.thread_time()
    answer = call()
    cpu = time.thread_time() - cpu
    wall = time.perf_counter() - wall
    samples.wall_ms.append(wall * 1000)
    samples.cpu_ms.append((cpu - (meter.cpu - cpu_before)) * 1000)
    samples.calls.append(meter.calls - calls_before)
    status = str(answer.get("statusCode"))
    samples.statuses[status] = samples.statuses.get(status, 0) + 1
    return answer


# ----------------------------------------------------------------------------- the account


@contextmanager
def test_environment() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in TEST_ENV}
    os.environ.update(TEST_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _seed() -> Any:
    """The tables from template.yaml, the webhook secret and the configuration the vendor docs'
    samples name (as tests/conftest.py's ``seeded``)."""
    from orderbridge import aws as aws_clients
    from orderbridge.config import get_settings
    from orderbridge.deps import get_deps
    from orderbridge.models.config import Branch, ItemMapping, Merchant, Partner, PartnerBranch

    from tests.conftest import SECRET_NAME, SECRETS
    from tests.support.template import table_definitions

    os.environ["WEBHOOK_SECRET_NAME"] = SECRET_NAME
    aws_clients.reset_clients()
    get_settings.cache_clear()
    get_deps.cache_clear()
    ddb = aws_clients.client("dynamodb")
    for spec in table_definitions().values():
        ddb.create_table(**json.loads(json.dumps(spec)))
    aws_clients.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=json.dumps(SECRETS))
    deps = get_deps()

    def mapping(kind: str, partner_item_id: str, product: str, blink_id: str, name: str) -> ItemMapping:
        return ItemMapping(
            partner_id="demo-partner",
            merchant_id="m-demo",
            kind=kind,
            partner_item_id=partner_item_id,
            product_id=product,
            blink_id=blink_id,
            name=name,
        )

    deps.config.put(
        Merchant(merchant_id="m-demo", name="Demo Restaurant"),
        Branch(
            branch_id="12345",
            merchant_id="m-demo",
            name="XYZ road",
            blink_id="50220",
            latitude=Decimal("27.4654584"),
            longitude=Decimal("64.846548"),
        ),
        Partner(partner_id="demo-partner", name="Demo Delivery App"),
        PartnerBranch(partner_id="demo-partner", partner_branch_id="14589", merchant_id="m-demo", branch_id="12345"),
        mapping("item", "1", "prod-burger", "257327", "Burger"),
        mapping("item", "2", "prod-fries", "257328", "Fries"),
        mapping("option", "1", "prod-cheese", "596996", "Extra cheese"),
    )
    return deps


def _bare_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_bare_app", BARE_DIR / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- the requests


class Requests:
    """One request of each type for iteration ``i`` (the state it needs is written first)."""

    def __init__(self, deps: Any) -> None:
        from tests.support import samples

        self.deps = deps
        self.order = samples.load("blink_order_webhook.json")
        self.partner = samples.text("blend_order_created.jsonc")
        self.task = samples.load("blink_task_status_webhook.json")

    def events(self, i: int) -> dict[str, tuple[str, dict[str, Any]]]:
        from orderbridge.domain.ids import order_id_for

        from tests.support.apigw import proxy_event
        from tests.support.hub import BLINK_TOKEN, LOGISTICS_TOKEN, PARTNER_TOKEN, bloq_headers

        blink_id = str(7_000_000 + i)
        order_id = order_id_for("blink", blink_id)
        order = json.dumps(self.order | {"blink_order_id": blink_id})
        status = json.dumps(
            {"blink_order_id": blink_id, "branch_id": "12345", "status": 1, "created_at": "2024-06-26 09:30:00"}
        )
        task_id = f"BENCH-{i}"
        task = json.dumps(self.task | {"data": {**self.task["data"], "taskId": task_id}})
        partner = self.partner.replace('"id": "order_id"', f'"id": "bench-{i}"', 1)
        rent_id = f"bench-rent-{i}"
        bloq = json.dumps(
            {
                "_id": f"bench-event-{i}",
                "codeName": "rent.in_progress",
                "rent": rent_id,
                "bloq": "bloq-1",
                "locker": "L1",
                "actionInitiatedBy": {"role": "user", "id": "u1", "source": "locker"},
            },
            separators=(",", ":"),
        )

        def blink(path: str, body: str) -> dict[str, Any]:
            return proxy_event("POST", path, body=body, headers={"X-Webhook-Token": BLINK_TOKEN})

        self._later = (order_id, task_id, rent_id)
        return {
            "blink_new": ("BlinkOrderWebhookFunction", blink("/webhooks/blink/orders", order)),
            "blink_duplicate": ("BlinkOrderWebhookFunction", blink("/webhooks/blink/orders", order)),
            "blink_status": ("BlinkOrderStatusWebhookFunction", blink("/webhooks/blink/order-status", status)),
            "task_status": (
                "BlinkTaskStatusWebhookFunction",
                proxy_event(
                    "POST",
                    "/webhooks/blink/logistics/task-status",
                    body=task,
                    headers={"X-Webhook-Token": LOGISTICS_TOKEN},
                ),
            ),
            "partner_order": (
                "PartnerOrderWebhookFunction",
                proxy_event(
                    "POST",
                    "/webhooks/partners/demo-partner/orders",
                    resource="/webhooks/partners/{partner}/orders",
                    path_params={"partner": "demo-partner"},
                    body=partner,
                    headers={"X-Webhook-Token": PARTNER_TOKEN},
                ),
            ),
            "bloq": (
                "BloqWebhookFunction",
                proxy_event("POST", "/webhooks/bloq", body=bloq, headers=bloq_headers(bloq)),
            ),
        }

    def prepare_after_order(self) -> None:
        """What the status, task and rent events refer to, once the order exists (not timed)."""
        from orderbridge.models.rent import Rent

        order_id, task_id, rent_id = self._later
        self.deps.orders.put_alias("blink_logistics", task_id, order_id)
        self.deps.rents.put(
            Rent(rent_id=rent_id, order_id=order_id, bloq_id="bloq-1", state="reserved", created_at=datetime.now(UTC))
        )


# ----------------------------------------------------------------------------- the run


def _plain_json(body: str) -> str:
    """The body as plain JSON for the bare handler (the Blend doc's sample carries // comments)."""
    return re.sub(r"\s//[^\n]*", "", body)


def run(*, requests: int, warmup: int = 5) -> dict[str, Any]:
    with test_environment():
        from moto import mock_aws
        from orderbridge import aws as aws_clients
        from orderbridge.config import get_settings
        from orderbridge.deps import get_deps
        from orderbridge_local.emulator import serialise_dynamodb_writes

        from tests.support.apigw import LambdaContext, handler_module, proxy_event

        serialise_dynamodb_writes()
        meter = AwsMeter()
        # the handlers' metric documents go to stdout as in Lambda: here to /dev/null (same cost)
        with mock_aws(), open(os.devnull, "w") as sink, redirect_stdout(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Powertools' logger holds the stdout it was created with: its lines go to the sink too
            handlers = logging.getLogger(TEST_ENV["POWERTOOLS_SERVICE_NAME"]).handlers
            streams = [(h, h.setStream(sink)) for h in handlers if isinstance(h, logging.StreamHandler)]
            deps = _seed()
            bare = _bare_module()
            source = Requests(deps)
            real = {t: Samples() for t in TYPES}
            base = {t: Samples() for t in TYPES}
            meter.install()
            try:
                for i in range(warmup + requests):
                    events = source.events(i)
                    for kind in TYPES:
                        function, event = events[kind]
                        handler = handler_module(function).lambda_handler
                        context = LambdaContext(function_name=function)
                        target = real[kind] if i >= warmup else Samples()
                        answer = measure(meter, target, lambda: handler(event, context))  # noqa: B023
                        if kind == "blink_new" and answer.get("statusCode") == 200:
                            source.prepare_after_order()
                        bare_event = proxy_event("POST", "/bench/bare", body=_plain_json(event["body"]))
                        target = base[kind] if i >= warmup else Samples()
                        measure(meter, target, lambda: bare.put_one(bare_event, context))  # noqa: B023
            finally:
                meter.uninstall()
                for handler, stream in streams:
                    if stream is not None:
                        handler.setStream(stream)
                aws_clients.reset_clients()
                get_settings.cache_clear()
                get_deps.cache_clear()
    rows = {}
    for kind in TYPES:
        ours, bare_result = real[kind].result(), base[kind].result()
        rows[kind] = {
            "handler": ours,
            "bare": bare_result,
            "ratio_cpu_p50": ratio(ours["cpu_ms"]["p50"], bare_result["cpu_ms"]["p50"]),
            "ratio_wall_p50": ratio(ours["wall_ms"]["p50"], bare_result["wall_ms"]["p50"]),
        }
    return {
        "what": "warm ack per webhook type, in-process (moto), ms; cpu = the handler's own CPU without AWS calls",
        "requests_per_type": requests,
        "types": rows,
    }


def render(result: dict[str, Any]) -> str:
    rows = []
    for kind, row in result["types"].items():
        h, b = row["handler"], row["bare"]
        rows.append(
            [
                kind,
                h["wall_ms"]["p50"],
                h["wall_ms"]["p99"],
                h["cpu_ms"]["p50"],
                h["cpu_ms"]["p99"],
                h["aws_calls"],
                b["wall_ms"]["p50"],
                b["cpu_ms"]["p50"],
                b["aws_calls"],
                row["ratio_cpu_p50"],
                ",".join(f"{k}:{v}" for k, v in sorted(h["statuses"].items())),
            ]
        )
    header = ["type", "wall p50", "wall p99", "cpu p50", "cpu p99", "aws", "bare wall", "bare cpu", "bare aws"]
    return table(
        f"B1 warm ack (ms, {result['requests_per_type']} requests per type, in-process moto)",
        [*header, "cpu ×bare", "answers"],
        rows,
    )
