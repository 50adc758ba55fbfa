"""Bloq.It rent states as the doc orders them, and the webhook events that move a rent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from orderbridge.domain.statuses import RENT_STATE_RANK, TERMINAL, rent_state_update
from orderbridge.domain.waits import WaitKind, verdict
from orderbridge.models.bloqit_webhooks import RENT_EVENT_STATE, BloqWebhookEvent
from orderbridge.models.order import Tracks
from orderbridge.models.states import RentState

S = RentState


def _event(code_name: str, **fields) -> BloqWebhookEvent:
    return BloqWebhookEvent.model_validate({"_id": "e1", "codeName": code_name, "rent": "r1", **fields})


# The doc's own order of a delivery's life: created, reserved, starting (locker opened for the
# drop-off), in_progress (closed after the item was placed), locker_opened (opened while in
# progress), ready_for_pickup, in_transit ("comes after the ready for pickup action"), then the
# locker is collected (collect_item, price_calculation "immediately after the locker closes",
# finished "after the price_calculation state").
DOC_ORDER = [S.CREATED, S.RESERVED, S.STARTING, S.IN_PROGRESS, S.LOCKER_OPENED, S.READY_FOR_PICKUP, S.IN_TRANSIT]
ENDING = [S.COLLECT_ITEM, S.PRICE_CALCULATION, S.PAYMENT_ATTEMPT, S.FINISHED]


def test_every_rent_state_has_a_rank():
    assert set(RENT_STATE_RANK) == set(RentState)


def test_ranks_follow_the_doc_s_order_of_a_delivery():
    ranks = [RENT_STATE_RANK[state] for state in DOC_ORDER + ENDING]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def test_in_transit_ranks_after_ready_for_pickup_which_ranks_after_the_drop_off():
    assert RENT_STATE_RANK[S.IN_PROGRESS] < RENT_STATE_RANK[S.READY_FOR_PICKUP] < RENT_STATE_RANK[S.IN_TRANSIT]


@pytest.mark.parametrize("held", [S.EXPIRED, S.CANCELLED])
def test_an_expired_or_cancelled_rent_ranks_after_any_live_state_and_before_its_collection(held):
    # "Once in the Expired State you have the same two options as in the cancelled state": collect or finish.
    assert all(RENT_STATE_RANK[held] > RENT_STATE_RANK[state] for state in DOC_ORDER)
    assert all(RENT_STATE_RANK[held] < RENT_STATE_RANK[state] for state in ENDING)


def test_only_finished_is_terminal():
    assert [state for state, rank in RENT_STATE_RANK.items() if rank == TERMINAL] == [S.FINISHED]


def test_an_offline_drop_off_moves_the_rent_to_in_progress():
    # Given the event Bloq.It sends once an offline drop-off is synced with the cloud
    event = _event("rent.offline_dropoff")
    # Then it moves the rent track to in_progress, which ends the workflow's drop-off wait
    update = rent_state_update(event.rent_state)
    assert update is not None and (update.track, update.value) == ("rent_state", "in_progress")
    assert verdict(WaitKind.DROPOFF, Tracks(rent_state=update.value)).ok


def test_waiting_for_an_offline_drop_off_sync_moves_nothing():
    assert _event("rent.waiting_offline_dropoff_sync").rent_state is None


@pytest.mark.parametrize(("code_name", "state"), sorted(RENT_EVENT_STATE.items()))
def test_state_events_name_their_state(code_name, state):
    # "transits to the X state": the event's name is its state, but for rent.started (starting)
    # and rent.offline_dropoff (a drop-off: in_progress).
    expected = {"rent.started": "starting", "rent.offline_dropoff": "in_progress"}.get(
        code_name, code_name.removeprefix("rent.")
    )
    assert state.value == expected


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"expiryDate": "2026-11-26T18:30:00.000Z"}, datetime(2026, 11, 26, 18, 30, tzinfo=UTC)),
        ({"expiryDate": "2026-11-26T19:30:00+01:00"}, datetime(2026, 11, 26, 18, 30, tzinfo=UTC)),
        ({"expiryDate": "not a date"}, None),
        ({"expiry": "2026-11-26T18:30:00Z"}, None),
        (None, None),
    ],
)
def test_rent_extended_carries_its_new_expiry_in_metadata_expiry_date(metadata, expected):
    assert _event("rent.extended", metadata=metadata).new_expiry == expected


def test_only_rent_extended_has_a_new_expiry():
    assert _event("rent.expired", metadata={"expiryDate": "2026-11-26T18:30:00Z"}).new_expiry is None
