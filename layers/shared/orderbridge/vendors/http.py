"""The HTTP foundation every vendor client stands on.

One :class:`VendorHttpClient` per vendor API and merchant, built once per container. It gives each
client the same behaviour:

- explicit connect/read timeouts;
- every non-2xx answer, timeout and dropped connection raised as a :class:`VendorError`, split into
  :class:`RetryableVendorError` (429, 5xx, timeouts, connection failures) and
  :class:`PermanentVendorError` (other 4xx), with the vendor's own message and code from the body;
- retries declared with tenacity: bounded attempts, exponential backoff with full jitter, and the
  vendor's ``Retry-After`` honoured (capped) when it sends one; permanent errors are never retried;
- the invocation's :class:`Deadline` respected when one is set (:func:`vendor_deadline`, set by the
  action runtime from the Lambda's remaining time): no request's timeouts reach past it, and a
  retry whose wait would leave the next request less than :data:`MIN_REQUEST_SECONDS` is not made
  — the last retryable error is raised at once (its ``retry_after`` kept; a 429 asking for longer
  than is left is raised as :class:`VendorRateLimited`) and the workflow's own ``Retry`` tries
  again later, instead of the Lambda timing out in the middle of a wait;
- one log line per attempt (method, path without query, status, duration, attempt) and nothing
  else: never headers, tokens, bodies, query values or customer data;
- one ``VendorErrors`` metric value per attempt, by ``Vendor`` (:func:`count_vendor_call`): the
  per-vendor error rate the alarms and the dashboard in ``template.yaml`` read;
- ``Decimal`` in and out: JSON bodies are written and read without going through ``float``.
"""

from __future__ import annotations

import itertools
import json as jsonlib
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, TypeVar

import httpx
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from orderbridge.observability import logger, metrics

# Backoff between attempts when the vendor does not say how long to wait: full jitter
# (a random wait between 0 and min(BACKOFF_MAX, BACKOFF_MULTIPLIER * 2**attempt) seconds).
BACKOFF_MULTIPLIER = 0.5
BACKOFF_MAX_SECONDS = 8.0
# Vendor messages end up in exceptions and logs: keep them short.
MAX_MESSAGE_CHARS = 500
USER_AGENT = "orderbridge/0.1"
# The least time a request is started with before the invocation's deadline (its timeouts are cut
# to what is left): with less it could only time out, and a timed-out request that changes
# something at the vendor leaves its outcome in doubt. A retry is made only if its wait leaves
# this much; a first request with less left is not sent but raised as a RetryableVendorError.
MIN_REQUEST_SECONDS = 2.0


class VendorError(Exception):
    """A vendor API call failed.

    ``status_code`` is the HTTP status (None when no answer arrived), ``vendor_code`` the vendor's
    own error code from the body when it sends one, ``retry_after`` the seconds the vendor asked us
    to wait (429 with ``Retry-After``).
    """

    retryable: bool = False
    # The vendor answered 2xx in a shape we cannot read (:func:`parse_answer`): whatever the request
    # asked for may have been done.
    unreadable_answer: bool = False

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status_code: int | None = None,
        vendor_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.message = message
        self.status_code = status_code
        self.vendor_code = vendor_code
        self.retry_after = retry_after

    def __str__(self) -> str:
        status = f" HTTP {self.status_code}" if self.status_code is not None else ""
        code = f" [{self.vendor_code}]" if self.vendor_code else ""
        return f"{self.vendor}{status}{code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class RetryableVendorError(VendorError):
    """Worth trying again later: rate limited, vendor-side failure, timeout, dropped connection."""

    retryable = True


class VendorRateLimited(RetryableVendorError):
    """429 with a ``Retry-After`` longer than the invocation has left: the vendor asked us to come
    back later than the function can wait. Raised instead of the 429's ``RetryableVendorError``
    (same fields, ``retry_after`` kept) under a :func:`vendor_deadline`, so that the workflow can
    wait longer before its retry than it does for other retryable errors."""


