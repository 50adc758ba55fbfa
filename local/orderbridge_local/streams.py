"""DynamoDB stream event sources (SAM ``Type: DynamoDB`` events → event source mappings in the
emulator), polled and delivered to their function as Lambda's poller does: batches of up to
``BatchSize`` records as ``{"Records": [...]}``, in order per shard, a failed batch retried
(``MaximumRetryAttempts``, at most :data:`MAX_RETRIES` locally) before it is skipped, and
``ReportBatchItemFailures`` honoured (the batch is retried from the first failed record), and the
mapping's ``FilterCriteria`` applied as Lambda applies them (:func:`passes_filters`): a record no
filter matches is dropped without invoking the function.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("orderbridge_local.streams")

MAX_RETRIES = 3
POLL_SECONDS = 0.25
REFRESH_SECONDS = 5.0


def is_dynamodb_stream(arn: str) -> bool:
    return ":dynamodb:" in arn and "/stream/" in arn


def to_lambda_record(record: dict[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it to the function."""
    out = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion") or region,
        "dynamodb": dict(record.get("dynamodb") or {}),
        "eventSourceARN": source_arn,
    }
    created = out["dynamodb"].get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        out["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    return out


# -- Lambda's event filtering ------------------------------------------------------------------
#
# Lambda's rule syntax ("Control which events Lambda sends to your function", and for DynamoDB
# "Using event filtering with a DynamoDB event source"): a pattern is JSON shaped like the record;
# a nested object descends into the record, a list at a leaf holds the alternatives (any may
# match; a record's list value matches when one of its elements does); the keys of one object must
# all match. Alternatives: a literal (equals; null matches a null value), {"exists": bool} (a leaf
# field present or not: a missing parent counts as missing), {"prefix"}, {"suffix"},
# {"equals-ignore-case"}, {"anything-but": value or [values]}, {"numeric": [op, n, ...]}; and
# "$or": [patterns] beside the keys. The filters of a mapping are ORed; no filter passes every
# record. Written here because moto stores FilterCriteria but has no poller that applies them.

_MISSING = object()
_NUMERIC = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def filter_patterns(criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A mapping's ``FilterCriteria`` as the patterns to match (each filter's ``Pattern`` parsed)."""
    return [json.loads(f["Pattern"]) for f in (criteria or {}).get("Filters") or []]


def passes_filters(criteria: dict[str, Any] | list[dict[str, Any]] | None, record: dict[str, Any]) -> bool:
    """Whether Lambda hands ``record`` (as the function receives it) to the function: no filter,
    or one that matches it. ``criteria``: the mapping's FilterCriteria, or its parsed patterns."""
    patterns = criteria if isinstance(criteria, list) else filter_patterns(criteria)
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """One filter pattern against (a part of) the record."""
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(branch, event) for branch in rule):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(rule, dict):
            if not matches(rule, value if isinstance(value, dict) else {}):
                return False
        elif isinstance(rule, list):
            if not _leaf_matches(rule, value):
                return False
        else:
            raise ValueError(f"filter rule for {key!r} must be an object or a list, not {rule!r}")
    return True


def _leaf_matches(alternatives: list[Any], value: Any) -> bool:
    leaf = value if not isinstance(value, dict) else _MISSING  # exists works on leaves only
    values = leaf if isinstance(leaf, list) else [leaf]
    for alternative in alternatives:
        if isinstance(alternative, dict) and "exists" in alternative:
            present = leaf is not _MISSING and (not isinstance(leaf, list) or bool(leaf))
            if present is bool(alternative["exists"]):
                return True
        elif leaf is not _MISSING and any(_value_matches(alternative, v) for v in values):
            return True
    return False


def _value_matches(alternative: Any, value: Any) -> bool:
    if not isinstance(alternative, dict):
        return bool(alternative == value and type(alternative) is type(value))
    ((operator, operand),) = alternative.items()
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(operand)
    if operator == "suffix":
        return isinstance(value, str) and value.endswith(operand)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(operand).lower()
    if operator == "anything-but":
        excluded = operand if isinstance(operand, list) else [operand]
        return not any(_value_matches(e, value) for e in excluded)
    if operator == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        pairs = zip(operand[::2], operand[1::2], strict=True)
        return all(_NUMERIC[op](value, bound) for op, bound in pairs)
    raise ValueError(f"filter operator {operator!r} is not one Lambda documents")


