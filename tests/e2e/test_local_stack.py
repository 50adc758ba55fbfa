"""The local stack over HTTP only: the API front, the emulator's APIs, the admin endpoints, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from orderbridge.domain.ids import order_id_for
from orderbridge.store.orders import order_key

from tests.e2e.support import ROOT, invocations, start_stack, wait_for
from tests.support import samples

pytestmark = pytest.mark.e2e
JSON = {"Content-Type": "application/json"}


def _orders_table(stack: dict[str, Any], aws: Any) -> str:
    config = aws("lambda").get_function_configuration(FunctionName=stack["functions"]["BlinkOrderWebhookFunction"])
    return config["Environment"]["Variables"]["ORDERS_TABLE"]


def _sign_like_bloqit(body: str, secret: str, timestamp: str) -> str:
    """What the Bloq.It sandbox (and Node's jsonwebtoken) sends: an HS256 JWS of ``<timestamp>.<body>``."""
    return jwt.api_jws.encode(f"{timestamp}.{body}".encode(), secret, algorithm="HS256", headers={"typ": None})


# ------------------------------------------------------------------------------ webhooks, ops API


def test_a_blink_order_lands_in_dynamodb_and_the_ops_api_shows_it(stack, http, aws):
    # Given the Blink Order Webhook sample, as the docs give it
    body = samples.text("blink_order_webhook.json")
    order_id = order_id_for("blink", samples.load("blink_order_webhook.json")["blink_order_id"])

    # When Blink posts it to our webhook URL (with its token)
    answer = http.post(stack["webhooks"]["blink_orders"], content=body, headers=JSON)

    # Then it is accepted, stored in the emulator's DynamoDB, and readable through the ops API
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "accepted", "order_id": order_id}
    item = aws("dynamodb").get_item(
        TableName=_orders_table(stack, aws), Key={k: {"S": v} for k, v in order_key(order_id).items()}
    )
    assert "Item" in item
    detail = http.get(f"{stack['api']}/ops/orders/{order_id}", headers={"X-Api-Key": stack["ops_api_key"]})
    assert detail.status_code == 200, detail.text
    assert detail.json()["order"]["blink_order_id"] == "1236589"
    assert [event["kind"] for event in detail.json()["timeline"]][0] == "order_received"


@pytest.mark.parametrize(
    ("sample", "webhook", "statuses"),
    [
        ("blink_order_webhook.json", "blink_orders", {200}),
        ("blink_order_status_webhook.json", "blink_order_status", {200, 202}),
        ("blink_task_status_webhook.json", "blink_task_status", {200, 202}),
        ("blend_order_created.jsonc", "partner_orders", {200}),
    ],
)
def test_every_vendor_sample_is_accepted_as_it_stands(stack, http, sample, webhook, statuses):
    answer = http.post(stack["webhooks"][webhook], content=samples.text(sample), headers=JSON)
    assert answer.status_code in statuses, answer.text


def test_the_functions_use_the_sandboxes_and_the_demo_merchant_has_credentials_for_them(stack, aws):
    config = aws("lambda").get_function_configuration(FunctionName=stack["functions"]["OpsApiFunction"])
    env = config["Environment"]["Variables"]
    assert env["BLINK_BASE_URL"] == stack["sandboxes"]["blink"]
    assert env["BLOQIT_BASE_URL"] == stack["sandboxes"]["bloqit"]
    assert env["DISPATCHNINJA_BASE_URL"] == stack["sandboxes"]["dispatchninja"]
    secret = aws("secretsmanager").get_secret_value(SecretId=env["VENDOR_CREDENTIALS_SECRET_PREFIX"] + "m-demo")
    assert set(json.loads(secret["SecretString"])) == {"blink", "blink_logistics", "bloqit", "dispatchninja"}


def test_the_ops_api_wants_a_key_or_a_signed_in_person_as_api_gateway_does(stack, http):
    url = f"{stack['api']}/ops/orders/{order_id_for('blink', '1236589')}"
    # No credential at all: the authorizer's "Unauthorized", which API Gateway answers 401
    anonymous = http.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"message": "Unauthorized"}
    # A key that is not one of the usage plan's: API Gateway's 403
    answer = http.get(url, headers={"X-Api-Key": "not-the-key"})
    assert answer.status_code == 403
    assert answer.json() == {"message": "Forbidden"}
    assert answer.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_unknown_routes_and_methods_are_missing_authentication_token(stack, http):
    for method, path in (("GET", "/nowhere"), ("GET", "/webhooks/blink/orders"), ("DELETE", "/ops/orders")):
        answer = http.request(method, f"{stack['api']}{path}")
        assert answer.status_code == 403
        assert answer.json() == {"message": "Missing Authentication Token"}


