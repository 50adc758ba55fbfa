"""The local stack the benchmarks B2–B4 and B6 run on: ``python -m orderbridge_local run`` on free
ports (``tests/e2e/support.start_stack``), the real ``template.yaml`` plus one bare function
(``BenchBareFunction``, ``bench/bare/app.py:put_one`` behind ``POST /bench/bare``, registered the
way every function is: a template resource with an ``Api`` event), the sync schedules parked (they
run only when fired) and moto's request recorder pointed at a file of the run (B4 counts the AWS
requests with it)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from samtranslator.yaml_helper import yaml_parse

from bench.common import BARE_DIR, ROOT
from tests.e2e.support import SYNCS

BARE_FUNCTION = "BenchBareFunction"
BARE_PATH = "/bench/bare"
START_TIMEOUT_SECONDS = 240.0  # a shared 2-core machine: the stack's start-up can take a minute or more


def bench_template(folder: Path) -> Path:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            value = props.get(key)
            if isinstance(value, str) and not value.startswith("s3://") and not Path(value).is_absolute():
                props[key] = str(ROOT / value)
    template["Resources"][BARE_FUNCTION] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": str(BARE_DIR),
            "Handler": "app.put_one",
            "Description": "make bench: the bare baseline (parse the body, one PutItem)",
            "Policies": [{"DynamoDBCrudPolicy": {"TableName": {"Ref": "IdempotencyTable"}}}],
            "Events": {
                "Bare": {
                    "Type": "Api",
                    "Properties": {"RestApiId": {"Ref": "Api"}, "Path": BARE_PATH, "Method": "post"},
                }
            },
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "template.json"
    path.write_text(json.dumps(template, indent=1))
    return path


@contextmanager
def running(folder: Path, *, max_workers: int) -> Iterator[Any]:
    """The running stack (``tests.e2e.support.RunningStack``), stopped at the end."""
    from tests.e2e import support

    support.START_TIMEOUT_SECONDS = max(support.START_TIMEOUT_SECONDS, START_TIMEOUT_SECONDS)
    template = bench_template(folder)
    recording = folder / "moto-recording.jsonl"
    saved = os.environ.get("MOTO_RECORDER_FILEPATH")
    os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)  # read by moto at import in the stack
    try:
        stack = support.start_stack(
            template,
            folder / "state",
            "--max-workers",
            str(max_workers),
            "--parameter-overrides",
            *(f"{sync}Schedule=rate(1 day)" for sync in SYNCS),
        )
    finally:
        if saved is None:
            os.environ.pop("MOTO_RECORDER_FILEPATH", None)
        else:
            os.environ["MOTO_RECORDER_FILEPATH"] = saved
    stack.recording = recording
    try:
        yield stack
    finally:
        stack.stop()


def admin(info: dict[str, Any], method: str, path: str, **kwargs: Any) -> Any:
    answer = httpx.request(method, f"{info['admin']}{path}", timeout=60.0, trust_env=False, **kwargs)
    answer.raise_for_status()
    return answer.json()


def boto_client(info: dict[str, Any], service: str, *, access_key: str = "local") -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key=access_key, region_name=info["emulator"]["region"]
    )
    return session.client(
        service,
        endpoint_url=info["emulator"]["endpoint_url"],
        config=Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 2}),
    )


def function_configurations(info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's deployed configuration (environment resolved, MemorySize, Handler), by
    logical id, from the emulator's Lambda."""
    client = boto_client(info, "lambda")
    return {
        logical: client.get_function_configuration(FunctionName=physical)
        for logical, physical in info["functions"].items()
    }
