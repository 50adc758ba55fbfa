"""The walk two syncs share (``blink_statuses``, ``stuck_orders``): the open orders from the
``by_state`` index, item by item, with the cursor at the last order looked at.

A run goes on from the cursor; it saves its position every :data:`SAVE_EVERY` orders (a run that
dies goes on from near where it was) and when it stops for time; a complete walk puts the cursor
back to the start, so the next run walks again from the oldest open order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from orderbridge.store.cursors import Cursor
from orderbridge.store.orders import OpenOrder
from orderbridge.syncs.runner import SyncRun

SAVE_EVERY = 25


def walk(run: SyncRun, cursor: Cursor, orders: Iterable[OpenOrder], work: Callable[[OpenOrder], bool]) -> bool:
    """``work`` for each order (through ``run.item``: retried, dead-lettered) until done or out of
    time. True when the walk is complete."""
    position, done = cursor.value, 0
    visited: set[str] = set()  # an order whose state the work moved shows up again further on
    for order in orders:
        if order.order_id in visited:
            continue
        visited.add(order.order_id)
        if not run.time_left():
            run.advance(cursor, position)
            return False
        run.item(order.order_id, partial(work, order))
        position, done = order.position, done + 1
        if done % SAVE_EVERY == 0:
            moved = run.advance(cursor, position)
            if moved is None:
                return False  # another run is walking: this one leaves it
            cursor = moved
    if cursor.value is not None:
        run.advance(cursor, None)  # complete: the next run starts over
    return True
