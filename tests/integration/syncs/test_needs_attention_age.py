"""The stuck-orders sync measures the needs-attention queue in its metric line: how many orders wait
on a person (``NeedsAttentionOrders``) and how long the oldest has waited
(``NeedsAttentionOldestSeconds``), which ``NeedsAttentionTooLongAlarm`` compares with the template's
``NeedsAttentionMaxAgeMinutes``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from orderbridge.models.order import Failure, Lifecycle, OrderState
from orderbridge.observability import metrics
from orderbridge.syncs import stuck_orders

from tests.integration.syncs import test_stuck_orders as stuck
from tests.integration.syncs.test_runner import Context
from tests.support.template import resources, template

START, new_order = stuck.START, stuck.new_order
clock, sfn = stuck.clock, stuck.sfn  # the stuck-orders tests' fixtures: a set clock, moto's Step Functions


def needs_attention(deps: Any, order_id: str, minutes_ago: int) -> None:
    """The workflow hands the order to a person ``minutes_ago`` (an unmapped item)."""
    failure = Failure(step="SubmitOrderToBlink", kind="UnmappedItem", message="item 9 is not mapped")
    at = deps.clock() - timedelta(minutes=minutes_ago)
    assert deps.orders.set_state(order_id, Lifecycle(state=OrderState.NEEDS_ATTENTION, failure=failure, at=at))


def metric_line(out: str) -> dict[str, Any]:
    """The sync run's metric line (a webhook's cold start writes one of its own)."""
    (line,) = [json.loads(text) for text in out.splitlines() if '"_aws"' in text and '"Sync"' in text]
    return line


def test_the_run_publishes_how_many_orders_wait_on_a_person_and_the_oldest_wait(
    hub, seeded, sfn, clock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two orders that need attention, since 95 and 20 minutes, and one order still in progress
    clock.now = START + timedelta(hours=3)
    old, recent = new_order(hub, "9101"), new_order(hub, "9102")
    new_order(hub, "9103")
    needs_attention(seeded, old, minutes_ago=95)
    needs_attention(seeded, recent, minutes_ago=20)
    metrics.clear_metrics()

    # When the stuck-orders sync runs
    stuck_orders.find_stuck_orders(seeded, Context(60))
    metrics.flush_metrics()

    # Then its metric line counts the two and gives the oldest wait in seconds
    line = metric_line(capsys.readouterr().out)
    assert line["NeedsAttentionOrders"] == [2.0]
    assert line["NeedsAttentionOldestSeconds"] == [95 * 60.0]
    units = {m["Name"]: m["Unit"] for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert units["NeedsAttentionOldestSeconds"] == "Seconds"

    # And the template's alarm reads exactly this metric, with these dimensions, in minutes
    alarm = resources("AWS::CloudWatch::Alarm")["NeedsAttentionTooLongAlarm"]["Properties"]
    (stat,) = [q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q]
    dims = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
    assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]) == ("Orderbridge", "NeedsAttentionOldestSeconds")
    assert dims == {"service": line["service"], "Sync": line["Sync"]}
    (expression,) = [q for q in alarm["Metrics"] if q.get("ReturnData")]
    assert expression["Expression"].replace(" ", "") == f"{stat_id(alarm)}/60"
    assert alarm["Threshold"] == {"Ref": "NeedsAttentionMaxAgeMinutes"}
    assert "NeedsAttentionMaxAgeMinutes" in template()["Parameters"]


def test_no_order_waiting_publishes_zero(hub, seeded, sfn, clock, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no order that needs attention (one in progress)
    new_order(hub, "9201")
    metrics.clear_metrics()

    # When the sync runs
    stuck_orders.find_stuck_orders(seeded, Context(60))
    metrics.flush_metrics()

    # Then the figures are zero (the alarm sees data, not a gap)
    line = metric_line(capsys.readouterr().out)
    assert (line["NeedsAttentionOrders"], line["NeedsAttentionOldestSeconds"]) == ([0.0], [0.0])


def stat_id(alarm: dict[str, Any]) -> str:
    (query,) = [q for q in alarm["Metrics"] if "MetricStat" in q]
    return str(query["Id"])
