# ruff: noqa: F811 - the fixtures are imported from test_sync_rents and named as arguments
"""Issue 13 point 1 for vendor answers: a Bloq.It rent history event the reconciliation would store
is held to the webhook's bounds — one too big is refused alone, the rent's other events applied.
Against the Bloq.It sandbox in-process and moto."""

from __future__ import annotations

from tests.integration.syncs.test_sync_rents import (  # noqa: F401 - fixtures
    bloq_event_records,
    bloqit,
    order_item,
    recorder,
    run,
    sync_deps,
    waiting_order,
)


def test_a_history_event_too_big_to_store_is_refused_and_the_rent_s_other_events_are_applied(
    hub, sync_deps, bloqit, caplog
):
    # Given a locker order whose drop-off and pickup webhooks were lost, the drop-off event carrying
    # 500 KB of metadata in Bloq.It's history
    order_id, rent_id = waiting_order(hub, sync_deps, bloqit)
    bloqit.call("POST", f"/_admin/rents/{rent_id}/dropoff")
    bloqit.call("POST", f"/_admin/rents/{rent_id}/pickup")
    events = [e for e in bloqit.sandbox.events if e["rent"] == rent_id and e["codeName"].startswith("rent.")]
    dropoff = next(e for e in events if e["codeName"] == "rent.in_progress")
    dropoff["metadata"] = {"note": "M" * 500_000}

    # When the reconciliation runs
    report = run(sync_deps)

    # Then that event is refused (not written), the pickup is applied: the rent is finished
    assert (report.refused, report.failed) == (1, 1)
    assert order_item(order_id)["rent_state"] == "finished"
    recorded = {r["pk"] for r in bloq_event_records()}
    assert f"BLOQEVENT#{dropoff['_id']}" not in recorded
    assert any(e["codeName"] == "rent.finished" and f"BLOQEVENT#{e['_id']}" in recorded for e in events)
    [refused] = [r for r in caplog.records if r.getMessage() == "sync item refused"]
    assert "webhook body may be at most" in refused.reason and "MMMM" not in refused.reason
