"""BlinkLogisticsClient against the doc's samples: bearer token, task create/update/status."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
import respx
from orderbridge.config import VendorSettings
from orderbridge.models.blink_logistics import TaskCreateRequest, TaskStatusWebhook, TaskType, TaskUpdateRequest
from orderbridge.models.states import TaskEvent
from orderbridge.vendors.blink_logistics import BlinkLogisticsClient
from orderbridge.vendors.credentials import BlinkLogisticsCredentials, MissingVendorCredentials, VendorCredentials
from orderbridge.vendors.http import PermanentVendorError, VendorAuthError, VendorNotFound

from . import samples
from .support import SleepRecorder, captured_logs, json_response

BASE_URL = "https://stg-delivery.blinkco.io"
TOKEN = "logistics-TOKEN-do-not-log"


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(router: respx.Router, sleep: SleepRecorder) -> BlinkLogisticsClient:
    return BlinkLogisticsClient.create(
        VendorSettings(blink_logistics_base_url=BASE_URL),
        BlinkLogisticsCredentials(token=TOKEN),
        transport=httpx.MockTransport(router.handler),
        sleep=sleep,
    )


def sample_task() -> TaskCreateRequest:
    return TaskCreateRequest.model_validate(json.loads(samples.LOGISTICS_CREATE_TASK_PAYLOAD, parse_float=Decimal))


def sent_json(route: respx.Route) -> object:
    return json.loads(route.calls.last.request.content, parse_float=Decimal)


def test_create_task_sends_the_doc_sample_with_the_bearer_token(router, client) -> None:
    # Given Blink Logistics answering the doc's 201
    route = router.post("/api/client/task").mock(
        return_value=json_response(samples.LOGISTICS_CREATE_TASK_RESPONSE, 201)
    )

    # When the doc's sample task is created
    answer = client.create_task(sample_task())

    # Then the wire body is the doc's sample and the token is the bearer
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert sent_json(route) == json.loads(samples.LOGISTICS_CREATE_TASK_PAYLOAD, parse_float=Decimal)
    # and the answer, in the webhook's shape, names the new task
    assert isinstance(answer, TaskStatusWebhook)
    assert answer.task_event is TaskEvent.TASK_CREATED
    assert (answer.data.task_id, answer.data.type) == ("XYZAB-12345", 1)


def test_times_are_sent_as_utc_iso_with_z_and_money_as_exact_numbers(router, client) -> None:
    # Given a task built in Python with Karachi times and fractional money
    route = router.post("/api/client/task").mock(
        return_value=json_response(samples.LOGISTICS_CREATE_TASK_RESPONSE, 201)
    )
    karachi = timezone(timedelta(hours=5))
    task = TaskCreateRequest(
        mapping_key="ord-1",
        mapping_code="ord-1",
        mapping_branch_id=12345,
        payment_type="ONLINE",
        customer_name="Test Customer",
        customer_address="Tariq Road",
        customer_phone="923001234567",
        lat=Decimal("24.871641"),
        lng=Decimal("67.059906"),
        pick_up_time=datetime(2024, 6, 6, 8, 29, 15, 123456, tzinfo=karachi),
        delivery_time=datetime(2024, 6, 6, 9, 29, 15, tzinfo=karachi),
        delivery_charges=Decimal("120.50"),
        sub_total=Decimal("2080.10"),
    )

    # When it is sent
    client.create_task(task)

    # Then
    body = route.calls.last.request.content
    assert b'"pickUpTime":"2024-06-06T03:29:15.123Z"' in body
    assert b'"deliveryTime":"2024-06-06T04:29:15.000Z"' in body
    assert b'"deliveryCharges":120.50' in body and b'"subTotal":2080.10' in body
    assert b'"lat":"24.871641"' in body and b'"mappingBranchId":"12345"' in body
    assert b'"type":1' in body
    assert b"customerEmail" not in body  # optional and unset: left out, not null


def test_a_task_delivered_before_its_pick_up_is_refused_locally() -> None:
    payload = json.loads(samples.LOGISTICS_CREATE_TASK_PAYLOAD)
    payload["deliveryTime"] = "2024-06-06T02:00:00.000Z"
    with pytest.raises(ValueError, match="deliveryTime"):
        TaskCreateRequest.model_validate(payload)


def test_update_task_puts_only_the_changed_fields(router, client) -> None:
    route = router.put("/api/client/task").mock(return_value=json_response(samples.LOGISTICS_UPDATE_TASK_RESPONSE, 201))

    answer = client.update_task(
        TaskUpdateRequest(task_id="XYZAB-12345", type=TaskType.NORMAL, instruction="Ring twice", tax=Decimal("12.5"))
    )

    assert sent_json(route) == {"taskId": "XYZAB-12345", "type": 1, "instruction": "Ring twice", "tax": Decimal("12.5")}
    assert answer.task_event is TaskEvent.TASK_UPDATED
    assert answer.data.task_id == "XYZAB-12345"


def test_an_update_must_say_the_task_type() -> None:
    with pytest.raises(ValueError):
        TaskUpdateRequest(task_id="XYZAB-12345")


def test_get_task_status_asks_by_mapping_key_and_parses_the_doc_sample(router, client) -> None:
    route = router.get("/api/client/task/status").mock(
        return_value=json_response(samples.LOGISTICS_TASK_STATUS_RESPONSE)
    )

    status = client.get_task_status("12345678")

    assert route.calls.last.request.url.params["mappingKey"] == "12345678"
    assert status.task_event is TaskEvent.TASK_ACCEPTED
    assert status.data.agent.name == "Test Rider" and status.data.agent.contact == "+923213456789"
    assert status.data.tracking_link == "https://delivery-stg.blinkco.io/tracking/jvkUgPIRN6f8jZg9q62xy"
    assert status.data.reason == ""


def test_get_task_status_needs_a_mapping_key(router, client) -> None:
    with pytest.raises(ValueError):
        client.get_task_status(" ")
    assert router.calls.call_count == 0


def test_a_refused_token_is_an_auth_error_sent_once(router, client, sleep) -> None:
    route = router.post("/api/client/task").mock(return_value=json_response({"message": "Invalid token"}, 401))

    with pytest.raises(VendorAuthError) as caught:
        client.create_task(sample_task())

    assert caught.value.message == "Invalid token" and caught.value.vendor == "blink_logistics"
    assert route.call_count == 1
    assert sleep.waits == []


def test_an_unknown_mapping_key_is_not_found(router, client) -> None:
    router.get("/api/client/task/status").mock(return_value=json_response({"message": "Task not found"}, 404))

    with pytest.raises(VendorNotFound):
        client.get_task_status("nope")


def test_a_server_error_is_retried_then_succeeds(router, client, sleep) -> None:
    route = router.get("/api/client/task/status").mock(
        side_effect=[json_response({}, 502), json_response(samples.LOGISTICS_TASK_STATUS_RESPONSE)]
    )

    status = client.get_task_status("12345678")

    assert status.event_id == 24
    assert route.call_count == 2
    assert len(sleep.waits) == 1


def test_an_answer_with_success_false_is_a_soft_failure(router, client) -> None:
    router.post("/api/client/task").mock(return_value=json_response({"success": False, "message": "Branch not mapped"}))

    with pytest.raises(PermanentVendorError) as caught:
        client.create_task(sample_task())

    assert caught.value.message == "Branch not mapped"


def test_an_answer_with_an_unknown_event_is_refused(router, client) -> None:
    router.get("/api/client/task/status").mock(
        return_value=json_response({"eventId": 99, "event": "TASK_TELEPORTED", "data": {"taskId": "X"}})
    )

    with pytest.raises(PermanentVendorError, match="eventId"):
        client.get_task_status("12345678")


def test_the_token_and_customer_never_reach_the_logs(router, client) -> None:
    router.post("/api/client/task").mock(return_value=json_response(samples.LOGISTICS_CREATE_TASK_RESPONSE, 201))

    with captured_logs() as stream:
        client.create_task(sample_task())

    output = stream.getvalue()
    assert "/api/client/task" in output
    for secret in (TOKEN, "923001234567", "Tariq Road", "Test Customer"):
        assert secret not in output


def test_create_reads_the_token_from_the_merchants_vendor_credentials(router) -> None:
    route = router.get("/api/client/task/status").mock(
        return_value=json_response(samples.LOGISTICS_TASK_STATUS_RESPONSE)
    )
    settings = VendorSettings(blink_logistics_base_url=BASE_URL)
    credentials = VendorCredentials(merchant_id="m-1", blink_logistics=BlinkLogisticsCredentials(token="tok-m-1"))

    BlinkLogisticsClient.create(settings, credentials, transport=httpx.MockTransport(router.handler)).get_task_status(
        "1"
    )

    assert route.calls.last.request.headers["Authorization"] == "Bearer tok-m-1"
    with pytest.raises(MissingVendorCredentials, match="blink_logistics"):
        BlinkLogisticsClient.create(settings, VendorCredentials(merchant_id="m-1"))


def test_naive_times_are_taken_as_utc_whatever_the_machines_timezone(monkeypatch) -> None:
    # Given a machine whose local zone is not UTC
    monkeypatch.setenv("TZ", "Asia/Karachi")
    time.tzset()
    try:
        # When a naive time is validated, or slips in unvalidated through model_copy
        validated = TaskCreateRequest.model_validate(
            {**json.loads(samples.LOGISTICS_CREATE_TASK_PAYLOAD), "pickUpTime": "2024-06-06 03:29:15"}
        )
        copied = sample_task().model_copy(update={"pick_up_time": datetime(2024, 6, 6, 3, 29, 15)})

        # Then both are sent as that wall time in UTC
        assert validated.pick_up_time == datetime(2024, 6, 6, 3, 29, 15, tzinfo=UTC)
        assert validated.to_body()["pickUpTime"] == "2024-06-06T03:29:15.000Z"
        assert copied.to_body()["pickUpTime"] == "2024-06-06T03:29:15.000Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
