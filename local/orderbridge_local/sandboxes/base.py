"""What every vendor sandbox shares: a WSGI app with in-memory state, admin routes, fault
injection, request and webhook logs, outbound webhooks, a background ticker, and a server.

A sandbox is a WSGI application (werkzeug ``Request``/``Response`` and a ``werkzeug.routing.Map``)
whose state lives in memory under one lock. ``sandbox.serve(host="127.0.0.1", port=0)`` serves it
with ``werkzeug.serving.make_server(..., threaded=True)`` in a daemon thread and returns a
:class:`ServerHandle` (``.url``, ``.port``, ``.sandbox``, ``.stop()``, usable as a context manager).
``stop()`` shuts the server down, closes its socket, waits for the requests in flight, stops the
webhook worker and the ticker, and joins every thread it started.

Only loopback hosts are accepted: the sandboxes never listen on, nor (unless told otherwise)
send webhooks to, anything but 127.0.0.1 / localhost.

Settings common to every sandbox (:class:`SandboxSettings`)
-----------------------------------------------------------
``seed``
    Seeds the two random generators (ids and codes; fault draws). ``POST /_admin/reset`` re-seeds
    both, and setting faults re-seeds the fault draws, so a run is reproducible.
``webhook_mode``
    ``"sync"``: outbound webhooks are sent before the request (or admin command) that caused them
    is answered, and the admin command's answer carries their records. ``"thread"`` (default, like
    a real vendor): they are queued and sent in order by one worker thread.
``webhook_timeout_seconds``
    Timeout of each outbound webhook POST.
``allow_non_loopback_webhooks``
    Default ``False``: a webhook to a host other than 127.0.0.1/localhost/::1 is not sent and is
    recorded with ``status: "refused"``.
``fault_timeout_seconds``
    How long a request is held when the ``timeout`` fault is on (then answered 504).
``public_url``
    Base URL the sandbox uses when it builds absolute URLs (pagination links, tracking links).
    Default: the URL it is served on.
``tick_seconds``
    Period of the background ticker (auto-advance, expiry), for sandboxes that have one.
``log_limit``
    How many request and webhook records are kept (oldest dropped first). Fixed at construction.

Admin routes (every sandbox; never subject to faults, never recorded as vendor requests)
-----------------------------------------------------------------------------------------
``GET /_admin/health``
    ``{"name", "url"}``.
``GET|POST /_admin/outages``, ``DELETE /_admin/outages/<id>``
    Named outages (:class:`Outage`): each answers an error to the requests of one kind that carry
    given strings (an order's id), until it is ended; several at once.
``GET|POST|DELETE /_admin/faults``
    POST replaces the fault settings with the JSON body (fields of :class:`FaultSettings`:
    ``error_rate`` 0..1, ``status_code`` (default 503), ``retry_after_seconds`` (sent as a
    ``Retry-After: <n>`` header with each injected error, e.g. a 429), ``latency_ms``, ``timeout``,
    ``process_before_timeout``, ``drop_webhooks``, ``paths`` — optional path prefixes the faults
    are limited to). DELETE clears them. Faults apply to the vendor API routes only.
``GET /_admin/requests``
    Every vendor-API request received, oldest first: ``method``, ``path``, ``query``, ``headers``,
    ``body`` (parsed JSON, form fields, or text), ``status`` (what the sandbox answered), ``fault``
    (which fault, if any, answered it), ``time``. Filters: ``?method=``, ``?path=`` (prefix).
``GET /_admin/in_flight``
    The vendor-API requests being served right now (held by latency or a timeout fault, or being
    processed), oldest first: ``method``, ``path``, ``client`` (the caller's ``host:port``, to tell
    which process made the call), ``since``.
``GET /_admin/webhooks``
    Every webhook the sandbox sent (one record per attempt): ``id``, ``delivery``, ``attempt``,
    ``label``, ``url``, ``headers``, ``body`` (parsed), ``raw_body`` (the exact bytes sent, as
    text), ``status`` (the receiver's HTTP status, or ``"dropped"``, ``"error"``, ``"refused"``,
    ``"discarded"``), ``answer`` (the receiver's body), ``error``, ``time``. ``?flush=1`` first
    waits (bounded) for queued webhooks; ``?label=`` and ``?url=`` (prefix) filter.
``GET|POST /_admin/settings``
    Read the settings, or merge a JSON object into them (validated), e.g. to point a webhook URL
    at a receiver that started after the sandbox.
``POST /_admin/reset``
    Clears faults, the request and webhook logs, and the vendor state (back to its seed data),
    and re-seeds the random generators. Body ``{"keep_state": true}`` keeps the vendor state.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

logger = logging.getLogger("orderbridge_local.sandboxes")

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# --------------------------------------------------------------------------------------- time


def utcnow() -> datetime:
    return datetime.now(UTC)


def sql_time(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC (Blink, DispatchNINJA)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso_ms(moment: datetime) -> str:
    """``2020-10-13T14:56:39.561Z`` (Bloq.It, JavaScript ``Date.toISOString``)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 or ``YYYY-MM-DD HH:MM[:SS]`` string as an aware UTC datetime (naive = UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# ----------------------------------------------------------------------------------- settings


class SandboxSettings(BaseModel):
    """Knobs every sandbox has (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 20250101
    webhook_mode: Literal["sync", "thread"] = "thread"
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    allow_non_loopback_webhooks: bool = False
    fault_timeout_seconds: float = Field(default=30.0, ge=0, le=600)
    public_url: str | None = None
    tick_seconds: float = Field(default=0.1, gt=0, le=60)
    log_limit: int = Field(default=10_000, ge=1)


class FaultSettings(BaseModel):
    """Fault injection on the vendor API routes (``POST /_admin/faults``)."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    status_code: int = Field(default=503, ge=400, le=599)
    # Sent as ``Retry-After: <n>`` (delay-seconds) with each injected error answer.
    retry_after_seconds: int | None = Field(default=None, ge=0, le=86_400)
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    timeout: bool = False
    # With ``timeout``: process the request first, then hold the answer (a lost answer).
    process_before_timeout: bool = False
    drop_webhooks: bool = False
    paths: list[str] = Field(default_factory=list)

    def applies_to(self, path: str) -> bool:
        return not self.paths or any(path.startswith(prefix) for prefix in self.paths)


class Outage(BaseModel):
    """A named outage of one kind of call (``POST /_admin/outages``): every request whose path starts
    with one of ``paths`` and whose text (path, query and body) holds every string of ``contains``
    is answered ``status_code`` until the outage is removed. Unlike the random faults, several
    outages can be on at once, each scoped to one order (its id in the request), so concurrent
    scenarios on one sandbox do not disturb each other."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    paths: list[str] = Field(min_length=1)
    contains: list[str] = Field(default_factory=list)
    method: str | None = None
    status_code: int = Field(default=503, ge=400, le=599)

    def matches(self, request: Request, text: str) -> bool:
        if self.method and request.method.upper() != self.method.upper():
            return False
        if not any(request.path.startswith(prefix) for prefix in self.paths):
            return False
        return all(needle in text for needle in self.contains)


# ------------------------------------------------------------------------------ replies, errors


@dataclass
class Reply:
    """What a route handler returns; serialised as JSON by the dispatcher."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # Admin commands: add the records of the webhooks this request caused as ``"webhooks"``.
    attach_webhooks: bool = False


class ApiError(Exception):
    """Raised by handlers to answer with an error (already in the vendor's error shape)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class WebhookJob:
    """One outbound webhook: built under the state lock, sent after it is released."""

    url: str | None
    body: Any
    label: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # Called with the exact body text at send time; returns extra headers (e.g. a signature).
    headers_factory: Callable[[str], dict[str, str]] | None = None
    raw: str | None = None
    retries: int = 0
    backoff_seconds: float = 0.0
    retry_if: Callable[[dict[str, Any]], bool] | None = None
    on_done: Callable[[list[dict[str, Any]]], None] | None = None
    delivery: int = 0


# ------------------------------------------------------------------------------------ helpers


def json_body(request: Request) -> Any:
    """The request's JSON body, ``{}`` when empty; ``None`` when it is not valid JSON."""
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except ValueError:
        return None


def recorded_body(request: Request) -> Any:
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # Parsed (and cached) by werkzeug; the raw stream may already be consumed.
        return request.form.to_dict(flat=True)
    data = request.get_data(cache=True)
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


def flat_query(request: Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        out[key] = values[0] if len(values) == 1 else values
    return out


def page_of(items: list[Any], page: int, per_page: int) -> tuple[list[Any], int]:
    """The items of 1-based ``page`` and the number of the last page (at least 1)."""
    last_page = max(1, math.ceil(len(items) / per_page)) if per_page > 0 else 1
    if per_page <= 0:
        return list(items), last_page
    start = (page - 1) * per_page
    return items[start : start + per_page], last_page


def number(value: Any) -> int | float | None:
    """A vendor's numeric string ("66.67", "90") as a JSON number (int when integral)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else value
    try:
        parsed = float(str(value).replace(",", ""))
    except ValueError:
        return None
    return int(parsed) if parsed.is_integer() else parsed


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` merged into a copy of ``base``: nested objects merged, anything else replaced."""
    merged = json.loads(json.dumps(base))
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def is_loopback_url(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return host in LOOPBACK_HOSTS


# ------------------------------------------------------------------------------------ sandbox


class _QuietHandler(WSGIRequestHandler):
    """No access log; HTTP/1.0 so no keep-alive connection outlives ``stop()``."""

    protocol_version = "HTTP/1.0"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class ServerHandle:
    """A served sandbox: ``url``, ``port``, ``sandbox``, ``stop()``."""

    def __init__(self, sandbox: Sandbox, server: BaseWSGIServer, thread: threading.Thread, url: str) -> None:
        self.sandbox = sandbox
        self.url = url
        self.port = server.socket.getsockname()[1]
        self._server = server
        self._thread = thread
        self._stopped = False

    def stop(self, timeout: float = 5.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.sandbox._begin_stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout)
        self.sandbox._finish_stop(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Sandbox:
    """Base class of the vendor sandboxes. Subclasses provide the vendor routes and state."""

    name: ClassVar[str] = "sandbox"
    settings_model: ClassVar[type[SandboxSettings]] = SandboxSettings

    def __init__(self, settings: SandboxSettings | dict[str, Any] | None = None) -> None:
        if settings is None:
            settings = self.settings_model()
        elif isinstance(settings, dict):
            settings = self.settings_model.model_validate(settings)
        self.settings = settings
        self._lock = threading.RLock()  # vendor state
        self._log_lock = threading.Lock()  # request and webhook logs
        self._stopping = threading.Event()
        self._faults = FaultSettings()
        self._outages: dict[str, Outage] = {}
        self._requests: deque[dict[str, Any]] = deque(maxlen=settings.log_limit)
        self._webhooks: deque[dict[str, Any]] = deque(maxlen=settings.log_limit)
        self._webhook_ids = itertools.count(1)
        self._delivery_ids = itertools.count(1)
        self._pending = threading.local()
        self._inflight = 0
        self._inflight_cond = threading.Condition()
        self._held: dict[int, dict[str, Any]] = {}  # vendor-API requests being served, by serial
        self._held_ids = itertools.count(1)
        self._served_url: str | None = None
        self._handle: ServerHandle | None = None
        self._threads: list[threading.Thread] = []
        self._queue: deque[WebhookJob | None] = deque()
        self._queue_cond = threading.Condition()
        self._queue_busy = 0
        self._http: httpx.Client | None = None
        self._seed_rngs()
        rules = self._common_rules() + self.vendor_rules() + self.admin_rules()
        self._url_map = Map(rules, strict_slashes=False, merge_slashes=False)
        with self._lock:
            self.reset_state()

    # ------------------------------------------------------------------ subclass hooks

    def vendor_rules(self) -> list[Rule]:
        """The vendor API routes (``Rule(path, methods=..., endpoint=<bound method>)``)."""
        return []

    def admin_rules(self) -> list[Rule]:
        """Vendor-specific admin commands under ``/_admin/``."""
        return []

    def reset_state(self) -> None:
        """(Re)build the vendor state from the seed data. Called under the state lock."""

    def needs_ticker(self) -> bool:
        return False

    def tick(self, now: datetime) -> None:
        """Called every ``tick_seconds`` under the state lock while served (if ``needs_ticker``)."""

    def error_body(self, status: int, message: str, **extra: Any) -> Any:
        """The vendor's error shape."""
        return {"error": message, "status": status, **extra}

    # ------------------------------------------------------------------ helpers for subclasses

    def now(self) -> datetime:
        return utcnow()

    def error(self, status: int, message: str, **extra: Any) -> ApiError:
        return ApiError(status, self.error_body(status, message, **extra))

    def base_url(self, request: Request | None = None) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        if self._served_url:
            return self._served_url
        if request is not None:
            return request.host_url.rstrip("/")
        return "http://127.0.0.1"

    def emit_webhook(self, job: WebhookJob) -> WebhookJob:
        """Queue a webhook to be sent once the current handler (or tick) releases the lock."""
        job.delivery = next(self._delivery_ids)
        pending: list[WebhookJob] | None = getattr(self._pending, "jobs", None)
        if pending is None:
            # Outside a handler or tick (e.g. a direct Python call): send right away.
            self._dispatch([job])
        else:
            pending.append(job)
        return job

    def int_arg(self, request: Request, name: str, default: int, minimum: int = 1) -> int:
        raw = request.args.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self.error(400, f"{name} must be an integer") from None
        if value < minimum:
            raise self.error(400, f"{name} must be >= {minimum}")
        return value

    def random_digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def random_chars(self, count: int, alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(count))

    # ------------------------------------------------------------------ python API (tests, stack)

    def configure(self, **changes: Any) -> None:
        """Merge ``changes`` into the settings (validated)."""
        with self._lock:
            merged = {**self.settings.model_dump(), **changes}
            self.settings = self.settings_model.model_validate(merged)

    def set_faults(self, faults: FaultSettings | dict[str, Any] | None) -> None:
        if faults is None:
            faults = FaultSettings()
        elif isinstance(faults, dict):
            faults = FaultSettings.model_validate(faults)
        with self._log_lock:
            # Re-seeded: a given fault setting draws the same errors from the moment it is set.
            self._fault_rng = random.Random(self.settings.seed + 1)
            self._faults = faults

    def requests_log(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return list(self._requests)

    def webhooks_log(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return list(self._webhooks)

    def reset(self, keep_state: bool = False) -> None:
        self.flush_webhooks(timeout=0)
        with self._queue_cond:
            self._queue.clear()
        self._faults = FaultSettings()
        with self._log_lock:
            self._outages.clear()
        with self._log_lock:
            self._requests.clear()
            self._webhooks.clear()
        with self._lock:
            self._seed_rngs()
            if not keep_state:
                self.reset_state()

    def flush_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until the webhook queue is empty (thread mode). True when it is."""
        deadline = time.monotonic() + timeout
        with self._queue_cond:
            while self._queue or self._queue_busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue_cond.wait(min(remaining, 0.05))
        return True

    # ------------------------------------------------------------------ serving

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"sandboxes only listen on loopback, not {host!r}")
        if self._handle is not None:
            raise RuntimeError(f"{self.name} sandbox is already served at {self._handle.url}")
        self._stopping.clear()
        self._http = httpx.Client(timeout=self.settings.webhook_timeout_seconds, trust_env=False)
        server = make_server(host, port, self, threaded=True, request_handler=_QuietHandler)
        bound_port = server.socket.getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host
        url = f"http://{url_host}:{bound_port}"
        self._served_url = url
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.name}-http", daemon=True
        )
        thread.start()
        self._threads = [
            self._start_thread(self._webhook_worker, f"{self.name}-webhooks"),
        ]
        if self.needs_ticker():
            self._threads.append(self._start_thread(self._ticker, f"{self.name}-ticker"))
        self._handle = ServerHandle(self, server, thread, url)
        return self._handle

    def _start_thread(self, target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _begin_stop(self) -> None:
        self._stopping.set()
        with self._queue_cond:
            self._queue.clear()
            self._queue.append(None)
            self._queue_cond.notify_all()

    def _finish_stop(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._inflight_cond:
            while self._inflight and time.monotonic() < deadline:
                self._inflight_cond.wait(0.05)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        if self._http is not None:
            self._http.close()
            self._http = None
        self._handle = None
        self._served_url = None

    def _ticker(self) -> None:
        while not self._stopping.wait(self.settings.tick_seconds):
            try:
                self._run_locked(lambda: self.tick(self.now()))
            except Exception:  # a broken tick must not kill the ticker
                logger.exception("%s sandbox tick failed", self.name)

    def _run_locked(self, work: Callable[[], Any]) -> tuple[Any, list[dict[str, Any]]]:
        """Run ``work`` under the state lock, then send the webhooks it emitted."""
        self._pending.jobs = []
        try:
            with self._lock:
                result = work()
        finally:
            jobs: list[WebhookJob] = self._pending.jobs
            self._pending.jobs = None
        return result, self._dispatch(jobs)

    # ------------------------------------------------------------------ webhooks

    def _dispatch(self, jobs: list[WebhookJob]) -> list[dict[str, Any]]:
        if not jobs:
            return []
        if self.settings.webhook_mode == "sync" or self._handle is None:
            records: list[dict[str, Any]] = []
            for job in jobs:
                records.extend(self._deliver(job))
            return records
        with self._queue_cond:
            self._queue.extend(jobs)
            self._queue_cond.notify_all()
        return [{"delivery": job.delivery, "label": job.label, "url": job.url, "status": "queued"} for job in jobs]

    def _webhook_worker(self) -> None:
        while True:
            with self._queue_cond:
                while not self._queue:
                    self._queue_cond.wait(0.5)
                job = self._queue.popleft()
                if job is None:
                    self._queue_cond.notify_all()
                    return
                self._queue_busy += 1
            try:
                self._deliver(job)
            except Exception:
                logger.exception("%s sandbox webhook delivery failed", self.name)
            finally:
                with self._queue_cond:
                    self._queue_busy -= 1
                    self._queue_cond.notify_all()

    def _deliver(self, job: WebhookJob) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        raw = job.raw if job.raw is not None else json.dumps(job.body)
        for attempt in range(1, job.retries + 2):
            record: dict[str, Any] = {
                "id": next(self._webhook_ids),
                "delivery": job.delivery,
                "attempt": attempt,
                "label": job.label,
                "url": job.url,
                "headers": {},
                "body": job.body,
                "raw_body": raw,
                "status": None,
                "answer": None,
                "error": None,
                "time": utcnow().isoformat(),
            }
            if self._stopping.is_set():
                record["status"] = "discarded"
            elif self._faults.drop_webhooks:
                record["status"] = "dropped"
            elif not job.url:
                record["status"] = "refused"
                record["error"] = "no webhook URL configured"
            elif not self.settings.allow_non_loopback_webhooks and not is_loopback_url(job.url):
                record["status"] = "refused"
                record["error"] = "non-loopback webhook URL (allow_non_loopback_webhooks is off)"
            else:
                self._post(job, raw, record)
            with self._log_lock:
                self._webhooks.append(record)
            records.append(record)
            retry = (
                job.retry_if is not None
                and job.retry_if(record)
                and record["status"]
                not in (
                    "dropped",
                    "refused",
                    "discarded",
                )
            )
            if not retry or attempt > job.retries:
                break
            if self._stopping.wait(job.backoff_seconds * (2 ** (attempt - 1))):
                break
        if job.on_done is not None:
            with self._lock:
                job.on_done(records)
        return records

    def _post(self, job: WebhookJob, raw: str, record: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": f"orderbridge-sandbox/{self.name}"}
        headers.update(job.headers)
        if job.headers_factory is not None:
            headers.update(job.headers_factory(raw))
        record["headers"] = headers
        client = self._http
        owned = client is None
        if client is None:
            client = httpx.Client(timeout=self.settings.webhook_timeout_seconds, trust_env=False)
        started = time.monotonic()
        try:
            answer = client.post(job.url or "", content=raw.encode("utf-8"), headers=headers)
            record["status"] = answer.status_code
            try:
                record["answer"] = answer.json()
            except ValueError:
                record["answer"] = answer.text
        except httpx.HTTPError as exc:
            record["status"] = "error"
            record["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
            if owned:
                client.close()

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._inflight_cond:
            self._inflight += 1
        serial = self._hold(environ)
        try:
            response = self._respond(Request(environ))
        finally:
            if serial is not None:
                with self._log_lock:
                    self._held.pop(serial, None)
            with self._inflight_cond:
                self._inflight -= 1
                self._inflight_cond.notify_all()
        return response(environ, start_response)

    def _hold(self, environ: dict[str, Any]) -> int | None:
        """Note a vendor-API request as being served (``GET /_admin/in_flight``); its serial."""
        path = str(environ.get("PATH_INFO") or "")
        if path.startswith("/_admin"):
            return None
        serial = next(self._held_ids)
        entry = {
            "method": environ.get("REQUEST_METHOD"),
            "path": path,
            "client": f"{environ.get('REMOTE_ADDR')}:{environ.get('REMOTE_PORT')}",
            "since": utcnow().isoformat(),
        }
        with self._log_lock:
            self._held[serial] = entry
        return serial

    def _json_response(self, reply: Reply) -> Response:
        # Under the state lock: a reply may share objects that a webhook worker updates.
        with self._lock:
            body = json.dumps(reply.body)
        return Response(body, status=reply.status, headers=reply.headers, mimetype="application/json")

    def _respond(self, request: Request) -> Response:
        is_admin = request.path.startswith("/_admin")
        fault_name: str | None = None
        faults = self._faults
        hold_after = False
        reply: Reply | None = None
        if not is_admin and faults.applies_to(request.path):
            if faults.latency_ms:
                self._stopping.wait(faults.latency_ms / 1000)
            if faults.timeout and not faults.process_before_timeout:
                self._stopping.wait(self.settings.fault_timeout_seconds)
                fault_name = "timeout"
                reply = Reply(self.error_body(504, "Gateway Timeout (injected fault)"), 504)
            elif faults.timeout:
                hold_after = True
            if reply is None and faults.error_rate > 0:
                with self._log_lock:
                    draw = self._fault_rng.random()
                if draw < faults.error_rate:
                    fault_name = "error"
                    status = faults.status_code
                    reply = Reply(self.error_body(status, f"Injected fault {status}"), status)
                    if faults.retry_after_seconds is not None:
                        reply.headers["Retry-After"] = str(faults.retry_after_seconds)
        if reply is None and not is_admin and self._outages:
            outage = self._outage_for(request)
            if outage is not None:
                fault_name = f"outage:{outage.id}"
                reply = Reply(
                    self.error_body(outage.status_code, f"Injected outage {outage.status_code}"), outage.status_code
                )
        if reply is None:
            reply = self._route(request)
        if hold_after:
            self._stopping.wait(self.settings.fault_timeout_seconds)
            fault_name = "timeout"
            reply = Reply(self.error_body(504, "Gateway Timeout (injected fault)"), 504)
        if fault_name:
            reply.headers["X-Sandbox-Fault"] = fault_name
        if not is_admin:
            self._record_request(request, reply.status, fault_name)
        return self._json_response(reply)

    def _outage_for(self, request: Request) -> Outage | None:
        text = request.full_path + "\n" + request.get_data(as_text=True)
        with self._log_lock:
            outages = list(self._outages.values())
        return next((o for o in outages if o.matches(request, text)), None)

    def _admin_outages(self, request: Request) -> Reply:
        with self._log_lock:
            return Reply([o.model_dump() for o in self._outages.values()])

    def _admin_add_outage(self, request: Request) -> Reply:
        try:
            outage = Outage.model_validate(self.admin_json(request))
        except ValidationError as exc:
            raise ApiError(400, {"error": "invalid outage", "detail": exc.errors(include_url=False)}) from None
        with self._log_lock:
            self._outages[outage.id] = outage
        return Reply(outage.model_dump(), 201)

    def _admin_end_outage(self, request: Request, outage_id: str) -> Reply:
        with self._log_lock:
            ended = self._outages.pop(outage_id, None)
        return Reply({"ended": ended is not None})

    def _route(self, request: Request) -> Reply:
        adapter = self._url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return Reply(self.error_body(404, f"No route for {request.method} {request.path}"), 404)
        except MethodNotAllowed:
            return Reply(self.error_body(405, f"Method {request.method} not allowed on {request.path}"), 405)
        except HTTPException as exc:  # e.g. a redirect for a missing slash
            return Reply(self.error_body(exc.code or 400, exc.description or "bad request"), exc.code or 400)

        def work() -> Reply:
            try:
                return endpoint(request, **args)
            except ApiError as exc:
                return Reply(exc.body, exc.status)
            except ValidationError as exc:
                return Reply(self.error_body(400, "Invalid request", errors=json.loads(exc.json())), 400)

        try:
            reply, records = self._run_locked(work)
        except Exception as exc:
            logger.exception("%s sandbox: %s %s failed", self.name, request.method, request.path)
            return Reply(self.error_body(500, f"Sandbox error: {type(exc).__name__}: {exc}"), 500)
        if reply.attach_webhooks and isinstance(reply.body, dict):
            reply.body["webhooks"] = records
        return reply

    def _record_request(self, request: Request, status: int, fault: str | None) -> None:
        entry = {
            "method": request.method,
            "path": request.path,
            "query": flat_query(request),
            "headers": dict(request.headers.items()),
            "body": recorded_body(request),
            "status": status,
            "fault": fault,
            "time": utcnow().isoformat(),
        }
        with self._log_lock:
            self._requests.append(entry)

    # ------------------------------------------------------------------ common admin routes

    def _seed_rngs(self) -> None:
        self.rng = random.Random(self.settings.seed)
        self._fault_rng = random.Random(self.settings.seed + 1)

    def _common_rules(self) -> list[Rule]:
        return [
            Rule("/_admin/health", methods=["GET"], endpoint=self._admin_health),
            Rule("/_admin/faults", methods=["GET"], endpoint=self._admin_get_faults),
            Rule("/_admin/faults", methods=["POST", "PUT"], endpoint=self._admin_set_faults),
            Rule("/_admin/faults", methods=["DELETE"], endpoint=self._admin_clear_faults),
            Rule("/_admin/outages", methods=["GET"], endpoint=self._admin_outages),
            Rule("/_admin/outages", methods=["POST"], endpoint=self._admin_add_outage),
            Rule("/_admin/outages/<path:outage_id>", methods=["DELETE"], endpoint=self._admin_end_outage),
            Rule("/_admin/requests", methods=["GET"], endpoint=self._admin_requests),
            Rule("/_admin/in_flight", methods=["GET"], endpoint=self._admin_in_flight),
            Rule("/_admin/requests", methods=["DELETE"], endpoint=self._admin_clear_requests),
            Rule("/_admin/webhooks", methods=["GET"], endpoint=self._admin_webhooks),
            Rule("/_admin/settings", methods=["GET"], endpoint=self._admin_get_settings),
            Rule("/_admin/settings", methods=["POST", "PATCH"], endpoint=self._admin_set_settings),
            Rule("/_admin/reset", methods=["POST"], endpoint=self._admin_reset),
        ]

    def admin_json(self, request: Request) -> dict[str, Any]:
        body = json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, {"error": "a JSON object body is expected"})
        return body

    def _admin_health(self, request: Request) -> Reply:
        return Reply({"name": self.name, "url": self.base_url(request)})

    def _admin_get_faults(self, request: Request) -> Reply:
        return Reply(self._faults.model_dump())

    def _admin_set_faults(self, request: Request) -> Reply:
        try:
            faults = FaultSettings.model_validate(self.admin_json(request))
        except ValidationError as exc:
            raise ApiError(400, {"error": "invalid faults", "details": json.loads(exc.json())}) from None
        self.set_faults(faults)
        return Reply(faults.model_dump())

    def _admin_clear_faults(self, request: Request) -> Reply:
        self.set_faults(None)
        return Reply(self._faults.model_dump())

    def _admin_requests(self, request: Request) -> Reply:
        method = request.args.get("method")
        prefix = request.args.get("path")
        entries = [
            entry
            for entry in self.requests_log()
            if (not method or entry["method"] == method.upper()) and (not prefix or entry["path"].startswith(prefix))
        ]
        return Reply(entries)

    def _admin_in_flight(self, request: Request) -> Reply:
        with self._log_lock:
            return Reply([dict(entry) for _, entry in sorted(self._held.items())])

    def _admin_clear_requests(self, request: Request) -> Reply:
        with self._log_lock:
            self._requests.clear()
        return Reply({"cleared": True})

    def _admin_webhooks(self, request: Request) -> Reply:
        if request.args.get("flush") not in (None, "", "0", "false"):
            # Not under the state lock: the worker needs it to finish a delivery.
            self._lock.release()
            try:
                self.flush_webhooks(timeout=min(10.0, self.settings.webhook_timeout_seconds * 2))
            finally:
                self._lock.acquire()
        label = request.args.get("label")
        prefix = request.args.get("url")
        records = [
            record
            for record in self.webhooks_log()
            if (not label or record["label"] == label) and (not prefix or (record["url"] or "").startswith(prefix))
        ]
        return Reply(records)

    def _admin_get_settings(self, request: Request) -> Reply:
        return Reply(self.settings.model_dump(mode="json"))

    def _admin_set_settings(self, request: Request) -> Reply:
        try:
            self.configure(**self.admin_json(request))
        except ValidationError as exc:
            raise ApiError(400, {"error": "invalid settings", "details": json.loads(exc.json())}) from None
        return Reply(self.settings.model_dump(mode="json"))

    def _admin_reset(self, request: Request) -> Reply:
        body = json_body(request)
        keep_state = bool(isinstance(body, dict) and body.get("keep_state"))
        # reset() takes the locks itself; the handler already holds the (re-entrant) state lock.
        self.reset(keep_state=keep_state)
        return Reply({"reset": True, "keep_state": keep_state})
