"""Only Blink Logistics' own "no task for this key" answer means "no task yet".

The doc shows no error answer for Get Task Status; the assumed one (vendors/blink_logistics.py,
``is_task_not_found``) is what the local sandbox answers. Any other failure of the lookup must
stop the courier action rather than let it create a second task.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx
from orderbridge.actions.courier import _existing_task
from orderbridge.config import VendorSettings
from orderbridge.models.states import TaskEvent
from orderbridge.vendors.blink_logistics import TASK_STATUS_PATH, BlinkLogisticsClient, TaskNotFound
from orderbridge.vendors.credentials import BlinkLogisticsCredentials
from orderbridge.vendors.http import RetryableVendorError, VendorAuthError, VendorNotFound
from orderbridge_local.sandboxes.base import ServerHandle
from orderbridge_local.sandboxes.blink_logistics import BlinkLogisticsSandbox

from . import samples
from .support import SleepRecorder, json_response

BASE_URL = "https://stg-delivery.blinkco.io"
KEY = "01HZYORDERKEY"


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


def client_for(router: respx.Router, base_url: str = BASE_URL) -> BlinkLogisticsClient:
    return BlinkLogisticsClient.create(
        VendorSettings(blink_logistics_base_url=base_url, max_attempts=2),
        BlinkLogisticsCredentials(token="tok"),
        transport=httpx.MockTransport(router.handler),
        sleep=SleepRecorder(),
    )


def not_found_body(key: str) -> dict[str, object]:
    return {"statusCode": 404, "message": f"No task with mappingKey {key}", "error": "Not Found"}


# --- the client ------------------------------------------------------------------------------------


def test_the_assumed_not_found_answer_naming_our_key_is_task_not_found(router) -> None:
    # Given Blink Logistics answering its not-found for the key we asked about
    router.get(TASK_STATUS_PATH).mock(return_value=json_response(not_found_body(KEY), 404))

    # When we ask for the task's status, Then it is TaskNotFound (still a VendorNotFound)
    with pytest.raises(TaskNotFound) as raised:
        client_for(router).get_task_status(KEY)
    assert isinstance(raised.value, VendorNotFound) and raised.value.status_code == 404


@pytest.mark.parametrize(
    "answer",
    [
        # a not-found about something else (another key, no key at all)
        json_response(not_found_body("SOMEONE-ELSE"), 404),
        json_response({"message": "Task not found"}, 404),
        # NestJS's own answer for a route it does not have: it echoes the path and our query
        json_response(
            {"statusCode": 404, "message": f"Cannot GET {TASK_STATUS_PATH}?mappingKey={KEY}", "error": "Not Found"},
            404,
        ),
        # a load balancer's or web server's page
        httpx.Response(404, text="<html><body>404 Not Found</body></html>"),
    ],
    ids=["other-key", "no-key", "router-404", "html-404"],
)
def test_any_other_404_stays_a_plain_vendor_not_found(router, answer) -> None:
    router.get(TASK_STATUS_PATH).mock(return_value=answer)

    with pytest.raises(VendorNotFound) as raised:
        client_for(router).get_task_status(KEY)

    assert not isinstance(raised.value, TaskNotFound)


def test_a_task_that_exists_is_returned_as_before(router) -> None:
    router.get(TASK_STATUS_PATH).mock(return_value=json_response(samples.LOGISTICS_TASK_STATUS_RESPONSE))

    assert client_for(router).get_task_status("12345678").task_event is TaskEvent.TASK_ACCEPTED


# --- against the sandbox (the assumption's other half) ---------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[ServerHandle]:
    handle = BlinkLogisticsSandbox({"webhook_mode": "sync"}).serve()
    try:
        yield handle
    finally:
        handle.stop()


def sandbox_client(base_url: str) -> BlinkLogisticsClient:
    return BlinkLogisticsClient.create(
        VendorSettings(blink_logistics_base_url=base_url, max_attempts=1),
        BlinkLogisticsCredentials(token=BlinkLogisticsSandbox.settings_model().api_token),
    )


def test_the_sandboxs_answer_for_an_unknown_key_is_task_not_found(sandbox) -> None:
    with pytest.raises(TaskNotFound):
        sandbox_client(sandbox.url).get_task_status(KEY)


def test_a_wrong_base_url_on_the_sandbox_is_not_taken_for_no_task(sandbox) -> None:
    # Given a base URL with a path the service does not have (a configuration mistake)
    client = sandbox_client(f"{sandbox.url}/v2")

    # When we look for a task, Then the 404 is not "no task yet"
    with pytest.raises(VendorNotFound) as raised:
        client.get_task_status(KEY)
    assert not isinstance(raised.value, TaskNotFound)


# --- the courier action's "task exists?" lookup ------------------------------------------------------


class FakeLogistics:
    def __init__(self, outcome: object) -> None:
        self.outcome = outcome
        self.asked: list[str] = []

    def get_task_status(self, key: str) -> object:
        self.asked.append(key)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def test_no_task_yet_only_on_task_not_found() -> None:
    logistics = FakeLogistics(TaskNotFound("blink_logistics", "no task for this mapping key", status_code=404))

    assert _existing_task(logistics, KEY) is None
    assert logistics.asked == [KEY]


@pytest.mark.parametrize(
    "failure",
    [
        VendorNotFound("blink_logistics", "HTTP 404 Not Found", status_code=404),
        VendorAuthError("blink_logistics", "Unauthorized", status_code=401),
        RetryableVendorError("blink_logistics", "HTTP 503", status_code=503),
    ],
    ids=["plain-404", "401", "503"],
)
def test_any_other_lookup_failure_ends_the_action_as_it_is(failure) -> None:
    # Given the lookup failing in any other way
    logistics = FakeLogistics(failure)

    # When the action looks for an existing task, Then the failure propagates unchanged
    with pytest.raises(type(failure)) as raised:
        _existing_task(logistics, KEY)
    assert raised.value is failure