class ShardPoller(threading.Thread):
    def __init__(
        self,
        mapping: dict[str, Any],
        shard_id: str,
        streams: Any,
        invoke: Callable[[str, dict[str, Any], str], Any],
        region: str,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"stream-{shard_id[-8:]}", daemon=True)
        self.mapping = mapping
        self.shard_id = shard_id
        self.streams = streams
        self.invoke = invoke
        self.region = region
        self._halt = stop

    def run(self) -> None:
        arn = self.mapping["EventSourceArn"]
        position = self.mapping.get("StartingPosition") or "LATEST"
        batch_size = int(self.mapping.get("BatchSize") or 100)
        retries = min(MAX_RETRIES, int(self.mapping.get("MaximumRetryAttempts", MAX_RETRIES) or 0))
        if retries < 0:  # -1 means "forever" in Lambda; locally, a bounded number
            retries = MAX_RETRIES
        report_failures = "ReportBatchItemFailures" in (self.mapping.get("FunctionResponseTypes") or [])
        patterns = filter_patterns(self.mapping.get("FilterCriteria"))
        try:
            iterator = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=self.shard_id, ShardIteratorType=position
            )["ShardIterator"]
        except Exception:
            logger.exception("stream %s: no shard iterator", arn)
            return
        pending: list[dict[str, Any]] = []
        attempts = 0
        while not self._halt.is_set():
            if not pending:
                try:
                    page = self.streams.get_records(ShardIterator=iterator, Limit=batch_size)
                except Exception:
                    logger.exception("stream %s: GetRecords failed", arn)
                    self._halt.wait(1.0)
                    continue
                iterator = page.get("NextShardIterator") or iterator
                records = [to_lambda_record(r, arn, self.region) for r in page.get("Records", [])]
                pending = [r for r in records if passes_filters(patterns, r)]
                attempts = 0
                if not pending:
                    self._halt.wait(POLL_SECONDS)
                    continue
            source = f"dynamodb stream {arn.split('/')[1]}"
            invocation = self.invoke(self.mapping["FunctionArn"], {"Records": pending}, source)
            failed_from = _first_failure(invocation, pending) if report_failures and invocation.ok else None
            if invocation.ok and failed_from is None:
                pending = []
                continue
            attempts += 1
            if attempts > retries:
                logger.warning("stream %s: skipping %d record(s) after %d attempts", arn, len(pending), attempts)
                pending = []
                continue
            if failed_from is not None:
                pending = pending[failed_from:]
            self._halt.wait(min(2.0, 0.2 * 2**attempts))


def _first_failure(invocation: Any, records: list[dict[str, Any]]) -> int | None:
    try:
        answer = json.loads(invocation.result or "null")
    except ValueError:
        return None
    failures = (answer or {}).get("batchItemFailures") if isinstance(answer, dict) else None
    if not failures:
        return None
    ids = {f.get("itemIdentifier") for f in failures}
    for index, record in enumerate(records):
        if (record.get("dynamodb") or {}).get("SequenceNumber") in ids:
            return index
    return 0


class StreamPollers:
    """One poller per (event source mapping, shard); mappings re-read every few seconds."""

    def __init__(self, lambda_client: Any, streams_client: Any, invoke: Callable[..., Any], region: str) -> None:
        self.lambda_client = lambda_client
        self.streams_client = streams_client
        self.invoke = invoke
        self.region = region
        self._stop = threading.Event()
        self._pollers: dict[tuple[str, str], ShardPoller] = {}
        self._thread: threading.Thread | None = None

    def mappings(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        marker = None
        for _ in range(100):
            page = self.lambda_client.list_event_source_mappings(**({"Marker": marker} if marker else {}))
            out.extend(
                m for m in page.get("EventSourceMappings", []) if is_dynamodb_stream(m.get("EventSourceArn", ""))
            )
            marker = page.get("NextMarker")
            if not marker:
                break
        return [m for m in out if m.get("State", "Enabled") in ("Enabled", "Creating", "Enabling")]

    def refresh(self) -> None:
        for mapping in self.mappings():
            stream = self.streams_client.describe_stream(StreamArn=mapping["EventSourceArn"])["StreamDescription"]
            for shard in stream.get("Shards", []):
                key = (mapping["UUID"], shard["ShardId"])
                if key not in self._pollers:
                    poller = ShardPoller(
                        mapping, shard["ShardId"], self.streams_client, self.invoke, self.region, self._stop
                    )
                    self._pollers[key] = poller
                    poller.start()

    def start(self) -> StreamPollers:
        self.refresh()
        self._thread = threading.Thread(target=self._loop, name="stream-mappings", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            try:
                self.refresh()
            except Exception:
                logger.exception("stream mappings refresh failed")

    @property
    def count(self) -> int:
        return len(self._pollers)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for poller in list(self._pollers.values()):
            poller.join(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
