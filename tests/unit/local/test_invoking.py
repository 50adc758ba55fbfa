"""``invoke``'s own rules: which samples an events/ sample needs first, and how a Bloq.It event is
signed at invoke time (checked by the webhook's own verifier)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from orderbridge.config import BloqSignatureSettings
from orderbridge.errors import Unauthorized
from orderbridge.web.auth import verify_bloq_signature
from orderbridge.web.request import WebhookRequest
from orderbridge_local import invoking
from pydantic import SecretStr

EVENTS = Path(__file__).resolve().parents[3] / "events"
SECRET = "dev-only-bloq-secret-for-a-unit-test-0123"  # DEV/TEST-ONLY
HEADERS = BloqSignatureSettings(signature_header="X-Sig", timestamp_header="X-Sig-Time")
SIGNING = invoking.BloqSigning("/webhooks/bloq", SECRET, "X-Sig", "X-Sig-Time")


def _bloq_event(**changes: object) -> dict:
    return {**json.loads((EVENTS / "bloq_webhook.json").read_text()), **changes}


def _request(event: dict) -> WebhookRequest:
    return WebhookRequest.from_proxy_event(event, max_body_bytes=256 * 1024)


def test_a_sample_gets_what_it_needs_first_in_a_days_order():
    # Given the collect sample, which needs the Blend order's rent delivered, expired and returned
    step = invoking.sample_step("CollectRentFunction", EVENTS / "collect_rent.json")
    assert step is not None
    # Then invoke plays exactly those samples first
    assert [s.sample for s in invoking.steps_for(step)] == [
        "partner_order_webhook",
        "reserve_locker",
        "select_locker",
        "make_delivery",
        "notify_locker_customer",
        "return_expired_delivery",
    ]
    # And the sandboxes play the courier's drop-off and the expiry just before the steps that need them
    assert [s.world for s in invoking.steps_for(step) if s.world] == [invoking.DROP_OFF, invoking.EXPIRY]


def test_a_sample_that_needs_nothing_or_a_file_that_is_not_a_sample_gets_nothing():
    assert invoking.steps_for(invoking.sample_step("OpsApiFunction", EVENTS / "ops_api_list_orders.json")) == []
    assert invoking.sample_step("CollectRentFunction", EVENTS / "finish_rent.json") is None  # another's sample
    assert invoking.sample_step("CollectRentFunction", None) is None
    assert invoking.sample_step("CollectRentFunction", Path("-")) is None  # stdin


def test_the_other_rent_ending_is_a_story_of_its_own():
    assert invoking.stories() == ["delivery", invoking.MISSED_DROP_OFF]
    assert [s.sample for s in invoking.story(invoking.MISSED_DROP_OFF)] == [
        "partner_order_webhook",
        "reserve_locker",
        "cancel_rent",
        "finish_rent",
        "release_empty_locker",
    ]


def test_a_bloq_event_is_signed_now_and_the_webhook_verifies_it():
    # Given the Bloq.It sample, carrying a stale signature under another spelling of the header
    event = _bloq_event(headers={"x-sig": "stale", "Accept": "*/*"}, multiValueHeaders={"X-SIG": ["stale"]})
    # When invoke signs it
    signed = SIGNING.sign(event)
    # Then the webhook's own check accepts it, and the old signature is gone
    verify_bloq_signature(_request(signed), [SecretStr(SECRET)], HEADERS)
    assert {k for k in signed["headers"] if k.lower() == "x-sig"} == {"X-Sig"}
    assert signed["headers"]["Accept"] == "*/*"
    assert (
        signed["multiValueHeaders"]["X-Sig"] == [signed["headers"]["X-Sig"]]
        and "X-SIG" not in signed["multiValueHeaders"]
    )
    # over the body as sent (base64-decoded), with a millisecond timestamp of now
    assert abs(int(signed["headers"]["X-Sig-Time"]) / 1000 - time.time()) < 60
    assert event["headers"]["x-sig"] == "stale"  # the event itself is left as it was


def test_a_signature_with_another_secret_or_an_old_timestamp_is_refused():
    event = _bloq_event()
    with pytest.raises(Unauthorized):
        verify_bloq_signature(_request(SIGNING.sign(event)), [SecretStr("another-secret-of-32-characters-x")], HEADERS)
    old = int((time.time() - 3600) * 1000)
    with pytest.raises(Unauthorized):
        verify_bloq_signature(_request(SIGNING.sign(event, now_ms=old)), [SecretStr(SECRET)], HEADERS)


def test_only_events_for_the_bloq_route_are_signed():
    assert SIGNING.applies_to(_bloq_event())
    assert not SIGNING.applies_to(json.loads((EVENTS / "blink_order_webhook.json").read_text()))
    assert not SIGNING.applies_to({"order_id": "x"})  # an action's input
    assert not invoking.BloqSigning(None, SECRET, "a", "b").applies_to(_bloq_event())


def test_a_plain_text_body_is_signed_as_it_is():
    body = '{"_id":"evt-1","codeName":"rent.expired","rent":"r-1"}'
    signed = SIGNING.sign(_bloq_event(body=body, isBase64Encoded=False))
    verify_bloq_signature(_request(signed), [SecretStr(SECRET)], HEADERS)
    encoded = SIGNING.sign(_bloq_event(body=base64.b64encode(body.encode()).decode(), isBase64Encoded=True))
    assert _request(encoded).body == body
    verify_bloq_signature(_request(encoded), [SecretStr(SECRET)], HEADERS)
