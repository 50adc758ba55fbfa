"""B2 — cold start per function kind, from the ``sam build`` output laid out as Lambda does.

Each run is a fresh ``python -S`` (no site-packages) whose ``sys.path`` is Lambda's: the function's
build directory (``/var/task``), the layer's ``python`` directory (``/opt/python``, read from the
build output, not assumed), then the runtime's own boto3/botocore (Lambda's runtime provides them;
here: links to this environment's copies, in a directory of their own so nothing else leaks in).
The environment is the deployed function's (the template's Globals and its own variables, resolved
by the local stack's emulator, which also answers the AWS calls: the local stack's emulator is the
AWS endpoint), plus what the Lambda runtime sets; tracing as the template's ``XRayTracing`` default
has it (on: ``Tracing: Active``, the X-Ray daemon address points at nothing, as UDP does not care).
Each webhook is also measured with the other setting (``POWERTOOLS_TRACE_DISABLED`` set or not, as
``XRayTracing`` sets it): its row is named "(X-Ray off)" or "(X-Ray on)", and each row says which.
Bytecode is not written (``PYTHONDONTWRITEBYTECODE``: Lambda's ``/opt`` and ``/var/task`` are
read-only), so what the build ships is what is measured. Wall time of the whole process (start,
import, one answer; it leaves by ``os._exit``, as a Lambda runtime process is not torn down after
its first answer) from outside, the median of N rounds, each round one bare run
(``bench/bare/app.py:answer``: import boto3, one client, answer) then one run of each kind. Beside
wall time, each run's CPU time (user + system of the process, from ``getrusage``): steadier than
wall time on a shared machine.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from bench.common import BARE_DIR, BUILD, ROOT, ratio, table

DRIVER = Path(__file__).with_name("cold_driver.py")
# What Lambda's Python runtime brings itself (boto3 and what it needs).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
BLINK_ORDER_ID = "8000001"
# One stream record no order wait cares about (a key that is not an order's): the batch is answered.
STREAM_EVENT = {
    "Records": [
        {
            "eventID": "bench-1",
            "eventName": "MODIFY",
            "eventSource": "aws:dynamodb",
            "eventVersion": "1.1",
            "awsRegion": "eu-west-1",
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000",
            "dynamodb": {
                "Keys": {"pk": {"S": "BENCH#cold"}, "sk": {"S": "META"}},
                "NewImage": {"pk": {"S": "BENCH#cold"}, "sk": {"S": "META"}},
                "OldImage": {"pk": {"S": "BENCH#cold"}, "sk": {"S": "META"}},
                "SequenceNumber": "1",
                "SizeBytes": 64,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
    ]
}
# --smoke: one function of each kind
SMOKE_KINDS = (
    "webhook: Blink order",
    "action: SelectLocker",
    "ops API: list orders",
    "stream: OrderStream",
    "sync: FindStuckOrders",
)
PARTNER_ORDER_ID = "bench-cold"
# What the template's XRayTracing: off sets (Globals), and the suffix of a row measured with the
# template default's other setting.
TRACE_DISABLED = "POWERTOOLS_TRACE_DISABLED"


def tracing(env: dict[str, str]) -> str:
    """X-Ray tracing, "on" or "off", as Powertools reads the environment (its truthy strings)."""
    return "off" if env.get(TRACE_DISABLED, "").strip().lower() in {"1", "y", "yes", "t", "true", "on"} else "on"


def other_tracing(env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The row name's suffix and the environment of the same function with tracing switched."""
    if tracing(env) == "on":
        return " (X-Ray off)", env | {TRACE_DISABLED: "true"}
    return " (X-Ray on)", {k: v for k, v in env.items() if k != TRACE_DISABLED}


def layer_paths() -> list[Path]:
    layer = BUILD / "SharedLayer"
    found = [p for p in (layer / "python" / "lib" / "python3.11" / "site-packages", layer / "python") if p.is_dir()]
    return found or [layer]


def runtime_dir(folder: Path) -> Path:
    import boto3

    site = Path(boto3.__file__).resolve().parents[1]
    target = folder / "var-runtime"
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        if (site / name).exists() and not (target / name).exists():
            (target / name).symlink_to(site / name)
    return target


def _proxy(method: str, path: str, body: str | None, headers: dict[str, str], **kw: Any) -> dict[str, Any]:
    from tests.support.apigw import proxy_event

    return proxy_event(method, path, body=body, headers=headers, **kw)


