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
START_TIMEOUT_SECONDS = 60.0
# The session stack's drop-off deadline (conftest.py): short enough to wait for in a test.
WORKFLOW_DROPOFF_TIMEOUT_SECONDS = 40
# The session stack's lead time of a pre-order, and how long counter pickups, dine-ins and platform
# deliveries wait for the kitchen (short: a killed workflow's order shows as stuck within a test).
PRE_ORDER_LEAD_SECONDS = 10
WORKFLOW_BLINK_END_TIMEOUT_SECONDS = 45

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
