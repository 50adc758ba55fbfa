"""The reliability suite's byte-level fuzzing (issue 13 point 8): every vendor doc sample, mutated
byte by byte (flipped, dropped, duplicated, inserted, cut short, spliced with another sample), sent
through its real webhook handler — properly authenticated, so the mutation reaches the parser. Each
answer is a 2xx or a 4xx, never a 5xx; a refused request writes nothing.

``make test`` sends a smoke share (seeded, the same every run); ``make reliability``
(``RELIABILITY_FULL=1``) sends 500 per route.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

import jwt
import pytest

from tests.integration.test_hostile_input import _snapshot
from tests.support import samples
from tests.support.apigw import Answer, invoke, proxy_event
from tests.support.hub import BLINK_TOKEN, BLOQ_SECRET, LOGISTICS_TOKEN, PARTNER_TOKEN

pytestmark = pytest.mark.reliability

CASES = 500 if os.environ.get("RELIABILITY_FULL") == "1" else 20


def signed_bloq_headers(raw: bytes) -> dict[str, str]:
    """Bloq.It's signature over the bytes as sent (jsonwebtoken over ``<timestamp>.<body>``)."""
    ts = str(int(time.time() * 1000))
    token = jwt.api_jws.encode(ts.encode() + b"." + raw, BLOQ_SECRET, algorithm="HS256", headers={"typ": None})
    return {"x-bloq-signature": token, "x-bloq-timestamp": ts}


# route → (its sample, its function, its path and resource, its authentication headers for a body)
ROUTES: dict[str, tuple[str, str, str, str, Callable[[bytes], dict[str, str]]]] = {
    "blink_order": (
        "blink_order_webhook.json",
        "BlinkOrderWebhookFunction",
        "/webhooks/blink/orders",
        "/webhooks/blink/orders",
        lambda _: {"X-Webhook-Token": BLINK_TOKEN},
    ),
    "blink_status": (
        "blink_order_status_webhook.json",
        "BlinkOrderStatusWebhookFunction",
        "/webhooks/blink/order-status",
        "/webhooks/blink/order-status",
        lambda _: {"X-Webhook-Token": BLINK_TOKEN},
    ),
    "task_status": (
        "blink_task_status_webhook.json",
        "BlinkTaskStatusWebhookFunction",
        "/webhooks/blink/logistics/task-status",
        "/webhooks/blink/logistics/task-status",
        lambda _: {"X-Webhook-Token": LOGISTICS_TOKEN},
    ),
    "partner_order": (
        "blend_order_created.jsonc",
        "PartnerOrderWebhookFunction",
        "/webhooks/partners/demo-partner/orders",
        "/webhooks/partners/{partner}/orders",
        lambda _: {"X-Webhook-Token": PARTNER_TOKEN},
    ),
    "bloq": (
        "bloq_webhook_callback.json",
        "BloqWebhookFunction",
        "/webhooks/bloq",
        "/webhooks/bloq",
        signed_bloq_headers,
    ),
}


def send(route: str, raw: bytes) -> Answer:
    """``raw`` POSTed to the route as API Gateway passes a body it cannot read as text: base64."""
    _, function, path, resource, auth = ROUTES[route]
    params = {"partner": "demo-partner"} if "{partner}" in resource else None
    event = proxy_event(
        "POST", path, resource=resource, path_params=params, headers=auth(raw), body=raw, base64_body=True
    )
    return invoke(function, event)


# Bytes a mutation inserts: JSON's own syntax, quotes and escapes, numbers' edges, invalid UTF-8.
INTERESTING = [b"{", b"}", b"[", b"]", b'"', b"\\", b",", b":", b"-", b"e309", b"NaN", b"\\ud800", b"\xff", b"\x00"]


def mutate(data: bytes, rng: random.Random, other: bytes) -> bytes:
    """One random mutation of ``data`` (``other``: another sample, for splicing)."""
    at = rng.randrange(len(data))
    match rng.randrange(6):
        case 0:  # flip a bit
            return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]
        case 1:  # drop a run of bytes
            return data[:at] + data[at + rng.randint(1, 16) :]
        case 2:  # repeat a run of bytes
            run = data[at : at + rng.randint(1, 64)]
            return data[:at] + run * rng.randint(2, 50) + data[at:]
        case 3:  # insert something JSON or UTF-8 finds interesting
            return data[:at] + rng.choice(INTERESTING) * rng.randint(1, 8) + data[at:]
        case 4:  # cut short
            return data[:at]
        case _:  # splice with another sample
            cut = rng.randrange(len(other))
            return data[:at] + other[cut:]


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_mutated_samples_get_a_2xx_or_a_4xx_and_a_refusal_writes_nothing(hub, route):
    data = samples.text(ROUTES[route][0]).encode()
    others = [samples.text(sample).encode() for sample, *_ in ROUTES.values() if sample != ROUTES[route][0]]
    rng = random.Random(f"{route}-{CASES}")
    answers: dict[int, int] = {}
    for case in range(CASES):
        body = data
        for _ in range(rng.randint(1, 3)):
            body = mutate(body, rng, rng.choice(others))
        before = _snapshot()
        answer = send(route, body)
        answers[answer.status] = answers.get(answer.status, 0) + 1
        assert answer.status < 500, f"case {case}: {answer.status} {answer.body} for {body[:200]!r}"
        if answer.status >= 400:
            assert _snapshot() == before, f"case {case}: refused with {answer.status} but wrote: {body[:200]!r}"
    # Then every case ran, and the fuzzing reached the refusals (mutations are mostly not JSON)
    assert sum(answers.values()) == CASES
    assert any(status >= 400 for status in answers), answers
