"""The local stack's memory diagnostics (``GET /_local/memory``): what Python's allocator holds and
keeps free (``pymalloc=1``), and what was allocated since tracing started, by call stack (``match``)."""

from __future__ import annotations

import tracemalloc

from orderbridge_local.stack import _pymalloc, _traced


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
