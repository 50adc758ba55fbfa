"""Blink Logistics sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from orderbridge.models.blink_logistics import TaskStatusWebhook
from orderbridge_local.sandboxes.base import ServerHandle
from orderbridge_local.sandboxes.blink_logistics import BlinkLogisticsSandbox, BlinkLogisticsSettings

from tests.unit.vendors import samples

TOKEN = "blink-logistics-sandbox-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def task_payload(**overrides: object) -> dict[str, object]:
    """The doc's Task Creation sample payload."""
    payload: dict[str, object] = json.loads(samples.LOGISTICS_CREATE_TASK_PAYLOAD)
    payload.update(overrides)
    return payload


def serve(receiver, **settings: object) -> ServerHandle:
    config = BlinkLogisticsSettings(
        task_status_webhook_url=f"{receiver.url}/webhooks/logistics",
        webhook_token="logistics-hook-token",
        **settings,
    )
    return BlinkLogisticsSandbox(config).serve()


@pytest.fixture
def logistics(receiver) -> Iterator[ServerHandle]:
    handle = serve(receiver, webhook_mode="sync")
    try:
        yield handle
    finally:
        handle.stop()


def test_create_task_answers_task_created(logistics: ServerHandle, http: httpx.Client) -> None:
    # When we create the doc's sample task
    answer = http.post(f"{logistics.url}/api/client/task", json=task_payload(), headers=AUTH)

    # Then 201 with the doc's shape and a taskId like XYZAB-12345
    assert answer.status_code == 201
    body = answer.json()
    assert (body["eventId"], body["event"], body["data"]["type"]) == (20, "TASK_CREATED", 1)
    letters, digits = body["data"]["taskId"].split("-")
    assert len(letters) == 5 and letters.isalpha() and letters.isupper()
    assert len(digits) == 5 and digits.isdigit()


def test_the_static_bearer_token_is_required(logistics: ServerHandle, http: httpx.Client) -> None:
    wrong = http.post(f"{logistics.url}/api/client/task", json=task_payload(), headers={"Authorization": "Bearer nope"})
    missing = http.get(f"{logistics.url}/api/client/task/status", params={"mappingKey": "12345678"})

    assert (wrong.status_code, missing.status_code) == (401, 401)


def test_create_task_validates_required_fields(logistics: ServerHandle, http: httpx.Client) -> None:
    # Given a task without mappingKey and with an unknown payment type
    payload = task_payload(paymentType="CARD")
    del payload["mappingKey"]

    # When we create it
    answer = http.post(f"{logistics.url}/api/client/task", json=payload, headers=AUTH)

    # Then 400 naming both problems
    assert answer.status_code == 400
    messages = " ".join(answer.json()["message"])
    assert "mappingKey" in messages and "paymentType" in messages


def test_a_duplicate_mapping_key_is_a_conflict(logistics: ServerHandle, http: httpx.Client) -> None:
    http.post(f"{logistics.url}/api/client/task", json=task_payload(), headers=AUTH).raise_for_status()

    again = http.post(f"{logistics.url}/api/client/task", json=task_payload(), headers=AUTH)

    assert again.status_code == 409


def test_task_advances_through_every_event_with_one_webhook_each_in_order(
    logistics: ServerHandle, http: httpx.Client, receiver
) -> None:
    # Given a created task
    created = http.post(f"{logistics.url}/api/client/task", json=task_payload(), headers=AUTH).json()
    task_id = created["data"]["taskId"]

    # When it is advanced to finished
    answer = http.post(f"{logistics.url}/_admin/tasks/{task_id}/advance", json={"to": 27})

    # Then the webhooks 23, 24, 25, 26, 27 arrived in that order, with the token, in the doc's shape
    assert answer.json()["events"] == [23, 24, 25, 26, 27]
    hooks = receiver.wait_for(5)
    assert [hook.json["eventId"] for hook in hooks] == [23, 24, 25, 26, 27]
    assert [hook.json["event"] for hook in hooks] == [
        "TASK_ASSIGNED",
        "TASK_ACCEPTED",
        "TASK_ARRIVED",
        "TASK_STARTED",
        "TASK_FINISHED",
    ]
    assert all(hook.headers["X-Webhook-Token"] == "logistics-hook-token" for hook in hooks)
    accepted = hooks[1].json
    assert set(accepted) == {"eventId", "event", "data"}
    assert set(accepted["data"]) == {"taskId", "type", "reason", "agent", "trackingLink"}
    assert accepted["data"]["taskId"] == task_id
    assert accepted["data"]["agent"] == {"name": "Test Rider", "contact": "+923213456789"}
    assert TaskStatusWebhook.model_validate(accepted).event_id == 24

    # And the status endpoint reports the final state, and a finished task cannot move on
    status = http.get(f"{logistics.url}/api/client/task/status", params={"mappingKey": "12345678"}, headers=AUTH)
    assert status.json()["eventId"] == 27
    assert http.post(f"{logistics.url}/_admin/tasks/{task_id}/advance", json={}).status_code == 409


