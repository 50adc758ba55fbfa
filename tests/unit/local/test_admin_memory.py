"""The local stack's memory diagnostics (``GET /_local/memory``): what Python's allocator holds and
keeps free (``pymalloc=1``), what was allocated since tracing started, by call stack (``match``),
the objects by kind and who holds them (``census``, ``holders``), the stored data's own weight
(``held``), and the garbage collector's pauses (``gc``) with what keeps them short."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from moto.moto_api._internal.models import moto_api_backend
from orderbridge_local import aws_emulator as emu
from orderbridge_local import retention
from orderbridge_local.stack import _pymalloc, _traced

from tests.support.tables import create_pk_sk_table


def test_pymalloc_shows_memory_kept_free_inside_its_pools() -> None:
    # Given many small objects, then every other one freed
    held = [{"n": n} for n in range(200_000)]
    before = _pymalloc()
    del held[::2]
    after = _pymalloc()

    # Then the allocator reports fewer bytes in objects and more free inside its pools (fragmentation)
    assert set(before) == {"in_objects", "free_in_pools", "free_pools", "arena_total"}
    assert after["in_objects"] < before["in_objects"]
    assert after["free_in_pools"] - before["free_in_pools"] >= 5.0
    assert len(held) == 100_000


def test_traced_groups_what_was_allocated_since_tracing_started_by_call_stack() -> None:
    # Given tracing started, then an allocation in this file
    tracemalloc.start(5)
    try:
        kept = [bytearray(1024) for _ in range(2000)]
        report = _traced(3, match="test_admin_memory")
    finally:
        tracemalloc.stop()

    # Then the report names this test's line in the stack holding the most, ~2 MB
    top = report["traced_stacks"][0]
    assert top["mb"] >= 1.9 and top["blocks"] >= 2000
    assert any("test_admin_memory.py" in line for line in top["stack"])
    assert len(kept) == 2000


class _Kept:
    pass


class _Keeper:
    def __init__(self) -> None:
        self.kept = [_Kept() for _ in range(3000)]


def test_the_census_counts_objects_by_kind_and_names_who_holds_them() -> None:
    # Given 3,000 objects of one kind, held in a list by another object
    keeper = _Keeper()

    # Then the census counts them, and their holders are the list and that object's attributes
    census = {row["type"]: row for row in retention.object_census(top=100_000)}
    assert census[f"{__name__}._Kept"]["count"] == 3000
    chains = retention.holders("_Kept", samples=2, depth=3)
    assert len(chains) == 2
    assert chains[0][0] == "builtins.list len=3000"
    assert chains[0][1] in ("builtins.dict keys=['kept']", f"{__name__}._Keeper")
    assert len(keeper.kept) == 3000


def test_held_bytes_weighs_the_stored_items_as_dynamodb_counts_them() -> None:
    # Given a table with 10 items of ~1 KB each (and 30 reads of keys that are not there)
    moto_api_backend.reset()
    with emu.running(region="eu-west-1") as emulator:
        ddb = emulator.client("dynamodb")
        create_pk_sk_table(ddb, "weighed")
        for index in range(10):
            ddb.put_item(TableName="weighed", Item={"pk": {"S": f"p{index}"}, "sk": {"S": "s"}, "v": {"S": "x" * 1000}})
        for index in range(30):
            ddb.get_item(TableName="weighed", Key={"pk": {"S": f"none{index}"}, "sk": {"S": "s"}})
        held = retention.held_bytes()["weighed"]
    moto_api_backend.reset()

    # Then: 10 items, ~10 KB of wire JSON, no empty partition, no stream
    assert held["items"] == 10
    assert 10.0 <= held["items_kb"] <= 11.0
    assert held["empty_partitions"] == 0
    assert held["stream_records"] == 0


def test_gc_pauses_are_recorded_and_full_collections_wait_while_the_front_door_is_pressed() -> None:
    # Given the recorder, and cyclic garbage collected in full
    pauses = retention.GcPauses().install()
    before = gc.get_threshold()
    try:
        for _ in range(1000):
            cycle: list[Any] = []
            cycle.append(cycle)
        gc.collect()
        report = pauses.report()

        # When the front door is pressed, then quiet again
        pauses.front_state("pressed")
        pressed = gc.get_threshold()
        pauses.front_state("pressed")  # told twice: still restores the original
        pauses.front_state("busy")
        after = gc.get_threshold()
    finally:
        gc.callbacks.remove(pauses)
        gc.set_threshold(*before)

    # Then the full collection was counted and timed; full passes were deferred only while pressed
    assert report["collections"][2] >= 1 and report["total_s"][2] >= 0.0
    assert report["max_ms"][2] > 0.0
    assert pressed == (before[0], before[1], retention.DEFERRED_FULL_COLLECTION)
    assert after == before


def test_settling_the_heap_freezes_what_start_up_made() -> None:
    # Given objects made "at start-up"
    made = [{"n": n} for n in range(10_000)]
    try:
        frozen = retention.settle_heap()

        # Then they are out of the collector's reach (a later full collection does not walk them)
        assert frozen >= 10_000 and gc.get_freeze_count() == frozen
        assert len(made) == 10_000
    finally:
        gc.unfreeze()
