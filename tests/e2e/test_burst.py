"""The local stack takes a burst (issue 12 point 4): Blink order webhooks, each order sent twice, many
at once — every answer 2xx, exactly one order per distinct order (checked through the ops API), and
what the emulator holds afterwards stays within its ceilings. Counted, not timed: the full-size,
timed burst is ``python -m orderbridge_local.burst`` (``make bench`` B3)."""

from __future__ import annotations

from typing import Any

import httpx
from orderbridge_local import retention
from orderbridge_local.burst import drained, retained, run_burst


def test_a_burst_of_duplicated_blink_orders_is_answered_2xx_and_stored_once(stack: dict[str, Any]) -> None:
    # Given the running local stack
    # When 60 Blink order webhooks for 30 orders (each sent twice) arrive 16 at a time
    result = run_burst(stack, requests=60, concurrency=16, prefix="e2eburst")

    # Then every answer is 2xx and each order is stored exactly once
    assert result["all_2xx"], result["statuses"]
    assert (result["orders_found"], result["orders_missing"], result["duplicates"]) == (30, 0, 0)
    assert result["listed"] == 30
    # and the workflow tasks and stream batches the burst held back while it lasted all run after it
    assert drained(stack, timeout=300) is not None


def test_what_the_emulator_holds_stays_under_its_ceilings(stack: dict[str, Any], http: httpx.Client) -> None:
    # Given a stack that has served the e2e suite's orders so far (and its pollers read streams
    # four times a second per shard)
    # When it is asked what its emulator holds
    held = retained(stack)

    # Then shard iterators, stream records and ended executions are within their ceilings
    assert held is not None
    emulator = held["emulator"]
    # each poller's live iterator and its used ones within their grace (unbounded, minutes of
    # polling would have left thousands)
    assert emulator["shard_iterators"] <= 1000
    assert all(n <= retention.MAX_STREAM_RECORDS for n in emulator["stream_records"].values())
    assert emulator["executions_ended"] <= retention.MAX_FINISHED_EXECUTIONS * 4  # per state machine
    assert emulator["parsed_programs"] <= retention.PROGRAM_CACHE_SIZE
    assert held["invocations_kept"] <= 500
