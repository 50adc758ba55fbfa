"""When a workflow wait is over, judged from the order's tracks."""

from __future__ import annotations

import pytest
from orderbridge.domain.waits import Verdict, WaitKind, verdict
from orderbridge.models.order import Tracks

OK = Verdict()


@pytest.mark.parametrize(
    ("kind", "tracks", "expected"),
    [
        (WaitKind.COURIER_PICKED_UP, {"courier_status": "TASK_ACCEPTED"}, None),
        (WaitKind.COURIER_PICKED_UP, {"courier_status": "TASK_STARTED"}, OK),
        (WaitKind.COURIER_PICKED_UP, {"courier_status": "TASK_ARRIVED", "rent_state": "in_progress"}, OK),
        (WaitKind.COURIER_PICKED_UP, {"courier_status": "TASK_CANCELLED"}, Verdict("CourierCancelled", "")),
        (WaitKind.DROPOFF, {"rent_state": "reserved"}, None),
        (WaitKind.DROPOFF, {"rent_state": "in_progress"}, OK),
        (WaitKind.DROPOFF, {"rent_state": "ready_for_pickup"}, OK),
        (WaitKind.DROPOFF, {"rent_state": "in_transit"}, OK),
        (WaitKind.COURIER_PICKED_UP, {"rent_state": "ready_for_pickup"}, OK),
        (
            WaitKind.DROPOFF,
            {"rent_state": "reserved", "courier_status": "TASK_CANCELLED"},
            Verdict("CourierCancelled", ""),
        ),
        (WaitKind.DROPOFF, {"rent_state": "expired"}, Verdict("RentCancelled", "")),
        (WaitKind.PICKUP, {"rent_state": "in_progress"}, None),
        (WaitKind.PICKUP, {"rent_state": "collect_item"}, OK),
        (WaitKind.PICKUP, {"rent_state": "finished"}, OK),
        (WaitKind.PICKUP, {"rent_state": "expired"}, Verdict("RentExpired", "")),
        (WaitKind.PICKUP, {"rent_state": "cancelled"}, Verdict("RentCancelled", "")),
        (WaitKind.PICKUP, {"rent_state": "in_progress", "courier_status": "TASK_CANCELLED"}, None),
        (WaitKind.COURIER_FINISHED, {"courier_status": "TASK_STARTED"}, None),
        (WaitKind.COURIER_FINISHED, {"courier_status": "TASK_FINISHED"}, OK),
        (WaitKind.COURIER_FINISHED, {"courier_status": "TASK_CANCELLED"}, Verdict("CourierCancelled", "")),
    ],
)
def test_verdict(kind, tracks, expected):
    result = verdict(kind, Tracks.model_validate(tracks))
    if expected is None:
        assert result is None
    else:
        assert result is not None and result.error == expected.error


@pytest.mark.parametrize("kind", list(WaitKind))
def test_a_rejected_order_ends_every_wait(kind):
    result = verdict(kind, Tracks(status="rejected", rent_state="collect_item", courier_status="TASK_FINISHED"))
    assert result is not None and result.error == "OrderRejected"
