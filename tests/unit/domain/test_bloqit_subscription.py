"""The Bloq.It events our webhook subscribes to (``domain.rent_events.ACTED_ON_EVENTS``): every
event a decision reads is in, and what is left out could change no decision."""

from __future__ import annotations

import pytest
from orderbridge.actions.bloqit_admin import DEFAULT_EVENTS
from orderbridge.domain.rent_events import ACTED_ON_EVENTS, acted_on
from orderbridge.domain.statuses import RENT_STATE_RANK
from orderbridge.domain.waits import Verdict, WaitKind, verdict
from orderbridge.models.bloqit_webhooks import EVENT_TYPES, EXTENDED_EVENT, RENT_EVENT_STATE
from orderbridge.models.order import Tracks
from orderbridge.models.states import RentState

LEFT_OUT = [code for code in EVENT_TYPES if code not in ACTED_ON_EVENTS]


def _outcome(kind: WaitKind, state: RentState | None) -> str | None:
    """What the wait's verdict is with the rent in ``state``: waiting on, ended well, or its error."""
    found: Verdict | None = verdict(kind, Tracks(rent_state=state.value if state else None))
    return "waiting" if found is None else (found.error or "ok")


def test_the_register_action_subscribes_to_the_events_we_act_on_in_the_doc_s_order():
    assert DEFAULT_EVENTS == ACTED_ON_EVENTS
    assert list(ACTED_ON_EVENTS) == [code for code in EVENT_TYPES if code in set(ACTED_ON_EVENTS)]
    assert len(set(ACTED_ON_EVENTS)) == len(ACTED_ON_EVENTS)


@pytest.mark.parametrize("kind", list(WaitKind))
def test_every_verdict_a_rent_can_bring_comes_through_a_subscribed_event(kind):
    # Given every rent event that moves a rent, and those of them we subscribe to
    every = {_outcome(kind, state) for state in RENT_EVENT_STATE.values()}
    subscribed = {_outcome(kind, state) for code, state in RENT_EVENT_STATE.items() if acted_on(code)}

    # Then each way the wait can end (or go on) is reachable through the subscription
    assert subscribed == every


@pytest.mark.parametrize("code", LEFT_OUT)
def test_an_event_left_out_moves_no_rent_or_only_where_no_decision_differs(code):
    state = RENT_EVENT_STATE.get(code)
    assert code != EXTENDED_EVENT  # the expiry moves: subscribed
    assert state in (None, RentState.CREATED, RentState.RESERVED, RentState.PRICE_CALCULATION), code


def test_created_and_reserved_are_the_lowest_ranks_so_they_never_move_a_rent_we_reserved():
    lowest = {RENT_STATE_RANK[RentState.CREATED], RENT_STATE_RANK[RentState.RESERVED]}
    others = [rank for state, rank in RENT_STATE_RANK.items() if state not in (RentState.CREATED, RentState.RESERVED)]
    assert max(lowest) < min(others)


@pytest.mark.parametrize("kind", list(WaitKind))
def test_price_calculation_settles_every_wait_as_collect_item_before_it_does(kind):
    assert _outcome(kind, RentState.PRICE_CALCULATION) == _outcome(kind, RentState.COLLECT_ITEM)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("rent.started", "a locker a courier is dropping into is not released (actions/lockers.py)"),
        ("rent.in_progress", "the drop-off"),
        ("rent.offline_dropoff", "the drop-off while the Bloq was offline"),
        ("rent.collect_item", "the customer's pickup"),
        ("rent.finished", "a finished rent is neither cancelled nor finished again"),
        ("rent.cancelled", "a cancelled rent fails its wait and is finished, not cancelled again"),
        ("rent.expired", "an expired rent fails its wait and can be returned"),
        ("rent.extended", "the rent's expiry moves"),
    ],
)
def test_the_events_a_decision_reads_are_subscribed(code, why):
    assert acted_on(code), why


@pytest.mark.parametrize("code", ["locker.locker_opened", "bloq.reconnected", "customer.customer_created", None])
def test_locker_bloq_and_customer_events_are_not_subscribed(code):
    assert not acted_on(code)
