"""Customer phone numbers, addresses and e-mails never reach the logs."""

from __future__ import annotations

import io
import json

from aws_lambda_powertools import Logger
from orderbridge.observability import MASK, PiiMaskingFormatter, logger, mask_pii


def test_nested_pii_keys_are_masked_and_other_keys_kept():
    data = {
        "customer": {"phone": "+923300000000", "email": "a@b.test", "address": "XYZ road"},
        "customer_phone": "+92333",
        "customer_address_description": "Flat 1",
        "customer_address_latitude": "24.9",
        "agent": {"name": "Rider", "contact": "+92321"},
        "items": [{"name": "Burger", "price": "10"}],
        "order_id": "o-1",
    }
    masked = mask_pii(data)
    assert masked["customer"] == {"phone": MASK, "email": MASK, "address": MASK}
    assert masked["customer_phone"] == MASK
    assert masked["customer_address_description"] == MASK
    assert masked["agent"]["contact"] == MASK
    assert masked["customer_address_latitude"] == "24.9"
    assert masked["items"] == [{"name": "Burger", "price": "10"}]
    assert masked["order_id"] == "o-1"


def test_the_service_logger_masks_pii():
    assert isinstance(logger.registered_formatter, PiiMaskingFormatter)


def test_log_lines_carry_no_phone_even_when_a_payload_is_logged():
    stream = io.StringIO()
    log = Logger(service="pii-test", logger_formatter=PiiMaskingFormatter(), stream=stream)
    log.info("payload", extra={"payload": {"customer_phone": "+923300000000", "customer_name": "John Doe"}})
    line = stream.getvalue().strip().splitlines()[-1]
    assert "+923300000000" not in line and "John Doe" not in line
    assert json.loads(line)["payload"]["customer_phone"] == MASK
