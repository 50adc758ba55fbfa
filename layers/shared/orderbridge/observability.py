"""Logger, Tracer and Metrics, created once per container.

Every log line goes through :class:`PiiMaskingFormatter`, so a customer's phone, e-mail or address
cannot reach CloudWatch even when a payload is logged by accident. Powertools' DataMasking
utility works on JSONPath expressions chosen per call; here the rule is "any key that names
personal data, wherever it sits", applied to every record, so the formatter does it directly.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

MASK = "*****"
# The one masking policy: what is personal or secret, by key, in any case, with or without "_"/"-",
# at any depth. Names, phones, e-mails, addresses, coordinates, free-text notes, tokens and the
# locker codes. A key containing one of these parts is masked ...
_PERSONAL_KEY_PARTS = (
    "phone",
    "mobile",
    "msisdn",
    "email",
    "address",
    "contact",
    "customername",
    "fullname",
    "firstname",
    "lastname",
    "latitude",
    "longitude",
    "coordinates",
    "note",
    "comment",
    "instruction",
    "token",
    "password",
    "secret",
    "apikey",
    "authorization",
    "pickupcode",
    "dropoffcode",
)
# ... and so is a key that is exactly one of these: a short name that is also part of other words,
# or a whole object about a person (its value masked entirely). Not "location": Powertools' own key
# for the line of code that logged.
_PERSONAL_KEYS = frozenset(
    {"lat", "lng", "lon", "geo", "customer", "recipient", "receiver", "driver", "agent", "cookie"}
)


def _normal(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def is_pii_key(key: str) -> bool:
    """Whether the value under ``key`` is personal data or a secret (the masking policy)."""
    k = _normal(key)
    return k in _PERSONAL_KEYS or any(part in k for part in _PERSONAL_KEY_PARTS)


def mask_pii(value: Any) -> Any:
    """A copy of ``value`` with every personal or secret key's value replaced by a mask, at any depth."""
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


class _NoSegment(BaseSegment):
    """The subsegment a handler annotates when tracing is off: it records nothing."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """Powertools' tracing provider when tracing is off: no segments, no patches, and no X-Ray SDK.

    Powertools' own "disabled" keeps its default provider, the X-Ray SDK's recorder, so that
    ``aws_xray_sdk.core`` (~30 ms: its recorder, sampling rules, ...) is imported at every cold start
    even when nothing is traced. Powertools takes any ``BaseProvider``; this one does nothing.
    """

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def tracing_disabled() -> bool:
    """Powertools' own rule: off when ``POWERTOOLS_TRACE_DISABLED`` is true (the template's
    ``XRayTracing: off``), or outside Lambda (no ``LAMBDA_TASK_ROOT``, ``sam local``)."""
    return bool(Tracer._is_tracer_disabled())


def make_tracer() -> Tracer:
    """X-Ray (when the template's Tracing parameter leaves it on): the handler's segment and one
    subsegment per AWS and vendor call. Not Powertools' default patch_all, which imports every
    library the X-Ray SDK can trace that is installed (httpx, sqlite3, ...) at cold start: botocore
    is patched when the first AWS client is built (``aws.client``), httpx when the vendor clients are
    (``deps.Deps.vendors``). Responses are never recorded (entry.py). Tracing off: :class:`NoTracing`,
    so the X-Ray SDK's recorder is never imported (only its top-level package, where Powertools
    switches the SDK off: two small modules). Powertools keeps the first Tracer's provider and
    "disabled" for the whole process (class-level config): the environment at import decides."""
    if tracing_disabled():
        return Tracer(auto_patch=False, disabled=True, provider=NoTracing())
    return Tracer(auto_patch=False)


logger = Logger(logger_formatter=PiiMaskingFormatter())
tracer = make_tracer()
metrics = Metrics()
