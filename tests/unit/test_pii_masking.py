"""Customer phone numbers, addresses and e-mails never reach the logs."""

from __future__ import annotations

import io
import json

import pytest
from aws_lambda_powertools import Logger
from orderbridge.observability import MASK, PiiMaskingFormatter, logger, mask_pii


def test_nested_pii_keys_are_masked_and_other_keys_kept():
    data = {
        "customer": {"name": "Ayesha Khan", "phone": "+923300000000"},
        "customer_phone": "+92333",
        "customer_address_description": "Flat 1",
        "customer_address_latitude": "24.9",
        "delivery": {"house_num": "B-1203", "latitude": 24.918682, "lng": 67.1},
        "agent": {"name": "Rider", "contact": "+92321"},
        "items": [{"name": "Burger", "price": "10", "notes": "no onions, ring Ayesha"}],
        "order_id": "o-1",
        "rent_id": "r-1",
        "location": "handler:12",
    }
    masked = mask_pii(data)
    assert masked["customer"] == MASK and masked["agent"] == MASK
    assert masked["customer_phone"] == MASK
    assert masked["customer_address_description"] == MASK
    assert masked["customer_address_latitude"] == MASK
    assert masked["delivery"] == {"house_num": "B-1203", "latitude": MASK, "lng": MASK}
    assert masked["items"] == [{"name": "Burger", "price": "10", "notes": MASK}]
    assert (masked["order_id"], masked["rent_id"], masked["location"]) == ("o-1", "r-1", "handler:12")


@pytest.mark.parametrize(
    "key",
    [
        "customer_name",
        "customerName",
        "full_name",
        "first_name",
        "lastName",  # names
        "mobile",
        "msisdn",
        "phoneNumber",
        "customer_email",  # phones, e-mails
        "client_address",
        "lat",
        "longitude",
        "coordinates",  # addresses, coordinates
        "note",
        "kitchen_notes",
        "comments",
        "instructions",
        "special_instructions",  # free text
        "token",
        "courier_token",
        "password",
        "api_key",
        "X-Api-Key",
        "Authorization",  # secrets
        "pickUpCode",
        "drop_off_code",  # the locker codes
    ],
)
def test_the_policy_masks_every_kind_of_personal_data_and_secret(key):
    assert mask_pii({key: "value"}) == {key: MASK}


@pytest.mark.parametrize("key", ["order_id", "name", "status", "branch_id", "price", "location", "code"])
def test_the_policy_keeps_what_is_not_personal(key):
    assert mask_pii({key: "value"}) == {key: "value"}


def test_the_service_logger_masks_pii():
    assert isinstance(logger.registered_formatter, PiiMaskingFormatter)


def test_log_lines_carry_no_phone_even_when_a_payload_is_logged():
    stream = io.StringIO()
    log = Logger(service="pii-test", logger_formatter=PiiMaskingFormatter(), stream=stream)
    log.info("payload", extra={"payload": {"customer_phone": "+923300000000", "customer_name": "John Doe"}})
    line = stream.getvalue().strip().splitlines()[-1]
    assert "+923300000000" not in line and "John Doe" not in line
    assert json.loads(line)["payload"]["customer_phone"] == MASK
