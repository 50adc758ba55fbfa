"""The frame every scheduled sync runs in (``syncs/runner.py``, ``store/cursors.py``,
``store/dead_letters.py``): cursors that only move forward, per-item retries, a dead-letter path,
time limits, one metric line per run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from threading import Barrier, Thread

import pytest
from orderbridge import aws as aws_clients
from orderbridge.errors import ServiceUnavailable
from orderbridge.models.config import Merchant
from orderbridge.store.cursors import Cursor
from orderbridge.syncs.runner import ITEM_ATTEMPTS, TIME_MARGIN_SECONDS, SyncRun, run_sync

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Context:
    """A LambdaContext whose remaining time is set by the test (and can run out)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


@pytest.fixture
def queue(aws, monkeypatch):
    url = aws_clients.client("sqs").create_queue(QueueName="sync-dlq")["QueueUrl"]
    monkeypatch.setenv("SYNC_DEAD_LETTER_QUEUE_URL", url)
    return url


@pytest.fixture
def sync_deps(queue):
    from orderbridge.config import get_settings
    from orderbridge.deps import get_deps

    get_settings.cache_clear()
    get_deps.cache_clear()
    deps = get_deps()
    deps.clock = lambda: NOW
    deps.config.put(Merchant(merchant_id="m-2", name="Two"), Merchant(merchant_id="m-1", name="One"))
    return deps


def dead_letters(url: str) -> list[dict]:
    answer = aws_clients.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_the_scopes_are_the_configured_merchants(sync_deps):
    assert sync_deps.config.merchant_ids() == ["m-1", "m-2"]


def test_a_cursor_moves_only_from_the_version_it_was_read_at(sync_deps):
    # Given two runs that read the same new cursor
    first = sync_deps.cursors.get("orders", "m-1")
    second = sync_deps.cursors.get("orders", "m-1")
    assert first == second == Cursor(sync="orders", scope="m-1")

    # When both try to move it
    moved = sync_deps.cursors.advance(first, "100", at=NOW)
    refused = sync_deps.cursors.advance(second, "90", at=NOW)

    # Then the first wins, the second is refused, and the stored cursor is the first's
    assert moved is not None and moved.value == "100" and moved.version == 1
    assert refused is None
    stored = sync_deps.cursors.get("orders", "m-1")
    assert (stored.value, stored.version, stored.updated_at) == ("100", 1, NOW)
    assert sync_deps.cursors.advance(stored, "200", at=NOW).version == 2


def test_each_scope_runs_from_its_cursor_and_the_run_reports_its_figures(sync_deps):
    sync_deps.cursors.advance(sync_deps.cursors.get("demo", "m-2"), "7", at=NOW)
    seen: list[tuple[str, str | None]] = []

    def step(run: SyncRun, cursor: Cursor) -> None:
        seen.append((cursor.scope, cursor.value))
        for n in range(3):
            run.item(f"{cursor.scope}:{n}", lambda n=n: n != 0)  # item 0 changes nothing
        run.lag(12.5)
        run.advance(cursor, "done")

    report = run_sync("demo", sync_deps, Context(60), sync_deps.config.merchant_ids(), step)

    assert seen == [("m-1", None), ("m-2", "7")]
    assert (report.scopes, report.seen, report.changed, report.failed) == (2, 6, 4, 0)
    assert report.lag_seconds == 12.5 and report.finished is True
    assert sync_deps.cursors.get("demo", "m-1").value == "done"


def test_a_retryable_failure_is_retried_and_a_lasting_one_dead_lettered_without_stopping_the_run(sync_deps, queue):
    attempts = {"flaky": 0, "broken": 0}

    def flaky() -> bool:
        attempts["flaky"] += 1
        if attempts["flaky"] < 2:
            raise ServiceUnavailable("DynamoDB hiccup")
        return True

    def broken() -> bool:
        attempts["broken"] += 1
        raise ServiceUnavailable("still down")

    def bug() -> bool:
        raise KeyError("a field the vendor did not send")

    def step(run: SyncRun, cursor: Cursor) -> None:
        for key, work in (("flaky", flaky), ("broken", broken), ("bug", bug), ("fine", lambda: True)):
            run.item(key, work)

    report = run_sync("demo", sync_deps, Context(60), ["m-1"], step, pause=lambda s: None)

    assert attempts == {"flaky": 2, "broken": ITEM_ATTEMPTS}
    assert (report.seen, report.changed, report.failed) == (4, 2, 2)
    letters = dead_letters(queue)
    assert [(m["sync"], m["item"], m["error"]) for m in letters] == [
        ("demo", "broken", "ServiceUnavailable"),
        ("demo", "bug", "KeyError"),
    ]


def test_a_run_stops_before_the_lambdas_time_runs_out(sync_deps):
    context = Context(TIME_MARGIN_SECONDS + 5)
    done: list[int] = []

    def step(run: SyncRun, cursor: Cursor) -> None:
        for n in range(100):
            if not run.time_left():
                return
            run.item(str(n), lambda: True)
            done.append(n)
            context.seconds -= 1  # each item takes a second

    report = run_sync("demo", sync_deps, context, ["m-1", "m-2"], step)

    assert len(done) == 5 and report.finished is False
    assert report.scopes == 1  # no time left for the second merchant


def test_two_runs_at_once_move_the_cursor_once(sync_deps):
    barrier = Barrier(2)
    reports = []

    def step(run: SyncRun, cursor: Cursor) -> None:
        barrier.wait(timeout=5)  # both have read the cursor
        run.advance(cursor, "next")

    threads = [
        Thread(target=lambda: reports.append(run_sync("demo", sync_deps, Context(60), ["m-1"], step))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.finished for r in reports) == [False, True]
    assert sync_deps.cursors.get("demo", "m-1").version == 1


def test_one_metric_line_per_run(sync_deps, capsys):
    from orderbridge.observability import metrics

    metrics.clear_metrics()

    def step(run: SyncRun, cursor: Cursor) -> None:
        run.item("a", lambda: True)
        run.lag(3)

    run_sync("demo", sync_deps, Context(60), ["m-1"], step)
    metrics.flush_metrics()

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(lines) == 1
    line = lines[0]
    assert line["Sync"] == "demo"
    figures = [line[name] for name in ("SyncItemsSeen", "SyncItemsChanged", "SyncItemsFailed", "SyncLagSeconds")]
    assert [f if isinstance(f, list) else [f] for f in figures] == [[1.0], [1.0], [0.0], [3.0]]
