"""Schedule expressions and what a schedule sends its targets."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from orderbridge_local.scheduler import (
    Clock,
    ExpressionError,
    Schedule,
    Scheduler,
    Target,
    next_fire,
    schedule_from_scheduler_resource,
    target_payload,
)


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M %a") if epoch else None


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(1 minute)", "2026-11-22 10:00:30", "2026-11-22 10:01 Sun"),
        ("rate(5 minutes)", "2026-11-22 10:00:30", "2026-11-22 10:05 Sun"),
        ("rate(2 hours)", "2026-11-22 10:00:30", "2026-11-22 12:00 Sun"),
        ("cron(0 12 * * ? *)", "2026-11-22 10:00:30", "2026-11-22 12:00 Sun"),
        ("cron(0 12 * * ? *)", "2026-11-22 12:00:00", "2026-11-23 12:00 Mon"),
        ("cron(0/15 * * * ? *)", "2026-11-22 10:07:00", "2026-11-22 10:15 Sun"),
        ("cron(0 8-17 ? * MON-FRI *)", "2026-11-21 09:00:00", "2026-11-23 08:00 Mon"),  # Saturday → Monday
        ("cron(15 10 ? * 6L *)", "2026-11-01 00:00:00", "2026-11-27 10:15 Fri"),  # last Friday
        ("cron(0 9 ? * 2#1 *)", "2026-11-22 00:00:00", "2026-12-07 09:00 Mon"),  # first Monday
        ("cron(0 0 L * ? *)", "2026-02-10 00:00:00", "2026-02-28 00:00 Sat"),  # last day of month
        ("cron(0 0 1 JAN ? 2027)", "2026-11-22 00:00:00", "2027-01-01 00:00 Fri"),
        ("at(2026-12-24T18:00:00)", "2026-11-22 00:00:00", "2026-12-24 18:00 Thu"),
        ("at(2026-01-01T00:00:00)", "2026-11-22 00:00:00", None),  # in the past: never
    ],
)
def test_next_fire(expression, after, expected):
    assert iso(next_fire(expression, ts(after), created=ts(after))) == expected


def test_a_rate_counts_from_when_the_rule_appeared():
    created = ts("2026-11-22 10:00:20")
    assert iso(next_fire("rate(1 minute)", ts("2026-11-22 10:03:00"), created=created)) == "2026-11-22 10:03 Sun"
    assert next_fire("rate(1 minute)", ts("2026-11-22 10:03:00"), created=created) == created + 180


def test_a_time_zone_is_honoured():
    fire = next_fire("cron(0 9 * * ? *)", ts("2026-11-22 00:00:00"), timezone="Asia/Karachi")
    assert iso(fire) == "2026-11-22 04:00 Sun"  # 09:00 in Karachi (UTC+5)


@pytest.mark.parametrize(
    "expression",
    ["rate(0 minutes)", "rate(1 week)", "cron(* * * * *)", "cron(0 12 * * * *)", "cron(61 * * * ? *)", "every minute"],
)
def test_invalid_expressions(expression):
    with pytest.raises(ExpressionError):
        next_fire(expression, time.time())


# ----------------------------------------------------------------------------------- payloads

RULE = Schedule(name="r", expression="rate(1 minute)", targets=[], kind="rule", arn="arn:aws:events:r")
EVENT = {"detail-type": "Scheduled Event", "time": "2026-11-22T10:00:00Z", "detail": {}, "resources": ["x"]}


@pytest.mark.parametrize(
    ("target", "payload"),
    [
        (Target(arn="a"), EVENT),
        (Target(arn="a", input='{"job": "menu"}'), {"job": "menu"}),
        (Target(arn="a", input_path="$.time"), "2026-11-22T10:00:00Z"),
        (
            Target(arn="a", input_transformer={"InputPathsMap": {"t": "$.time"}, "InputTemplate": '{"at": <t>}'}),
            {"at": "2026-11-22T10:00:00Z"},
        ),
    ],
)
def test_what_an_eventbridge_rule_sends(target, payload):
    assert target_payload(RULE, target, EVENT) == payload


def test_what_a_scheduler_schedule_sends():
    schedule = schedule_from_scheduler_resource(
        "Nightly",
        {
            "ScheduleExpression": "cron(0 2 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/Lisbon",
            "Target": {"Arn": "arn:aws:lambda:eu-west-1:1:function:f", "Input": '{"a": 1}'},
        },
        "eu-west-1",
        "123456789012",
    )
    assert (schedule.kind, schedule.name, schedule.timezone) == ("schedule", "Nightly", "Europe/Lisbon")
    assert target_payload(schedule, schedule.targets[0], EVENT) == {"a": 1}
    assert target_payload(schedule, Target(arn="x"), EVENT) == {}


# ---------------------------------------------------------------------------------- scheduler


def test_the_scheduler_fires_due_schedules_and_on_request():
    sent: list[tuple[str, object]] = []
    rule = Schedule(
        name="orderbridge-Sync-1",
        logical_id="SyncRule",
        expression="rate(1 minute)",
        targets=[Target(arn="arn:aws:lambda:eu-west-1:1:function:f", input='{"n": 1}')],
        kind="rule",
    )
    scheduler = Scheduler(
        lambda: [rule],
        lambda s, t, p: sent.append((s.name, p)) or "ok",
        region="eu-west-1",
        account="123456789012",
        clock=Clock(speed=600),
    )  # 1 min = 0.1 s
    scheduler.start()
    try:
        deadline = time.monotonic() + 5
        while len(sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(sent) >= 2 and sent[0] == ("orderbridge-Sync-1", {"n": 1})
        fired = scheduler.fire_now("SyncRule")
        assert fired[0]["dispatched"] == ["ok"]
        with pytest.raises(KeyError, match="SyncRule"):
            scheduler.fire_now("Unknown")
    finally:
        scheduler.stop()
    assert json.dumps(scheduler.summary())