def test_a_signed_bloqit_event_is_accepted_and_a_forged_one_is_not(stack, http):
    body = samples.text("bloq_webhook_callback.json")
    timestamp = str(int(time.time() * 1000))
    names = stack["bloq_signature_headers"]
    signed = {
        names["signature"]: _sign_like_bloqit(body, stack["bloq_webhook_secret"], timestamp),
        names["timestamp"]: timestamp,
        "Content-Type": "application/json",
    }
    answer = http.post(stack["webhooks"]["bloq"], content=body, headers=signed)
    assert answer.status_code in (200, 202), answer.text
    assert answer.json()["status"] in ("accepted", "unmatched")

    forged = {**signed, names["signature"]: _sign_like_bloqit(body, "x" * 40, timestamp)}
    assert http.post(stack["webhooks"]["bloq"], content=body, headers=forged).status_code == 401


def test_the_bloqit_sandbox_signs_its_events_and_the_stack_accepts_them(stack, http):
    # Given the stack's Bloq.It webhook, subscribed as RegisterBloqWebhookFunction subscribes one
    sandbox = stack["sandboxes"]["bloqit"]

    # When Bloq.It sends an event of a subscribed type (about no rent of ours)
    sent = http.post(f"{sandbox}/_admin/events/rent.in_progress", json={})
    assert sent.status_code == 200, sent.text

    # Then it is delivered signed, and the stack verifies it and records it as unmatched
    deliveries = http.get(f"{sandbox}/_admin/webhooks", params={"flush": "1", "label": "rent.in_progress"}).json()
    assert deliveries and deliveries[-1]["url"] == stack["webhooks"]["bloq"]
    assert deliveries[-1]["status"] == 202, deliveries[-1]
    assert deliveries[-1]["answer"] == {"status": "unmatched"}


def test_an_event_type_the_stack_does_not_subscribe_to_never_reaches_it(stack, http):
    # Given the stack's Bloq.It webhook, not subscribed to locker events nor to a drop-off's notices
    sandbox = stack["sandboxes"]["bloqit"]
    before = len(invocations(stack, "BloqWebhookFunction"))

    # When Bloq.It has such events
    for code in ("locker.locker_opened", "rent.drop_off_confirmation", "rent.created"):
        assert http.post(f"{sandbox}/_admin/events/{code}", json={}).status_code == 200
    sent = http.get(f"{sandbox}/_admin/webhooks", params={"flush": "1"}).json()

    # Then none is sent to the stack, and its Bloq.It webhook function is not invoked
    assert not [d for d in sent if d["label"] in ("locker.locker_opened", "rent.drop_off_confirmation", "rent.created")]
    assert len(invocations(stack, "BloqWebhookFunction")) == before


def test_dozens_of_concurrent_partner_orders_are_all_answered(stack):
    # The Blend sample as the docs give it (with its // comments), each with its own payload id
    sample = samples.text("blend_order_created.jsonc")
    assert '"id": "order_id"' in sample

    # Correctness, not speed (speed is `make bench`'s): thirty at once queue in the emulator behind
    # the other stack's work on two cores, so each may wait far longer than a deployed stack would.
    patient = httpx.Client(timeout=120.0, trust_env=False)

    def post(index: int) -> httpx.Response:
        body = sample.replace('"id": "order_id"', f'"id": "e2e-{os.getpid()}-{index}"')
        return patient.post(stack["webhooks"]["partner_orders"], content=body, headers=JSON)

    with patient, ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(post, range(30)))
    assert [a.status_code for a in answers] == [200] * 30, [a.text for a in answers if a.status_code != 200]
    assert all(a.json()["status"] == "success" and a.json()["order_id"] for a in answers)
    assert len({a.json()["order_id"] for a in answers}) == 30


# ---------------------------------------------------------------------- streams, schedules, flows


def test_the_orders_stream_is_delivered_to_its_function(stack, http):
    http.post(
        stack["webhooks"]["blink_orders"],
        json={**samples.load("blink_order_webhook.json"), "blink_order_id": "7700001"},
    )
    found = wait_for(
        lambda: invocations(stack, "LocalTestTickFunction", "dynamodb stream"),
        what="a stream delivery to LocalTestTickFunction",
    )
    assert found[-1]["ok"] is True