class PermanentVendorError(VendorError):
    """Trying again will not help: the request, the credentials or the state is wrong."""

    retryable = False


class VendorAuthError(PermanentVendorError):
    """401/403: credentials missing, wrong or not allowed."""


class VendorNotFound(PermanentVendorError):
    """404: the resource does not exist at the vendor."""


class VendorConflict(PermanentVendorError):
    """409: the resource's state at the vendor does not allow the request."""


class VendorOutcomeUnknown(PermanentVendorError):
    """A call the vendor offers no way to look up (:meth:`VendorHttpClient.request` with
    ``once=True``) may have had its effect: the request was sent and no clear answer came back
    (a timeout after sending, a dropped connection, a 5xx other than 503). Sending it again could
    make a second order or delivery, so it is not retried: a person checks at the vendor."""


def error_for_status(
    vendor: str,
    status_code: int | None,
    message: str,
    *,
    vendor_code: str | None = None,
    retry_after: float | None = None,
    http_status: int | None = None,
) -> VendorError:
    """The :class:`VendorError` that ``status_code`` means.

    ``status_code`` classifies the error; ``http_status`` (default: the same) is what the error
    records. They differ for soft failures, where a 200 answer carries an error code in its body.
    """
    recorded = status_code if http_status is None else http_status
    kwargs: dict[str, Any] = {"status_code": recorded, "vendor_code": vendor_code}
    if status_code is None:
        return PermanentVendorError(vendor, message, **kwargs)
    # 408 is the server saying our request took too long to arrive: a timeout, so retryable.
    if status_code in (408, 429) or 500 <= status_code <= 599:
        return RetryableVendorError(vendor, message, retry_after=retry_after, **kwargs)
    if status_code in (401, 403):
        return VendorAuthError(vendor, message, **kwargs)
    if status_code == 404:
        return VendorNotFound(vendor, message, **kwargs)
    if status_code == 409:
        return VendorConflict(vendor, message, **kwargs)
    return PermanentVendorError(vendor, message, **kwargs)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def decode_json(response: httpx.Response) -> Any:
    """The response body as JSON, with every non-integer number a ``Decimal`` (never ``float``)."""
    try:
        return jsonlib.loads(response.content, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PermanentVendorError(
            _vendor_of(response), "the answer is not JSON", status_code=response.status_code
        ) from exc


def _vendor_of(response: httpx.Response) -> str:
    """The vendor name VendorHttpClient tags its requests with ("vendor" for a hand-built response)."""
    try:
        request = response.request
    except RuntimeError:  # a response built without a request
        return "vendor"
    return str(request.extensions.get("orderbridge_vendor", "vendor"))


M = TypeVar("M", bound=BaseModel)


def parse_answer(vendor: str, model: type[M], body: Any, *, status_code: int | None = None) -> M:
    """``body`` validated as ``model``.

    An answer off the documented shape is a :class:`PermanentVendorError` that names the fields
    only: pydantic's own message would echo the values, customer data among them.
    """
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(part) for part in error["loc"]) or "(body)" for error in exc.errors())
        error = PermanentVendorError(
            vendor,
            f"the answer does not match {model.__name__} at: {fields}"[:MAX_MESSAGE_CHARS],
            status_code=status_code,
        )
        error.unreadable_answer = True
        raise error from None


# The standard library cannot write a Decimal as a JSON number without passing it through float
# (which rounds 0.1 + 0.2 style) and the project has no simplejson: so a small writer of our own,
# delegating every leaf except Decimal to the standard encoder.
def encode_json(value: Any) -> bytes:
    """``value`` as compact JSON bytes; ``Decimal`` written as a number, digit for digit."""
    parts: list[str] = []
    _write_json(value, parts)
    return "".join(parts).encode("utf-8")


