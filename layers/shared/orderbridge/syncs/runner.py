"""How every scheduled sync runs: per scope (a merchant), from its cursor, item by item, within
the Lambda's time.

A sync is a function ``step(run, cursor)`` that reads the vendor from ``cursor.value``, hands
each thing it found to :meth:`SyncRun.item` and moves the cursor with :meth:`SyncRun.advance` once
the things before the new value are done. :func:`run_sync` gives it:

- **time**: :meth:`SyncRun.time_left` is False :data:`TIME_MARGIN_SECONDS` before the Lambda's
  end; the step stops there and the next run continues from the cursor. Vendor calls made
  meanwhile end by the same deadline (``vendors.http.vendor_deadline``);
- **retries per item**: an item whose work fails with a retryable error is tried again
  (:data:`ITEM_ATTEMPTS` in all); one that still fails is counted, logged and sent to the sync's
  dead-letter queue (``SYNC_DEAD_LETTER_QUEUE_URL``: its key and error, no payload) — the run goes
  on, and the queue's alarm calls a person;
- **two runs at once**: the work on an item is idempotent (each sync says how), and a cursor moves
  only from the version the run read (``store.cursors``): the second run's advance is refused and it
  stops that scope, having changed nothing the first did not;
- **bad vendor data, per item**: an entry of a vendor's answer its model refused (an id over
  DynamoDB's key limits or empty, a price that is not a finite number, a short code too long:
  ``models.types``), or one that would not fit a DynamoDB item (:func:`check_fits`), is *refused*:
  counted (``refused``, and in ``failed``), logged with its reason (never its values) and
  dead-lettered as ``EntryRefused`` — not retried, nothing of it written — and the run goes on
  with the other items (:meth:`SyncRun.refused`, or :class:`EntryRefused` raised by the work);
- **one metric line per run**: ``SyncItemsSeen``, ``SyncItemsChanged``, ``SyncItemsFailed``,
  ``SyncItemsRefused`` and ``SyncLagSeconds`` with the dimension ``Sync``, and one log line with the
  same figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orderbridge.deps import Deps
from orderbridge.errors import ServiceUnavailable
from orderbridge.models.base import OurModel
from orderbridge.models.types import RefusedEntry
from orderbridge.observability import logger, metrics
from orderbridge.store.cursors import Cursor
from orderbridge.vendors.http import Deadline, PermanentVendorError, RetryableVendorError, vendor_deadline

# Left at the end of the Lambda's time for the last cursor write, the metrics and the answer.
TIME_MARGIN_SECONDS = 3.0
ITEM_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.2
PROGRESS_EVERY = 50
RETRYABLE = (ServiceUnavailable, RetryableVendorError)
ITEM_BYTES_LIMIT = 350_000
"""The most a record a sync writes may weigh as JSON: DynamoDB's item holds 400 KB (409,600 bytes),
and the attribute names, keys and number encoding of a record add to its JSON size."""


class EntryRefused(ValueError):
    """What a vendor said of one item cannot be stored as it is (its reason names the fields and
    limits, never the values): the item is refused, not retried, and the run goes on."""


def check_fits(what: str, *records: OurModel, limit: int = ITEM_BYTES_LIMIT) -> None:
    """Refuse (:class:`EntryRefused`) ``records`` whose JSON, together, weighs over ``limit`` bytes:
    written as one item, or in one transaction of items each holding them, they would be refused
    by DynamoDB (``ValidationException``: item size) after part of the work was done."""
    size = sum(len(json.dumps(record.model_dump(mode="json"), ensure_ascii=False).encode()) for record in records)
    if size > limit:
        raise EntryRefused(f"{what} weighs {size:,} bytes as stored; at most {limit:,} fit a DynamoDB item")


class SyncReport(OurModel):
    """What one run did (also the Lambda's answer, so ``fire`` shows it)."""

    sync: str
    scopes: int = 0
    seen: int = 0
    changed: int = 0
    failed: int = 0
    refused: int = 0  # of ``failed``: items refused for what the vendor said of them (not retried)
    lag_seconds: float | None = None  # how far behind the vendor the sync is, where it can tell
    finished: bool = True  # False: stopped for time (or another run); the next run goes on


class SyncRun:
    """The state of one run, handed to the sync's step."""

    def __init__(self, name: str, deps: Deps, deadline: Deadline | None, *, pause: Callable[[float], None]) -> None:
        self.name = name
        self.deps = deps
        self.deadline = deadline
        self.report = SyncReport(sync=name)
        self._pause = pause

    def time_left(self) -> bool:
        """False once the run must stop (the next run continues from the cursor)."""
        if self.deadline is None or self.deadline.remaining() > TIME_MARGIN_SECONDS:
            return True
        self.report.finished = False
        return False

    def item(self, key: str, work: Callable[[], bool]) -> bool:
        """Do ``work`` for one item (True: it changed something); retried on retryable errors.
        Returns False when the item failed for good (counted, logged, dead-lettered)."""
        self.report.seen += 1
        for attempt in range(1, ITEM_ATTEMPTS + 1):
            try:
                changed = work()
            except RETRYABLE as error:
                if attempt < ITEM_ATTEMPTS and self.time_left():
                    self._pause(RETRY_PAUSE_SECONDS * attempt)
                    continue
                self._failed(key, error)
                return False
            except EntryRefused as error:
                self.report.seen -= 1  # counted again by refused()
                self.refused(key, str(error))
                return False
            except PermanentVendorError as error:
                if not getattr(error, "unreadable_answer", False):
                    self._failed(key, error)
                    return False
                self.report.seen -= 1  # the vendor's answer is off its model: refused, the same
                self.refused(key, str(error))
                return False
            except Exception as error:  # one bad item must not stop the run: it is dead-lettered
                self._failed(key, error)
                return False
            self.report.changed += int(changed)
            self._progress()
            return True
        return False  # pragma: no cover - the loop always returns

    def refused(self, key: str, reason: RefusedEntry | str) -> None:
        """An item the vendor's answer made unusable (its model refused it, or it is too big to
        store): seen, refused and failed; logged and dead-lettered with the reason; nothing of it
        is written and the run goes on."""
        self.report.seen += 1
        self.report.refused += 1
        if isinstance(reason, RefusedEntry):
            key = f"{key}[{reason.index}]{'=' + reason.ref if reason.ref else ''}"
            reason = reason.reason
        self._failed(key, EntryRefused(reason), message="sync item refused")

    def advance(self, cursor: Cursor, value: str | None) -> Cursor | None:
        """Move ``cursor`` to ``value``; None (and the run marked unfinished) when another run moved
        it first — the caller stops this scope."""
        moved = self.deps.cursors.advance(cursor, value, at=self.deps.clock())
        if moved is None:
            logger.info("another run moved the cursor: this scope is left to it", extra={"scope": cursor.scope})
            self.report.finished = False
        return moved

    def lag(self, seconds: float) -> None:
        """Record how far behind the vendor the sync is (the largest figure of the run counts)."""
        seconds = max(0.0, round(seconds, 3))
        self.report.lag_seconds = max(self.report.lag_seconds or 0.0, seconds)

    def _failed(self, key: str, error: Exception, *, message: str = "sync item failed") -> None:
        self.report.failed += 1
        logger.warning(message, extra={"item": key, "error": type(error).__name__, "reason": str(error)[:300]})
        self.deps.dead_letters.send(self.name, key, error)

    def _progress(self) -> None:
        if self.report.seen % PROGRESS_EVERY == 0:
            logger.info("sync progress", extra=self.report.model_dump())


Step = Callable[[SyncRun, Cursor], None]


def run_sync(
    name: str,
    deps: Deps,
    context: LambdaContext | Any,
    scopes: Iterable[str],
    step: Step,
    *,
    pause: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Run ``step`` for each scope from its cursor until done or out of time; publish the figures."""
    run = SyncRun(name, deps, _deadline(context), pause=pause)
    logger.append_keys(sync=name)
    with vendor_deadline(run.deadline):
        for scope in scopes:
            if not run.time_left():
                break
            run.report.scopes += 1
            logger.append_keys(scope=scope)
            step(run, deps.cursors.get(name, scope))
    logger.remove_keys(["scope"])
    _publish(run.report)
    return run.report


def _deadline(context: LambdaContext | Any) -> Deadline | None:
    """The Lambda's end, read from its context each time it is asked (no context: no limit)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return Deadline(at=0.0, clock=lambda: -remaining() / 1000)


def _publish(report: SyncReport) -> None:
    metrics.add_dimension(name="Sync", value=report.sync)
    metrics.add_metric(name="SyncItemsSeen", unit=MetricUnit.Count, value=report.seen)
    metrics.add_metric(name="SyncItemsChanged", unit=MetricUnit.Count, value=report.changed)
    metrics.add_metric(name="SyncItemsFailed", unit=MetricUnit.Count, value=report.failed)
    metrics.add_metric(name="SyncItemsRefused", unit=MetricUnit.Count, value=report.refused)
    if report.lag_seconds is not None:
        metrics.add_metric(name="SyncLagSeconds", unit=MetricUnit.Seconds, value=report.lag_seconds)
    log = logger.warning if report.failed else logger.info
    log("sync run", extra=report.model_dump())
