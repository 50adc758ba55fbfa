"""The order stream handler, fed with the records moto's DynamoDB stream really produced."""

from __future__ import annotations

import pytest
from orderbridge.deps import get_deps
from orderbridge.domain.ids import order_id_for
from orderbridge.domain.waits import WaitKind
from orderbridge.workflow.signals import Signaller

from tests.integration.workflow.test_signals import StepFunctionsRecorder
from tests.support import samples
from tests.support.apigw import LambdaContext, handler_module

ORDER_ID = order_id_for("blink", "1236589")


def _record(event_name: str, new: dict | None, old: dict | None = None) -> dict:
    """A DynamoDB stream record as Lambda delivers it (moto's in-process mock has no streams API;
    the local stack's e2e tests run the real stream)."""
    from orderbridge.store.dynamo import to_attrs

    image = new or old or {}
    record = {
        "eventID": "1",
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/OrdersTable/stream/x",
        "dynamodb": {
            "Keys": to_attrs({"pk": image["pk"], "sk": image["sk"]}),
            "SequenceNumber": "1",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    if new is not None:
        record["dynamodb"]["NewImage"] = to_attrs(new)
    if old is not None:
        record["dynamodb"]["OldImage"] = to_attrs(old)
    return record


def _meta() -> dict:
    from orderbridge.store.orders import order_key

    from tests.conftest import table_items

    return next(i for i in table_items("OrdersTable") if {"pk": i["pk"], "sk": i["sk"]} == order_key(ORDER_ID))


@pytest.fixture
def recorder(seeded, monkeypatch):
    recorder = StepFunctionsRecorder()
    monkeypatch.setenv("ORDER_WORKFLOW_ARN", "arn:aws:states:eu-west-1:123456789012:stateMachine:orders")
    from orderbridge.config import get_settings

    get_settings.cache_clear()
    get_deps.cache_clear()
    get_deps().stepfunctions = recorder
    yield recorder
    get_deps.cache_clear()


def _run_stream(*records: dict):
    module = handler_module("OrderStreamFunction")
    return module.lambda_handler({"Records": list(records)}, LambdaContext(function_name="OrderStreamFunction"))


def test_a_new_order_starts_its_workflow_once(hub, recorder):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    insert = _record("INSERT", _meta())
    answer = _run_stream(insert)
    assert answer == {"batchItemFailures": []}
    assert recorder.calls == [("start", ORDER_ID)]
    _run_stream(insert)  # the same record again (a replay)
    assert recorder.calls == [("start", ORDER_ID)]


def test_timeline_events_and_unchanged_tracks_do_nothing(hub, recorder):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    meta = _meta()
    event = {"pk": meta["pk"], "sk": "EVENT#x", "kind": "test"}
    _run_stream(_record("INSERT", event), _record("MODIFY", meta | {"updated_at": "later"}, meta))
    assert recorder.calls == []


def test_a_status_that_settles_a_wait_resumes_the_workflow(hub, recorder):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    Signaller.of(get_deps()).register(ORDER_ID, WaitKind.PICKUP, "tok-1", timeout_seconds=60)
    before = _meta()
    hub.blink_status(samples.text("blink_order_status_webhook.json"))  # Blink rejects the order
    _run_stream(_record("MODIFY", _meta(), before))
    assert ("failure", "tok-1", "OrderRejected") in recorder.calls


def test_registering_a_wait_applies_the_events_kept_for_a_courier_job_that_replaced_another(hub, recorder, seeded):
    # Given an order whose first courier job was replaced by a second one ("t-2") after a cancel —
    # a change of its courier job, which the order stream's filter does not pass (only a first one)
    from datetime import UTC, datetime

    from orderbridge.domain.statuses import TrackUpdate
    from orderbridge.models.order import TimelineEvent

    hub.blink_order(samples.text("blink_order_webhook.json"))
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    for job, key in (("t-1", "first"), ("t-2", "second")):
        event = TimelineEvent(event_key=key, source="test", kind="test", received_at=now, summary=key)
        seeded.orders.link_vendor(ORDER_ID, event, follow=TrackUpdate("courier_status", "TASK_CREATED", 20, owner=job))
    # and the second courier's pickup (TASK_STARTED) that came before the job was linked, kept
    started = {"eventId": 26, "event": "TASK_STARTED", "data": {"taskId": "t-2", "type": 1, "reason": ""}}
    assert hub.task_status(started).status == 202
    # When the workflow parks on the courier's pickup
    module = handler_module("RegisterWaitFunction")
    answer = module.lambda_handler(
        {
            "order_id": ORDER_ID,
            "execution": ORDER_ID,
            "wait": "courier_picked_up",
            "token": "tok-1",
            "timeout_seconds": 600,
        },
        LambdaContext(function_name="RegisterWaitFunction"),
    )
    # Then the kept event is applied first and settles the wait at once
    assert answer["settled_now"] is True and recorder.calls == [("success", "tok-1")]
    assert _meta()["courier_status"] == "TASK_STARTED" and "waiting_for" not in _meta()
