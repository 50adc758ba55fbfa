"""The e2e test template and the running local stack the e2e tests share.

The test template is the real ``template.yaml`` plus what it does not have yet, so the local
stack's schedule, stream and Step Functions paths are exercised from a template too:

* ``LocalTestTickFunction`` (``functions/tick``): a ``Schedule`` (EventBridge rule, rate) and a
  ``ScheduleV2`` (EventBridge Scheduler, cron) event, and a ``DynamoDB`` event on the orders
  table's stream;
* ``LocalTestCallbackFunction`` (``functions/callback``): completes a task token;
* ``LocalTestFlow``: a state machine with a ``lambda:invoke`` task and a
  ``lambda:invoke.waitForTaskToken`` task, and a daily ``Schedule`` (fired on demand).

Relative code paths of the real template are made absolute, so the file can live anywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
START_TIMEOUT_SECONDS = 120.0  # bounded; a loaded 2-core machine takes over a minute
# The session stack's drop-off deadline (conftest.py): short enough to wait for in a test.
WORKFLOW_DROPOFF_TIMEOUT_SECONDS = 40
# The session stack's lead time of a pre-order, and how long counter pickups, dine-ins and platform
# deliveries wait for the kitchen (short: a killed workflow's order shows as stuck within a test).
PRE_ORDER_LEAD_SECONDS = 10
WORKFLOW_BLINK_END_TIMEOUT_SECONDS = 45

# The scheduled syncs, which stacks started for tests fire on demand only (`<Name>Schedule=rate(1 day)`).
SYNCS = (
    "SyncOrders",
    "SyncBlinkStatuses",
    "SyncRents",
    "FindStuckOrders",
    "SyncCatalog",
    "PushStockAndPrice",
    "SyncBranches",
    "SyncCustomers",
    "SyncAbandonedCarts",
)

TEST_RESOURCES: dict[str, Any] = {
    "LocalTestTickFunction": {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": str(HERE / "functions" / "tick"),
            "Handler": "app.handler",
            "Events": {
                "Tick": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)", "Input": '{"from": "rule"}'}},
                "Tock": {
                    "Type": "ScheduleV2",
                    "Properties": {"ScheduleExpression": "cron(* * * * ? *)", "Input": '{"from": "scheduler"}'},
                },
                "OrdersStream": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": {"Fn::GetAtt": ["OrdersTable", "StreamArn"]},
                        "StartingPosition": "LATEST",
                        "BatchSize": 10,
                    },
                },
            },
        },
    },
    "LocalTestCallbackFunction": {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": str(HERE / "functions" / "callback"),
            "Handler": "app.handler",
        },
    },
    "LocalTestFlow": {
        "Type": "AWS::Serverless::StateMachine",
        "Properties": {
            "Definition": {
                "StartAt": "Work",
                "States": {
                    "Work": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "${TickArn}", "Payload.$": "$"},
                        "ResultSelector": {"work.$": "$.Payload"},
                        "ResultPath": "$.result",
                        "Next": "WaitForCallback",
                    },
                    "WaitForCallback": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                        "Parameters": {
                            "FunctionName": "${CallbackArn}",
                            "Payload": {"token.$": "$$.Task.Token", "input.$": "$"},
                        },
                        "End": True,
                    },
                },
            },
            "DefinitionSubstitutions": {
                "TickArn": {"Fn::GetAtt": ["LocalTestTickFunction", "Arn"]},
                "CallbackArn": {"Fn::GetAtt": ["LocalTestCallbackFunction", "Arn"]},
            },
            "Policies": [
                {"LambdaInvokePolicy": {"FunctionName": {"Ref": "LocalTestTickFunction"}}},
                {"LambdaInvokePolicy": {"FunctionName": {"Ref": "LocalTestCallbackFunction"}}},
            ],
            "Events": {"Daily": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}}},
        },
    },
}


def _absolute(value: Any) -> Any:
    if isinstance(value, str) and not value.startswith("s3://") and not Path(value).is_absolute():
        return str(ROOT / value)
    return value


def build_test_template() -> dict[str, Any]:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in props:
                props[key] = _absolute(props[key])
    template["Resources"].update(json.loads(json.dumps(TEST_RESOURCES)))
    return template


def write_test_template(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "template.json"
    path.write_text(json.dumps(build_test_template(), indent=1))
    return path


# ------------------------------------------------------------------------------------ the stack


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    log_path: Path
    state_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (a clean stop, as Ctrl-C), then SIGKILL of the group if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5.0)
        return self.process.returncode


def start_stack(template: Path, state_dir: Path, *extra: str) -> RunningStack:
    """``python -m orderbridge_local run`` on free ports, in its own process group; returns when
    stack.json is written (bounded wait) — or stops it and fails."""
    state = state_dir / "stack.json"
    log_path = state_dir / "stack.log"
    state_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orderbridge_local",
                "run",
                "--port",
                "0",
                "--template",
                str(template),
                "--state-dir",
                str(state_dir),
                *extra,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    running = RunningStack(process, {}, log_path, state)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited with {process.returncode}:\n{running.log()}")
        if state.is_file():
            running.info = json.loads(state.read_text())
            return running
        time.sleep(0.1)
    running.stop()
    raise RuntimeError(f"the local stack did not start in {START_TIMEOUT_SECONDS:.0f} s:\n{running.log()}")


def wait_for(predicate: Any, *, timeout: float = 15.0, interval: float = 0.2, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not met within {timeout:.0f} s")
        time.sleep(interval)


def invocations(info: dict[str, Any], function: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
    params = {k: v for k, v in {"function": function, "source": source}.items() if v}
    response = httpx.get(f"{info['admin']}/invocations", params=params, timeout=5.0, trust_env=False)
    response.raise_for_status()
    return response.json()["invocations"]


# -- personal data and secrets never reach the logs (issue 13 point 5) ---------------------------------

SAMPLES = ROOT / "tests" / "samples"
# Shorter values (a house number, "1") would match unrelated text; what is sent is longer.
MIN_SCANNED_LENGTH = 6
# Values of personal keys in the doc samples that are not personal: a doc placeholder, and Blink's
# sample address description, which is also an order type.
NOT_PERSONAL = frozenset({"string", "PICK-UP"})


def _personal_values(value: Any, key: str = "") -> set[str]:
    """The string leaves of ``value`` that the masking policy calls personal or secret."""
    from orderbridge.observability import is_pii_key

    if isinstance(value, dict):
        return set().union(*(_personal_values(v, k) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_personal_values(v, key) for v in value))
    if key and is_pii_key(key) and isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value).strip()
        return {text} if len(text) >= MIN_SCANNED_LENGTH else set()
    return set()


def sent_secrets_and_personal_data(info: dict[str, Any]) -> set[str]:
    """What the e2e suite sends that must never appear in a log line: the personal data of every
    vendor sample (by the masking policy's own keys), the run's tokens and keys, the vendor
    credentials and the console's dev password."""
    from orderbridge.web.request import parse_json
    from orderbridge_local.seed import DEV_VENDOR_CREDENTIALS

    found: set[str] = set()
    for sample in sorted(SAMPLES.iterdir()):
        found |= _personal_values(parse_json(sample.read_text()))
    from tests.e2e.flow import CUSTOMER

    found |= _personal_values(CUSTOMER)
    found -= NOT_PERSONAL
    found |= {str(info[k]) for k in ("ops_api_key", "bloq_webhook_secret") if info.get(k)}
    found |= {str((info.get("console") or {}).get("password") or "")} - {""}
    for url in (info.get("webhooks") or {}).values():
        found |= {v for k, v in httpx.URL(url).params.multi_items() if k == "token"}
    found |= {value for creds in DEV_VENDOR_CREDENTIALS.values() for value in creds.values() if "dev-only" in value}
    return found


def logged_secrets_and_personal_data(log_text: str, sent: set[str]) -> list[str]:
    """The function log lines (``--verbose``: ``| <line>``) holding any of ``sent``, each with what it holds."""
    leaks = []
    for number, line in enumerate(log_text.splitlines(), 1):
        if "| " not in line:
            continue
        held = sorted(value for value in sent if value in line)
        if held:
            leaks.append(f"line {number} holds {held}: {line.strip()[:300]}")
    return leaks