def _write_json(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as a JSON number")
        out.append(str(value))
    elif isinstance(value, Enum) and not isinstance(value, str | int):
        _write_json(value.value, out)
    elif value is None or isinstance(value, str | int | float | bool):
        out.append(jsonlib.dumps(value, allow_nan=False, ensure_ascii=False))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if index:
                out.append(",")
            out.append(jsonlib.dumps(key, ensure_ascii=False))
            out.append(":")
            _write_json(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write_json(item, out)
        out.append("]")
    elif isinstance(value, datetime | date):
        out.append(jsonlib.dumps(value.isoformat()))
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _flatten(value: Any) -> str:
    """A vendor's error detail (string, list of strings, field -> messages) as one line."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_flatten(item)}" for key, item in value.items() if item not in (None, ""))
    if isinstance(value, list | tuple):
        return "; ".join(text for text in (_flatten(item) for item in value) if text)
    return str(value).strip()


def describe_vendor_body(body: Any) -> tuple[str | None, str | None]:
    """The vendor's own error message and code from a decoded body, when it has them.

    Blink answers ``{"msg": ..., "error": ...}``, Bloq.It ``{"code": ..., "message": ...}``,
    DispatchNINJA ``{"code": "...", "status": "...", "response": {"message": ...}}``.
    """
    if not isinstance(body, Mapping):
        return None, None
    message = _flatten(body.get("message")) or _flatten(body.get("msg"))
    detail = _flatten(body.get("error"))
    if detail and detail != message:
        message = f"{message}: {detail}" if message else detail
    if not message and isinstance(body.get("status"), str):
        message = body["status"].strip()
    nested = body.get("response")
    if isinstance(nested, Mapping):
        nested_message = _flatten(nested.get("message"))
        if nested_message and nested_message not in message:
            message = f"{message}: {nested_message}" if message else nested_message
    codes = (body[key] for key in ("code", "error_code", "errorCode") if body.get(key) not in (None, ""))
    raw_code = next(codes, None)
    code = None if raw_code is None or isinstance(raw_code, Mapping | list) else str(raw_code)
    return (message[:MAX_MESSAGE_CHARS] or None), code


def raise_for_vendor_status(vendor: str, response: httpx.Response) -> None:
    """Raise the :class:`VendorError` a non-2xx ``response`` means; return quietly on 2xx."""
    if response.is_success:
        return
    try:
        body = jsonlib.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        body = None  # an HTML error page or nothing: its text is not worth carrying
    message, code = describe_vendor_body(body)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    raise error_for_status(
        vendor,
        response.status_code,
        message or f"HTTP {response.status_code} {response.reason_phrase}".strip(),
        vendor_code=code,
        retry_after=retry_after,
    )


# --- the invocation's deadline ---------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """The moment by which the vendor calls of one invocation must be over.

    ``at`` is a reading of ``clock`` (monotonic seconds by default; tests pass a fake clock).
    """

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        """Seconds left until the deadline (negative once it has passed)."""
        return self.at - self.clock()


# The deadline belongs to the invocation, not to the client: clients are built once per container
# and serve every invocation after, so each call reads the deadline of the context it runs in.
_DEADLINE: ContextVar[Deadline | None] = ContextVar("orderbridge_vendor_deadline", default=None)


@contextmanager
def vendor_deadline(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Within the block, every :class:`VendorHttpClient` call ends by ``deadline`` (None: no
    deadline, as in scripts and tests); the deadline that held before is restored after it."""
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


def current_deadline() -> Deadline | None:
    """The deadline set by the innermost :func:`vendor_deadline`, if any."""
    return _DEADLINE.get()


# Failures where the request may simply be tried again; other transport errors (unsupported
# protocol, a malformed request of ours, too many redirects) are bugs, not weather.
_RETRYABLE_TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Failures that prove the request never reached the vendor: no connection was made (refused, DNS,
# TLS — httpx raises ConnectError for each), or none was free in our own pool. Only these are
# retried for a call sent ``once``.
_NEVER_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Answers that say the vendor did not act on the request (assumed; docs/vendor-assumptions.md):
# rate limited, or unavailable. Any other 5xx may come after the vendor acted.
_NOT_ACTED_STATUSES = frozenset({429, 503})


VENDOR_ERRORS_METRIC = "VendorErrors"


def vendor_failed_us(error: VendorError | None) -> bool:
    """Whether an attempt's outcome counts against the vendor's health: no answer or a 5xx / 429 /
    timeout (retryable), or its refusal of our credentials. Other 4xx answers (not found, conflict,
    invalid) are about our request, not the vendor, and do not count."""
    return error is not None and (error.retryable or isinstance(error, VendorAuthError))


def count_vendor_call(vendor: str, error: VendorError | None) -> None:
    """One ``VendorErrors`` value for an attempt: 1 when :func:`vendor_failed_us`, else 0 - so its
    Sum is the vendor's errors, its SampleCount the calls and its Average the error rate, by the
    ``Vendor`` dimension (with Powertools' ``service``). Its own metric line (``single_metric``): the
    ``Vendor`` dimension must not reach the invocation's other metrics. Without a metrics namespace
    (a script, not a Lambda) nothing is written."""
    if not metrics.namespace:
        return
    value = 1 if vendor_failed_us(error) else 0
    with single_metric(
        name=VENDOR_ERRORS_METRIC, unit=MetricUnit.Count, value=value, namespace=metrics.namespace
    ) as metric:
        metric.add_dimension(name="Vendor", value=vendor)


class wait_retry_after_or(wait_base):  # noqa: N801 - tenacity's naming for wait strategies
    """Wait what the vendor asked (``Retry-After``, capped at ``cap`` seconds), else ``fallback``."""

    def __init__(self, fallback: wait_base, *, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: Any) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(error, VendorError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.cap)
        return float(self.fallback(retry_state))


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, RetryableVendorError)


def _never_acted(error: RetryableVendorError) -> bool:
    """The request did not reach the vendor (no connection), or its answer says it was not acted on."""
    if error.status_code is not None:  # an answer: by its HTTP status, or the code inside a 200
        return error.status_code in _NOT_ACTED_STATUSES or error.vendor_code in {str(s) for s in _NOT_ACTED_STATUSES}
    return isinstance(error.__cause__, _NEVER_SENT_ERRORS)


@dataclass(frozen=True)
class _Outgoing:
    """What one request sends, the same on every attempt: the query and a JSON or a form body."""

    query: dict[str, Any]
    content: bytes | None
    form: dict[str, Any] | None
    headers: dict[str, str]

    @classmethod
    def of(cls, params: Mapping[str, Any] | None, *, json: Any, data: Mapping[str, Any] | None) -> _Outgoing:
        """``params`` and ``data`` entries that are None are left out; ``json`` keeps Decimal exact."""
        if json is not None and data is not None:
            raise ValueError("send either json or data, not both")
        query = {key: value for key, value in (params or {}).items() if value is not None}
        form = {key: value for key, value in data.items() if value is not None} if data is not None else None
        if json is None:
            return cls(query, None, form, {})
        return cls(query, encode_json(json), form, {"Content-Type": "application/json"})


def _rate_limited(error: RetryableVendorError) -> VendorRateLimited:
    return VendorRateLimited(
        error.vendor,
        error.message,
        status_code=error.status_code,
        vendor_code=error.vendor_code,
        retry_after=error.retry_after,
    )


def _asks_to_wait_past_deadline(error: VendorError) -> bool:
    """A 429 whose ``Retry-After`` (as the vendor sent it, uncapped) leaves no time for another
    request before the invocation's deadline."""
    deadline = current_deadline()
    return (
        deadline is not None
        and error.status_code == 429
        and error.retry_after is not None
        and error.retry_after + MIN_REQUEST_SECONDS > deadline.remaining()
    )


class stop_before_deadline(stop_base):  # noqa: N801 - tenacity's naming for stop strategies
    """Stop retrying when the coming wait would leave less than ``request_seconds`` for the next
    request before the invocation's deadline (see :func:`vendor_deadline`; none set: never stops).

    Needs tenacity's order of work (9.x): the wait is computed before the stop is asked, so
    ``retry_state.upcoming_sleep`` is the wait about to be slept (as in tenacity's own
    ``stop_before_delay``). ``on_stop(retry_state, seconds_left)`` is told when it stops.
    """

    def __init__(self, request_seconds: float, *, on_stop: Callable[[Any, float], None] | None = None) -> None:
        self.request_seconds = request_seconds
        self.on_stop = on_stop

    def __call__(self, retry_state: Any) -> bool:
        deadline = current_deadline()
        if deadline is None:
            return False
        left = deadline.remaining()
        if left >= retry_state.upcoming_sleep + self.request_seconds:
            return False
        if self.on_stop is not None:
            self.on_stop(retry_state, left)
        return True


class VendorHttpClient:
    """An httpx client for one vendor API, with timeouts, error mapping, retries and call logs."""

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_attempts: int = 4,
        max_retry_after: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.vendor = vendor
        self.max_attempts = max_attempts
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
            auth=auth,
            timeout=self._timeout,
            transport=transport,
            follow_redirects=False,
        )
        self._retrying = Retrying(
            # A retry is made only if its wait leaves the next request MIN_REQUEST_SECONDS before
            # the invocation's deadline (its timeouts are cut to what is left); else the workflow
            # retries. (read_timeout here would ask room for the whole read timeout instead.)
            stop=stop_after_attempt(max_attempts)
            | stop_before_deadline(MIN_REQUEST_SECONDS, on_stop=self._log_retry_left_to_workflow),
            wait=wait_retry_after_or(
                wait_random_exponential(multiplier=BACKOFF_MULTIPLIER, max=BACKOFF_MAX_SECONDS),
                cap=max_retry_after,
            ),
            retry=retry_if_exception(_is_retryable),
            sleep=sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )

    @classmethod
    def from_settings(
        cls,
        vendor: str,
        base_url: str,
        settings: Any,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> VendorHttpClient:
        """A client with the timeouts and retry budget of ``settings`` (``config.VendorSettings``)."""
        return cls(
            vendor=vendor,
            base_url=base_url.rstrip("/"),
            headers=headers,
            auth=auth,
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            max_attempts=settings.max_attempts,
            transport=transport,
            sleep=sleep,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        check: Callable[[httpx.Response], None] | None = None,
        check_error: Callable[[httpx.Response], None] | None = None,
        once: bool = False,
    ) -> httpx.Response:
        """Send a request (retrying what is retryable) and return the 2xx response.

        ``params`` entries that are None are left out. ``json`` is written with :func:`encode_json`
        (Decimal stays exact); ``data`` is sent as a URL-encoded form. Anything but a 2xx answer is
        raised as a :class:`VendorError`.

        ``check`` looks at each 2xx answer inside the attempt and may raise a :class:`VendorError`
        for a soft failure; a :class:`RetryableVendorError` from it is retried like a 5xx.
        ``check_error`` looks at each non-2xx answer first and may raise a more specific
        :class:`VendorError` than its status gives (e.g. a vendor's documented not-found answer).

        Under a :func:`vendor_deadline`, each request's timeouts end by the deadline, a request
        with less than :data:`MIN_REQUEST_SECONDS` left is not sent (a retryable error), and a
        retry whose wait leaves less than that is not made: the last error is raised instead —
        as :class:`VendorRateLimited` when it is a 429 asking for longer than is left.

        ``once`` is for a call with an effect the vendor offers no way to look up (a new order, a
        new delivery): it is repeated only when it provably never reached the vendor (no
        connection, or a 429/503 answer); any other failure after sending is raised as
        :class:`VendorOutcomeUnknown`, never retried.
        """
        outgoing = _Outgoing.of(params, json=json, data=data)
        attempts = itertools.count(1)

        def send_once() -> httpx.Response:
            request = self._client.build_request(
                method.upper(),
                path,
                params=outgoing.query or None,
                content=outgoing.content,
                data=outgoing.form,
                headers=outgoing.headers,
                timeout=self._timeout_within_deadline(),
            )
            request.extensions["orderbridge_vendor"] = self.vendor
            try:
                return self._send(request, attempt=next(attempts), check=check, check_error=check_error)
            except RetryableVendorError as error:
                if once and not _never_acted(error):
                    raise VendorOutcomeUnknown(
                        self.vendor,
                        f"sent, but its outcome is unknown ({error.message})",
                        status_code=error.status_code,
                        vendor_code=error.vendor_code,
                    ) from error
                raise

        try:
            return self._retrying(send_once)
        except RetryableVendorError as error:
            if _asks_to_wait_past_deadline(error):
                raise _rate_limited(error) from error
            raise

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> VendorHttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _timeout_within_deadline(self) -> httpx.Timeout:
        """The client's timeouts, each cut to the time left before the deadline (if one is set)."""
        deadline = current_deadline()
        if deadline is None:
            return self._timeout
        left = deadline.remaining()
        if left < MIN_REQUEST_SECONDS:
            raise RetryableVendorError(
                self.vendor, f"not sent: {max(left, 0.0):.1f} s left before the invocation's deadline"
            )
        timeout = self._timeout
        return httpx.Timeout(
            connect=min(timeout.connect or left, left),
            read=min(timeout.read or left, left),
            write=min(timeout.write or left, left),
            pool=min(timeout.pool or left, left),
        )

    def _send(
        self,
        request: httpx.Request,
        *,
        attempt: int,
        check: Callable[[httpx.Response], None] | None = None,
        check_error: Callable[[httpx.Response], None] | None = None,
    ) -> httpx.Response:
        started = time.perf_counter()
        status: int | None = None
        error: VendorError | None = None
        try:
            try:
                response = self._client.send(request)
            except _RETRYABLE_TRANSPORT_ERRORS as exc:
                raise RetryableVendorError(self.vendor, str(exc) or type(exc).__name__) from exc
            except httpx.HTTPError as exc:
                raise PermanentVendorError(self.vendor, str(exc) or type(exc).__name__) from exc
            status = response.status_code
            if check_error is not None and not response.is_success:
                check_error(response)
            raise_for_vendor_status(self.vendor, response)
            if check is not None:
                check(response)
            return response
        except VendorError as exc:
            error = exc
            raise
        finally:
            self._log_call(request, status=status, started=started, attempt=attempt, error=error)

    def _log_call(
        self,
        request: httpx.Request,
        *,
        status: int | None,
        started: float,
        attempt: int,
        error: VendorError | None,
    ) -> None:
        fields: dict[str, Any] = {
            "vendor": self.vendor,
            "method": request.method,
            "path": request.url.path,  # never the query: it can carry phones and filters
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "attempt": attempt,
        }
        if error is not None:
            fields["error"] = type(error).__name__
            if error.vendor_code:
                fields["vendor_code"] = error.vendor_code
            logger.warning("vendor call failed", extra=fields)
        else:
            logger.info("vendor call", extra=fields)
        count_vendor_call(self.vendor, error)

    def _log_retry_left_to_workflow(self, retry_state: Any, seconds_left: float) -> None:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        logger.warning(
            "vendor call cut short by the invocation's deadline: retry left to the workflow",
            extra={
                "vendor": self.vendor,
                "attempt": retry_state.attempt_number,
                "wait_seconds": round(retry_state.upcoming_sleep, 3),
                "seconds_left": round(seconds_left, 3),
                "error": type(error).__name__ if error is not None else None,
                "status": getattr(error, "status_code", None),
            },
        )

    def _log_retry(self, retry_state: Any) -> None:
        logger.info(
            "vendor call retry scheduled",
            extra={
                "vendor": self.vendor,
                "attempt": retry_state.attempt_number,
                "wait_seconds": round(retry_state.upcoming_sleep, 3),
            },
        )
