"""Which Bloq and locker a delivery goes to, and how long its rent may last (pure rules)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from orderbridge.domain import locker_rules
from orderbridge.models.bloqit import Bloq, Locker, LockerType, RentType
from orderbridge.models.rent import Rent

from tests.unit.vendors import bloqit_samples as docs

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HERE = locker_rules.Point(Decimal("38.7223"), Decimal("-9.1393"))  # Lisbon


def locker(locker_id: str = "L1", **changes) -> Locker:
    return Locker.model_validate(json.loads(docs.LOCKER_CLOSED) | {"_id": locker_id} | changes)


def bloq(bloq_id: str = "B1", *, lat: str | None = None, lng: str | None = None, **changes) -> Bloq:
    data = json.loads(docs.BLOQ) | {"_id": bloq_id, "supports": ["delivery"], "lockers": []} | changes
    if lat is not None:
        data["location"] = {"type": "Point", "coordinates": [Decimal(lng), Decimal(lat)]}
    return Bloq.model_validate(data)


# -- the Bloq --------------------------------------------------------------------------------------


def test_the_doc_sample_bloq_is_active_and_accepts_a_delivery_when_supports_names_it():
    assert locker_rules.accepts_delivery(bloq(), LockerType.S)


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"active": False}, False),
        ({"active": None}, False),  # unknown is not active
        ({"supports": ["store", "send"]}, False),
        ({"supports": ["DELIVERY"]}, True),
        ({"supports": [{"type": "delivery"}]}, True),
        ({"supports": []}, True),  # says nothing: not a refusal
    ],
)
def test_only_active_bloqs_that_allow_deliveries_are_candidates(changes, accepted):
    assert locker_rules.accepts_delivery(bloq(**changes), LockerType.S) is accepted


def test_a_bloq_that_lists_its_lockers_needs_a_free_one_of_the_size():
    taken = locker("L1", rent="R9").model_dump(by_alias=True)
    wrong_size = locker("L2", type="M").model_dump(by_alias=True)
    disabled = locker("L3", active=False).model_dump(by_alias=True)
    assert not locker_rules.accepts_delivery(bloq(lockers=[taken, wrong_size, disabled]), LockerType.S)
    assert locker_rules.accepts_delivery(bloq(lockers=[taken, locker("L4").model_dump(by_alias=True)]), LockerType.S)


def test_supports_is_read_for_any_rent_type():
    assert locker_rules.supports_rent_type(bloq(supports=["return"]), RentType.RETURN)
    assert not locker_rules.supports_rent_type(bloq(supports=["return"]), RentType.DELIVERY)


def test_bloqs_are_ranked_nearest_first_with_unknown_positions_last_and_ineligible_ones_dropped():
    far = bloq("far", lat="38.80", lng="-9.20")
    near = bloq("near", lat="38.7230", lng="-9.1400")
    unknown = bloq("unknown")
    inactive_nearest = bloq("inactive", lat="38.7223", lng="-9.1393", active=False)
    ranked = locker_rules.rank_bloqs([unknown, far, inactive_nearest, near, near], LockerType.S, near=HERE)
    assert [b.id for b in ranked] == ["near", "far", "unknown"]


def test_without_a_point_the_given_order_is_kept():
    ranked = locker_rules.rank_bloqs([bloq("second-choice"), bloq("x", active=False), bloq("third")], LockerType.S)
    assert [b.id for b in ranked] == ["second-choice", "third"]


def test_a_bloq_position_reads_latitude_longitude_or_geojson():
    assert locker_rules.bloq_point(bloq(lat="1.5", lng="2.5")) == locker_rules.Point(Decimal("1.5"), Decimal("2.5"))
    flat = bloq(location={"latitude": Decimal("3.5"), "longitude": Decimal("4.5")})
    assert locker_rules.bloq_point(flat) == locker_rules.Point(Decimal("3.5"), Decimal("4.5"))
    assert locker_rules.bloq_point(bloq()) is None  # the doc sample's location is collapsed


def test_distance_is_in_metres():
    one_km_north = locker_rules.Point(HERE.latitude + Decimal("0.008993"), HERE.longitude)
    assert locker_rules.distance_m(HERE, one_km_north) == pytest.approx(1000, abs=2)


# -- the locker -------------------------------------------------------------------------------------


def test_the_first_free_locker_of_the_size_is_picked():
    found = locker_rules.pick_locker(
        [locker("L1", type="M"), locker("L2", rent="R1"), locker("L3"), locker("L4")], LockerType.S
    )
    assert found is not None and found.id == "L3"


def test_no_free_locker_of_the_size_picks_none():
    assert locker_rules.pick_locker([locker("L1", type="M"), locker("L2", active=False)], LockerType.S) is None
    assert locker_rules.pick_locker([Locker.model_validate({})], LockerType.S) is None  # the doc's collapsed `{ }`


# -- how long the rent lasts -------------------------------------------------------------------------


def test_the_doc_sample_bloq_caps_the_whole_rent_at_its_max_rent_time():
    window = locker_rules.rent_window(NOW, bloq(), delivery_hours=24, collect_hours=48)  # maxRentTimeHour: 2
    assert window == locker_rules.RentWindow(NOW + timedelta(hours=2), NOW + timedelta(hours=2), 2)


def test_each_phase_is_capped_by_its_own_limit():
    limited = bloq(maxRentTimeHour=None, maxRentDeliveryTimeHour=6, maxRentCollectTimeHour=12)
    window = locker_rules.rent_window(NOW, limited, delivery_hours=24, collect_hours=48)
    assert window == locker_rules.RentWindow(NOW + timedelta(hours=18), NOW + timedelta(hours=6), 12)


def test_without_limits_the_wanted_times_are_kept():
    window = locker_rules.rent_window(NOW, bloq(maxRentTimeHour=None), delivery_hours=3, collect_hours=5)
    assert window == locker_rules.RentWindow(NOW + timedelta(hours=8), NOW + timedelta(hours=3), 5)


def test_rent_window_refuses_naive_times_and_empty_phases():
    with pytest.raises(ValueError):
        locker_rules.rent_window(NOW.replace(tzinfo=None), bloq(), delivery_hours=1, collect_hours=1)
    with pytest.raises(ValueError):
        locker_rules.rent_window(NOW, bloq(), delivery_hours=0, collect_hours=1)


def test_a_return_expires_within_the_bloq_max_rent_time():
    assert locker_rules.return_expiry(NOW, bloq(), hours=24) == NOW + timedelta(hours=2)
    assert locker_rules.return_expiry(NOW, None, hours=24) == NOW + timedelta(hours=24)


# -- the order's rents and codes -----------------------------------------------------------------------


def rent(rent_id: str, state: str, minutes: int) -> Rent:
    return Rent(rent_id=rent_id, order_id="o", state=state, created_at=NOW + timedelta(minutes=minutes))


def test_the_current_rent_is_the_newest_not_finished():
    rents = [rent("old", "cancelled", 0), rent("done", "finished", 10), rent("new", "expired", 5)]
    assert locker_rules.current_rent(rents).rent_id == "new"
    assert locker_rules.current_rent([rent("done", "finished", 0)]) is None


def test_an_open_reservation_excludes_cancelled_expired_and_finished_rents():
    assert locker_rules.open_reservation([rent("a", "cancelled", 0), rent("b", "expired", 1)]) is None
    assert locker_rules.open_reservation([rent("a", "cancelled", 0), rent("b", "reserved", 1)]).rent_id == "b"


def test_codes_are_random_digits_of_the_asked_length():
    codes = {locker_rules.new_code(6) for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190  # not a constant, not a short cycle
    assert len(locker_rules.new_code(locker_rules.DROPOFF_CODE_DIGITS)) == 8
    with pytest.raises(ValueError):
        locker_rules.new_code(15)  # Bloq.It's pickUpCode is at most 14 characters
