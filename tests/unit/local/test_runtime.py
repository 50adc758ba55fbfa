"""The local Lambda runtime: warm worker processes per function, each with its own environment."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from orderbridge_local.aws_emulator import DeployedFunction
from orderbridge_local.runtime import Runtime
from orderbridge_local.template import FunctionSpec

CODE = {
    "Echo": """
        import os, time
        COUNT = 0
        def handler(event, context):
            global COUNT
            COUNT += 1
            print("echo", event)
            time.sleep(event.get("sleep", 0))
            return {"who": os.environ["WHO"], "count": COUNT, "name": context.function_name,
                    "remaining": context.get_remaining_time_in_millis(), "endpoint": os.environ["AWS_ENDPOINT_URL"]}
    """,
    "Other": """
        import os
        def handler(event, context):
            return {"who": os.environ["WHO"]}
    """,
    "Broken": """
        import not_a_module_anywhere
        def handler(event, context):
            return None
    """,
    "Raises": """
        def handler(event, context):
            print('{"level": "ERROR", "message": "about to fail", "order_id": "o-1"}')
            raise ValueError("bad input")
    """,
}


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    specs, deployed = {}, {}
    for name, code in CODE.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "app.py").write_text(textwrap.dedent(code))
        specs[name] = FunctionSpec(logical_id=name, code_dir=folder, handler="app.handler", timeout=2)
        arn = f"arn:aws:lambda:eu-west-1:123456789012:function:stack-{name}-X1"
        deployed[name] = DeployedFunction(name, f"stack-{name}-X1", arn, {"WHO": name.lower()})
    runtime = Runtime(specs, deployed, endpoint_url="http://127.0.0.1:9", region="eu-west-1", max_workers=3)
    try:
        yield runtime
    finally:
        runtime.stop()
        assert all(pool.size == 0 for pool in runtime.pools.values())


def test_each_function_runs_with_its_own_environment(runtime):
    echo = runtime.invoke("Echo", {}, source="test")
    other = runtime.invoke("Other", {}, source="test")
    assert json.loads(echo.result)["who"] == "echo"
    assert json.loads(other.result)["who"] == "other"
    assert json.loads(echo.result)["name"] == "stack-Echo-X1"
    assert json.loads(echo.result)["endpoint"] == "http://127.0.0.1:9"
    assert 0 < json.loads(echo.result)["remaining"] <= 2000


def test_a_worker_stays_warm_between_invocations(runtime):
    first = runtime.invoke("Echo", {}, source="test")
    second = runtime.invoke("Echo", {}, source="test")
    assert first.cold_init_ms is not None and second.cold_init_ms is None
    assert [json.loads(i.result)["count"] for i in (first, second)] == [1, 2]
    assert second.logs == ["echo {}"]


def test_functions_are_found_by_name_and_arn(runtime):
    assert runtime.logical_id("stack-Echo-X1") == "Echo"
    assert runtime.logical_id("arn:aws:lambda:eu-west-1:123456789012:function:stack-Echo-X1:$LATEST") == "Echo"
    with pytest.raises(KeyError):
        runtime.logical_id("Nope")


def test_concurrent_invocations_get_their_own_workers(runtime):
    began = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: runtime.invoke("Echo", {"sleep": 0.6}, source="test"), range(3)))
    assert all(r.ok for r in results)
    assert runtime.pools["Echo"].size == 3
    assert time.monotonic() - began < 0.6 * 3


def test_a_handler_past_its_timeout_is_stopped_and_replaced(runtime):
    began = time.monotonic()
    late = runtime.invoke("Echo", {"sleep": 10}, source="test")
    assert late.error["errorType"] == "Sandbox.Timedout"
    assert time.monotonic() - began < 5
    assert runtime.invoke("Echo", {}, source="test").ok


def test_an_import_error_is_reported_on_invoke(runtime):
    broken = runtime.invoke("Broken", {}, source="test")
    assert not broken.ok
    assert broken.error["errorType"] == "Runtime.ImportModuleError"


def test_a_handler_error_comes_back_with_the_logs(runtime):
    failed = runtime.invoke("Raises", {}, source="test")
    assert failed.error["errorType"] == "ValueError"
    assert failed.error["errorMessage"] == "bad input"
    assert any("about to fail" in line for line in failed.logs)


def test_the_emulators_invoke_is_answered_by_the_runtime(runtime):
    payload, error, tail = runtime.route_from_emulator("stack-Other-X1", b"{}", "RequestResponse", "Tail")
    assert json.loads(payload) == {"who": "other"} and error is None
    failed, error, _ = runtime.route_from_emulator("stack-Raises-X1", b"{}", "RequestResponse", None)
    assert error == "Unhandled" and json.loads(failed)["errorType"] == "ValueError"
    assert runtime.route_from_emulator("stack-Other-X1", b"{}", "Event", None) == (b"", None, "")
    deadline = time.monotonic() + 10
    while not runtime.history("Other", "lambda:invoke (async)") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runtime.history("Other", "lambda:invoke (async)")