def events(info: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Function kind → (function, the event it answers first)."""
    from tests.support import samples
    from tests.support.hub import bloq_headers

    def token(name: str) -> dict[str, str]:
        return {"X-Webhook-Token": parse_qs(urlparse(info["webhooks"][name]).query)["token"][0]}

    order = json.dumps(samples.load("blink_order_webhook.json") | {"blink_order_id": BLINK_ORDER_ID})
    status = json.dumps(
        {"blink_order_id": BLINK_ORDER_ID, "branch_id": "12345", "status": 1, "created_at": "2024-06-26 09:30:00"}
    )
    partner = samples.text("blend_order_created.jsonc").replace('"id": "order_id"', f'"id": "{PARTNER_ORDER_ID}"', 1)
    bloq = json.dumps({"_id": "bench-cold-event", "codeName": "rent.in_progress", "rent": "bench-cold-rent"})
    signed = bloq_headers(bloq, secret=info["bloq_webhook_secret"])
    return {
        "webhook: Blink order": (
            "BlinkOrderWebhookFunction",
            _proxy("POST", "/webhooks/blink/orders", order, token("blink_orders")),
        ),
        "webhook: Blink order status": (
            "BlinkOrderStatusWebhookFunction",
            _proxy("POST", "/webhooks/blink/order-status", status, token("blink_order_status")),
        ),
        "webhook: Blink Logistics task": (
            "BlinkTaskStatusWebhookFunction",
            _proxy(
                "POST",
                "/webhooks/blink/logistics/task-status",
                samples.text("blink_task_status_webhook.json"),
                token("blink_task_status"),
            ),
        ),
        "webhook: partner order": (
            "PartnerOrderWebhookFunction",
            _proxy(
                "POST",
                "/webhooks/partners/demo-partner/orders",
                partner,
                token("partner_orders"),
                resource="/webhooks/partners/{partner}/orders",
                path_params={"partner": "demo-partner"},
            ),
        ),
        "webhook: Bloq.It": ("BloqWebhookFunction", _proxy("POST", "/webhooks/bloq", bloq, signed)),
        "action: SelectLocker": (
            "SelectLockerFunction",
            json.loads((ROOT / "events" / "select_locker.json").read_text()),
        ),
        "ops API: list orders": (
            "OpsApiFunction",
            json.loads((ROOT / "events" / "ops_api_list_orders.json").read_text())
            | {"headers": {"X-Api-Key": info["ops_api_key"]}},
        ),
        "stream: OrderStream": ("OrderStreamFunction", STREAM_EVENT),
        "sync: FindStuckOrders": ("FindStuckOrdersFunction", {"source": "aws.events", "detail": {}}),
    }


def lambda_environment(
    config: dict[str, Any], info: dict[str, Any], pythonpath: list[Path], task_root: Path
) -> dict[str, str]:
    region = info["emulator"]["region"]
    variables = {k: str(v) for k, v in ((config.get("Environment") or {}).get("Variables") or {}).items()}
    return {
        **variables,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": config.get("Handler", "app.lambda_handler"),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_ENDPOINT_URL": info["emulator"]["endpoint_url"],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": config.get("FunctionName", "bench"),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def one_run(env: dict[str, str], cwd: Path, event: dict[str, Any], folder: Path) -> dict[str, Any]:
    event_file = folder / "event.json"
    result_file = folder / "result.json"
    event_file.write_text(json.dumps(event))
    result_file.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-S", str(DRIVER), str(event_file), str(result_file)],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
    )
    wall = (time.perf_counter() - began) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    if done.returncode != 0 or not result_file.exists():
        raise RuntimeError(f"cold run in {cwd} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return {"wall_ms": wall, "cpu_ms": cpu, **json.loads(result_file.read_text())}


def run(info: dict[str, Any], configs: dict[str, dict[str, Any]], *, runs: int, smoke: bool = False) -> dict[str, Any]:
    if not BUILD.is_dir():
        raise RuntimeError("no sam build output: run `make build` first")
    targets = events(info)
    if smoke:
        targets = {k: v for k, v in targets.items() if k in SMOKE_KINDS}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        folder = Path(tmp)
        runtime = runtime_dir(folder)
        layers = layer_paths()
        # row → (environment, task root, the kind whose event it answers)
        plans: dict[str, tuple[dict[str, str], Path, str]] = {}
        for kind, (function, _) in targets.items():
            task = BUILD / function
            env = lambda_environment(configs[function], info, [task, *layers, runtime], task)
            plans[kind] = (env, task, kind)
            if kind.startswith("webhook:"):
                suffix, switched = other_tracing(env)
                plans[kind + suffix] = (switched, task, kind)
        bare_config = {"Handler": "app.answer", "MemorySize": 128, "FunctionName": "bench-bare"}
        bare: tuple[dict[str, str], Path, dict[str, Any]] = (
            lambda_environment(bare_config, info, [BARE_DIR, runtime], BARE_DIR),
            BARE_DIR,
            {},
        )
        samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in plans}
        bare_samples: list[dict[str, Any]] = []
        for _ in range(runs):  # interleaved: one bare run, then one run of each kind, per round
            bare_samples.append(one_run(*bare, folder))
            fresh = events(info)  # signed now: Bloq.It's signature carries a timestamp with a tolerance
            for kind, (env, cwd, answers) in plans.items():
                samples[kind].append(one_run(env, cwd, fresh[answers][1], folder))
    bare_wall = statistics.median(s["wall_ms"] for s in bare_samples)
    bare_cpu = statistics.median(s["cpu_ms"] for s in bare_samples)
    kinds = {}
    for kind, runs_of in samples.items():
        wall = statistics.median(s["wall_ms"] for s in runs_of)
        cpu = statistics.median(s["cpu_ms"] for s in runs_of)
        kinds[kind] = {
            "function": targets[plans[kind][2]][0],
            "tracing": tracing(plans[kind][0]),
            "wall_ms_median": round(wall, 1),
            "cpu_ms_median": round(cpu, 1),
            "import_ms_median": round(statistics.median(s["import_ms"] for s in runs_of), 1),
            "answer_ms_median": round(statistics.median(s["answer_ms"] for s in runs_of), 1),
            "outcomes": sorted({s["outcome"] for s in runs_of}),
            "modules": runs_of[-1]["modules"],
            "botocore_from": _where(runs_of[-1]["botocore_from"]),
            "xray_botocore_patch_loaded": runs_of[-1]["xray_botocore_patch"],
            "xray_recorder_loaded": runs_of[-1]["xray_recorder"],
            "bare_wall_ms_median": round(bare_wall, 1),
            "ratio": ratio(wall, bare_wall),
            "cpu_ratio": ratio(cpu, bare_cpu),
        }
    return {
        "what": "cold start: fresh process, import + first answer, wall ms (median), vs bare",
        "runs": runs,
        "layer_paths": [str(p.relative_to(ROOT)) for p in layers],
        "layer_pyc_files": sum(1 for _ in (BUILD / "SharedLayer").rglob("*.pyc")),
        "aws_endpoint": "the local stack's emulator",
        "bare": {
            "wall_ms_median": round(bare_wall, 1),
            "cpu_ms_median": round(bare_cpu, 1),
            "import_ms_median": round(statistics.median(s["import_ms"] for s in bare_samples), 1),
        },
        "kinds": kinds,
    }


def _where(path: str | None) -> str | None:
    if not path:
        return None
    return "layer" if "SharedLayer" in path else "runtime"


def render(result: dict[str, Any]) -> str:
    rows = [
        [
            kind,
            row["tracing"],
            row["wall_ms_median"],
            row["import_ms_median"],
            row["answer_ms_median"],
            row["bare_wall_ms_median"],
            row["ratio"],
            row["cpu_ms_median"],
            row["cpu_ratio"],
            ",".join(row["outcomes"]),
            row["botocore_from"],
        ]
        for kind, row in result["kinds"].items()
    ]
    return table(
        f"B2 cold start (ms, median of {result['runs']}, from {', '.join(result['layer_paths'])}, "
        f"{result['layer_pyc_files']} .pyc in the layer; bare cpu {result['bare']['cpu_ms_median']} ms; "
        "X-Ray: as the row's run had it, the template default unless the row says otherwise)",
        [
            "kind",
            "X-Ray",
            "wall",
            "import",
            "1st answer",
            "bare wall",
            "×bare",
            "cpu",
            "cpu ×bare",
            "answer",
            "botocore",
        ],
        rows,
    )
