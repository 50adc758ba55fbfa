"""Logger, Tracer and Metrics, created once per container.

Every log line goes through :class:`PiiMaskingFormatter`, so a customer's phone, e-mail or address
cannot reach CloudWatch even when a payload is logged by accident. Powertools' DataMasking
utility works on JSONPath expressions chosen per call; here the rule is "any key that names
personal data, wherever it sits", applied to every record, so the formatter does it directly.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord

MASK = "*****"
_PII_KEY_PARTS = ("phone", "email", "address", "contact", "customer_name", "full_name", "customername")
# Keys that contain a PII word but carry none (ids and flags about the data, not the data).
_NOT_PII = frozenset({"customer_address_latitude", "customer_address_longitude"})


def is_pii_key(key: str) -> bool:
    k = key.lower()
    return k not in _NOT_PII and any(part in k for part in _PII_KEY_PARTS)


def mask_pii(value: Any) -> Any:
    """A copy of ``value`` with every PII-named key's value replaced by a mask, at any depth."""
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and is_pii_key(k) and v not in (None, "") else mask_pii(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_pii(v) for v in value]
    return value


class PiiMaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: LogRecord) -> str:
        masked: dict[str, Any] = mask_pii(log)
        return super().serialize(masked)


logger = Logger(logger_formatter=PiiMaskingFormatter())
tracer = Tracer()
metrics = Metrics()