def test_status_before_assignment_then_step_by_step(logistics: ServerHandle, http: httpx.Client) -> None:
    task_id = http.post(f"{logistics.url}/api/client/task", json=task_payload(), headers=AUTH).json()["data"]["taskId"]

    def status() -> dict[str, object]:
        return http.get(
            f"{logistics.url}/api/client/task/status", params={"mappingKey": "12345678"}, headers=AUTH
        ).json()

    created = status()
    http.post(f"{logistics.url}/_admin/tasks/{task_id}/advance", json={}).raise_for_status()
    assigned = status()

    assert (created["eventId"], created["data"]["agent"]) == (20, None)
    assert created["data"]["trackingLink"].startswith(f"{logistics.url}/tracking/")
    assert assigned["eventId"] == 23 and assigned["data"]["agent"]["name"] == "Test Rider"


def test_cancel_and_reassign(logistics: ServerHandle, http: httpx.Client, receiver) -> None:
    # Given an accepted task
    task_id = http.post(f"{logistics.url}/api/client/task", json=task_payload(), headers=AUTH).json()["data"]["taskId"]
    http.post(f"{logistics.url}/_admin/tasks/{task_id}/advance", json={"to": 24}).raise_for_status()

    # When it is reassigned, accepted again, then cancelled with a reason
    http.post(f"{logistics.url}/_admin/tasks/{task_id}/advance", json={"event": 29}).raise_for_status()
    http.post(f"{logistics.url}/_admin/tasks/{task_id}/advance", json={}).raise_for_status()
    http.post(
        f"{logistics.url}/_admin/tasks/{task_id}/advance", json={"event": 28, "reason": "Customer unreachable"}
    ).raise_for_status()

    # Then the webhooks follow, the reassignment names another rider, the cancel carries its reason
    hooks = [hook.json for hook in receiver.wait_for(5)]
    assert [hook["eventId"] for hook in hooks] == [23, 24, 29, 24, 28]
    assert hooks[2]["data"]["agent"]["name"] == "Test Rider 2"
    assert hooks[4]["data"]["reason"] == "Customer unreachable"
    update = http.put(f"{logistics.url}/api/client/task", json={"taskId": task_id, "type": 1}, headers=AUTH)
    assert update.status_code == 409


def test_update_task_answers_task_updated(logistics: ServerHandle, http: httpx.Client) -> None:
    task_id = http.post(f"{logistics.url}/api/client/task", json=task_payload(), headers=AUTH).json()["data"]["taskId"]

    answer = http.put(
        f"{logistics.url}/api/client/task",
        json={"taskId": task_id, "type": 1, "instruction": "Ring twice"},
        headers=AUTH,
    )
    unknown = http.put(f"{logistics.url}/api/client/task", json={"taskId": "NOPE-00000", "type": 1}, headers=AUTH)

    assert answer.status_code == 201
    assert answer.json() == {"eventId": 21, "event": "TASK_UPDATED", "data": {"taskId": task_id, "type": 1}}
    assert unknown.status_code == 404
    task = http.get(f"{logistics.url}/_admin/tasks/{task_id}").json()
    assert task["request"]["instruction"] == "Ring twice"


def test_auto_advance_sends_every_event_on_its_own(receiver, http: httpx.Client) -> None:
    # Given a sandbox that advances tasks every 50 ms, sending webhooks from its worker thread
    handle = serve(receiver, auto_advance_seconds=0.05, tick_seconds=0.01)
    try:
        # When a task is created
        http.post(f"{handle.url}/api/client/task", json=task_payload(), headers=AUTH).raise_for_status()

        # Then it reaches 27 by itself, one webhook per event, in order
        hooks = receiver.wait_for(5)
    finally:
        handle.stop()
    assert [hook.json["eventId"] for hook in hooks] == [23, 24, 25, 26, 27]
