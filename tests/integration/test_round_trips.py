"""What a webhook costs in AWS round trips before it answers (counted botocore calls).

Design limits: a new order at most 3 round trips, a duplicate delivery at most 1. The webhook
secret is read once per container and cached (Powertools Parameters, 5 minutes), so it is
counted separately: the container's first request pays one GetSecretValue more.
"""

from __future__ import annotations

import json

import pytest
from orderbridge.domain.ids import order_id_for

from tests.support import samples


@pytest.fixture
def warm(hub, aws_calls):
    """A container that has served a request (secrets cached), with the call log emptied."""
    hub.blink_status({"blink_order_id": "warm-up", "status": 1})  # unmatched; reads the secret
    aws_calls.clear()
    return aws_calls


def test_first_request_of_a_container_reads_the_secret_once(hub, aws_calls):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    hub.blink_order(samples.load("blink_order_webhook.json") | {"blink_order_id": "2"})
    assert aws_calls.count(("secretsmanager", "GetSecretValue")) == 1


def test_new_blink_order_costs_two_round_trips(hub, warm):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    assert warm == [("dynamodb", "BatchGetItem"), ("dynamodb", "TransactWriteItems")]


def test_new_partner_order_costs_three_round_trips(hub, warm):
    hub.partner_order(samples.text("blend_order_created.jsonc"))
    assert warm == [("dynamodb", "BatchGetItem"), ("dynamodb", "BatchGetItem"), ("dynamodb", "TransactWriteItems")]


@pytest.mark.parametrize("kind", ["blink", "partner"])
def test_duplicate_delivery_costs_one_round_trip(hub, warm, kind):
    send = hub.blink_order if kind == "blink" else hub.partner_order
    body = samples.text("blink_order_webhook.json" if kind == "blink" else "blend_order_created.jsonc")
    send(body)
    warm.clear()
    send(body)
    assert warm == [("dynamodb", "BatchGetItem")]


def test_status_change_costs_two_and_a_late_status_three(hub, warm):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    warm.clear()
    hub.blink_status({"blink_order_id": "1236589", "status": 2, "created_at": "2024-06-26 10:00:00"})
    assert len(warm) == 2
    warm.clear()
    hub.blink_status({"blink_order_id": "1236589", "status": 1, "created_at": "2024-06-26 09:00:00"})
    assert warm == [
        ("dynamodb", "BatchGetItem"),
        ("dynamodb", "TransactWriteItems"),
        ("dynamodb", "TransactWriteItems"),
    ]


def test_rent_event_costs_two_round_trips(hub, seeded, warm):
    from datetime import UTC, datetime

    from orderbridge.models.rent import Rent

    hub.blink_order(samples.text("blink_order_webhook.json"))
    seeded.rents.put(
        Rent(rent_id="r1", order_id=order_id_for("blink", "1236589"), created_at=datetime(2026, 1, 1, tzinfo=UTC))
    )
    warm.clear()
    hub.bloq(json.dumps({"_id": "e1", "codeName": "rent.reserved", "rent": "r1"}))
    assert warm == [("dynamodb", "GetItem"), ("dynamodb", "TransactWriteItems")]
