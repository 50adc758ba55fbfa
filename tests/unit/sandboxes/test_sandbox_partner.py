"""Delivery partner sandbox (Blend order_created sender), over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from orderbridge.models.blend import BlendOrderCreated
from orderbridge_local.sandboxes.base import ServerHandle
from orderbridge_local.sandboxes.partner import PartnerSandbox, PartnerSettings


def serve(receiver, **settings: object) -> ServerHandle:
    config = PartnerSettings(
        webhook_url=f"{receiver.url}/webhooks/partners/blend?token=partner-token", backoff_seconds=0.01, **settings
    )
    return PartnerSandbox(config).serve()


@pytest.fixture
def partner(receiver) -> Iterator[ServerHandle]:
    handle = serve(receiver, webhook_mode="sync")
    try:
        yield handle
    finally:
        handle.stop()


def test_place_order_sends_the_doc_sample_with_a_fresh_id_and_records_our_answer(
    partner: ServerHandle, http: httpx.Client, receiver
) -> None:
    # Given our endpoint answers the doc's success
    receiver.answer((200, {"order_id": "55", "status": "success"}))

    # When the partner places an order with a note
    answer = http.post(f"{partner.url}/_admin/place-order", json={"payload": {"note": "No onions"}})

    # Then our endpoint got the sample (comments removed) with the token in the URL
    assert answer.status_code == 201
    (hook,) = receiver.wait_for(1)
    assert hook.path == "/webhooks/partners/blend" and hook.query == {"token": "partner-token"}
    body = hook.json
    assert (body["event"], body["branch_id"]) == ("order_created", "14589")
    assert body["payload"]["note"] == "No onions"
    assert body["payload"]["id"].startswith("DP-") and body["payload"]["id"] != "order_id"
    assert body["payload"]["items"][0] == {
        "id": "1", "quantity": 2, "price": 25, "note": "", "options": [{"id": "1", "price": 10, "quantity": 2}],
    }  # fmt: skip
    assert BlendOrderCreated.model_validate(body).payload.total == 50

    # And the partner recorded our answer
    delivery = answer.json()["delivery"]
    assert (delivery["status"], delivery["order_id"], delivery["attempts"]) == ("success", "55", [200])
    stored = http.get(f"{partner.url}/_admin/orders/{body['payload']['id']}").json()
    assert stored["answer"] == {"order_id": "55", "status": "success"}


def test_place_order_retries_on_503_then_records_the_answer(
    partner: ServerHandle, http: httpx.Client, receiver
) -> None:
    # Given our endpoint is unavailable twice, then accepts
    receiver.answer(
        (503, {"message": "busy"}), (503, {"message": "busy"}), (200, {"order_id": "77", "status": "success"})
    )

    # When the partner places an order
    delivery = http.post(f"{partner.url}/_admin/place-order", json={}).json()["delivery"]

    # Then it was sent three times, the same body each time, and the final answer recorded
    hooks = receiver.wait_for(3)
    assert len({hook.raw for hook in hooks}) == 1
    assert delivery["attempts"] == [503, 503, 200]
    assert (delivery["status"], delivery["order_id"]) == ("success", "77")
    log = http.get(f"{partner.url}/_admin/webhooks").json()
    assert [(w["attempt"], w["status"]) for w in log] == [(1, 503), (2, 503), (3, 200)]


def test_retries_stop_after_max_retries(receiver, http: httpx.Client) -> None:
    receiver.default = (500, {"error": "down"})
    handle = serve(receiver, webhook_mode="sync", max_retries=2)
    try:
        delivery = http.post(f"{handle.url}/_admin/place-order", json={}).json()["delivery"]
    finally:
        handle.stop()

    assert delivery["attempts"] == [500, 500, 500]
    assert delivery["status"] == "undelivered"
    assert len(receiver.received) == 3


def test_a_failed_answer_is_recorded_and_not_retried_by_default(
    partner: ServerHandle, http: httpx.Client, receiver
) -> None:
    receiver.answer((200, {"order_id": "", "status": "failed"}))

    delivery = http.post(f"{partner.url}/_admin/place-order", json={"branch_id": "unknown"}).json()["delivery"]

    assert (delivery["status"], delivery["order_id"], delivery["attempts"]) == ("failed", "", [200])
    assert len(receiver.received) == 1


def test_raw_body_and_given_ids_are_sent_as_they_are(partner: ServerHandle, http: httpx.Client, receiver) -> None:
    raw = {"event": "order_created", "branch_id": "14589", "payload": {"id": "EXT-1", "items": []}}

    http.post(f"{partner.url}/_admin/place-order", json={"raw": raw}).raise_for_status()
    again = http.post(f"{partner.url}/_admin/place-order", json={"payload": {"id": "EXT-1"}})

    assert receiver.wait_for(1)[0].json == raw
    assert again.status_code == 409  # partners send globally unique order ids


def test_thread_mode_delivers_in_the_background(receiver, http: httpx.Client, wait_until) -> None:
    receiver.answer((503, {}), (200, {"order_id": "9", "status": "success"}))
    handle = serve(receiver)  # default webhook_mode="thread"
    try:
        answer = http.post(f"{handle.url}/_admin/place-order", json={}).json()
        order_id = answer["order"]["payload"]["id"]
        done = wait_until(
            lambda: (order := http.get(f"{handle.url}/_admin/orders/{order_id}").json())["status"] != "queued" and order
        )
    finally:
        handle.stop()

    assert answer["webhooks"][0]["status"] == "queued"
    assert (done["status"], done["attempts"]) == ("success", [503, 200])