def test_schedules_fire_on_their_expressions(stack):
    # rate(1 minute) (EventBridge rule) and cron(* * * * ? *) (EventBridge Scheduler), clock x30
    for schedule in ("LocalTestTickFunctionTick", "LocalTestTickFunctionTock"):
        fired = wait_for(
            lambda s=schedule: invocations(stack, "LocalTestTickFunction", f"schedule {s}"),
            timeout=20.0,
            what=f"{schedule} firing",
        )
        assert fired[0]["ok"] is True


def test_a_state_machine_runs_to_completion_through_a_task_token(stack, aws, running_stack):
    # Given the flow's daily schedule, fired now from the command line
    fired = subprocess.run(
        [sys.executable, "-m", "orderbridge_local", "fire", "LocalTestFlow", "--state", str(running_stack.state_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert fired.returncode == 0, fired.stdout + fired.stderr
    machine = json.loads(fired.stdout)["fired"][0]["targets"][0]

    # Then its execution invokes the tick function, waits for the callback's SendTaskSuccess, succeeds
    sfn = aws("stepfunctions")
    execution = wait_for(lambda: sfn.list_executions(stateMachineArn=machine)["executions"], what="an execution")[0]
    done = wait_for(lambda: _finished(sfn, execution["executionArn"]), what="the execution to finish")
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"callback": "done"}


def test_a_task_token_failure_fails_the_execution(stack, aws):
    sfn = aws("stepfunctions")
    machine = next(
        m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if "LocalTestFlow" in m["name"]
    )
    started = sfn.start_execution(stateMachineArn=machine, name="fails", input=json.dumps({"fail": True}))
    done = wait_for(lambda: _finished(sfn, started["executionArn"]), what="the execution to finish")
    assert done["status"] == "FAILED"
    assert done.get("error") == "Asked.ToFail"


def _finished(sfn: Any, arn: str) -> dict[str, Any] | None:
    execution = sfn.describe_execution(executionArn=arn)
    return execution if execution["status"] != "RUNNING" else None


# ------------------------------------------------------------------------------------------ CLI


def test_invoke_runs_one_function_on_an_event_file_against_the_running_stack(running_stack):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "orderbridge_local",
            "invoke",
            "OpsApiFunction",
            "-e",
            "events/ops_api_list_orders.json",
            "--stack",
            "--state",
            str(running_stack.state_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["statusCode"] == 200
    assert "against the running stack" in done.stderr


def test_demo_places_an_order_and_prints_its_timeline(running_stack):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "orderbridge_local",
            "demo",
            "--idle",
            "2",
            "--timeout",
            "60",
            "--state",
            str(running_stack.state_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Blink sandbox" in done.stdout
    assert "order_received" in done.stdout
    # it plays the courier and the customer through the sandboxes, to the end
    assert "demo: the customer collects it" in done.stdout, done.stdout
    assert "workflow collected" in done.stdout and "state: collected" in done.stdout, done.stdout


# ------------------------------------------------------------------------------------ stopping


def test_the_real_template_serves_and_ctrl_c_stops_everything(tmp_path):
    # Given the unmodified template.yaml, run without sandboxes on its own free ports
    stack = start_stack(ROOT / "template.yaml", tmp_path / "state", "--no-sandboxes")
    try:
        info = stack.info
        body = samples.text("blink_order_status_webhook.json")
        answer = httpx.post(
            info["webhooks"]["blink_order_status"], content=body, headers=JSON, timeout=20.0, trust_env=False
        )
        assert answer.status_code in (200, 202), answer.text
        workers = httpx.get(f"{info['admin']}/workers", timeout=5.0, trust_env=False).json()["workers"]
        pids = [pid for group in workers.values() for pid in group]
        assert pids
    finally:
        # When Ctrl-C reaches the stack
        stack.process.send_signal(signal.SIGINT)
        code = stack.process.wait(20.0)
    # Then it exits cleanly, its workers are gone and stack.json with them
    assert code == 0, stack.log()
    assert not [pid for pid in pids if _alive(pid)]
    assert not stack.state_path.exists()
    assert "Stopped." in stack.log()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive: it only waits for its (gone) parent to be reaped
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False
