"""Couriers for the workflow: to the reserved locker, a second courier after a cancel, and never
two couriers (or two rents) for one attempt when a first try's answer was lost."""

from __future__ import annotations

import json

from tests.integration.actions.conftest import bloq, event, json_response, sent_json, timeline, tracks
from tests.integration.actions.test_courier_actions import CREATE_TASK
from tests.integration.actions.test_locker_actions import RESERVE, nearby, reserved  # noqa: F401 (fixtures)
from tests.unit.vendors import bloqit_samples as bloq_docs


def _create(act, order_id: str, **changes):
    return act(CREATE_TASK, event("create_blink_logistics_task", order_id=order_id, **changes))


def test_a_locker_delivery_sends_the_courier_to_the_bloq_with_the_drop_off_code(
    act,
    vendors,
    reserved,  # noqa: F811 (pytest fixture)
    action_deps,  # noqa: F811 (pytest fixture)
):
    rent = action_deps.rents.for_order(reserved)[0]
    vendors.get_bloq.mock(
        return_value=json_response(
            bloq(
                title="Station Locker 02",
                address="Avenida da Liberdade 200",
                city="Lisbon",
                location={"type": "Point", "coordinates": [-9.14563, 38.72053]},
            )
        )
    )
    output = _create(act, reserved, destination="locker")
    sent = sent_json(vendors.create_task)
    assert sent["customerAddress"] == "Avenida da Liberdade 200, Lisbon"
    assert (str(sent["lat"]), str(sent["lng"])) == ("38.72053", "-9.14563")  # GeoJSON is [lng, lat]
    assert "Bloq.It locker Station Locker 02" in sent["instruction"]
    assert f"drop-off code {rent.dropoff_code}" in sent["instruction"]
    # the code goes to the courier company only
    assert rent.dropoff_code not in json.dumps(output)
    assert rent.dropoff_code not in json.dumps(timeline(action_deps, reserved), default=str)


def test_a_second_attempt_dispatches_a_new_task_with_its_own_reference(act, vendors, partner_order, action_deps):
    _create(act, partner_order)
    assert sent_json(vendors.create_task)["mappingKey"] == partner_order
    # the courier cancels: the track is terminal
    action_deps.orders.client.update_item(
        TableName=action_deps.settings.orders_table,
        Key={"pk": {"S": f"ORDER#{partner_order}"}, "sk": {"S": "META"}},
        UpdateExpression="SET courier_status = :c, courier_rank = :r",
        ExpressionAttributeValues={":c": {"S": "TASK_CANCELLED"}, ":r": {"N": "100"}},
    )
    again = _create(act, partner_order, description="the same attempt, asked again")
    assert again["already_created"] is True and vendors.create_task.call_count == 1
    vendors.task_status.mock(side_effect=vendors._task_status_not_found)
    vendors.create_task.mock(
        return_value=json_response(
            {"eventId": 20, "event": "TASK_CREATED", "data": {"taskId": "NEW-00002", "type": 1}}, 201
        )
    )
    _create(act, partner_order, attempt=2)
    assert vendors.create_task.call_count == 2
    assert sent_json(vendors.create_task)["mappingKey"] == f"{partner_order}-2"
    assert tracks(action_deps, partner_order)["courier_status"] == "TASK_CREATED"
    order = action_deps.orders.load(partner_order)[0]
    assert (order.blink_logistics_task_id, order.courier_attempt) == ("NEW-00002", 2)


def test_a_task_a_lost_first_try_created_is_adopted_not_created_twice(act, vendors, partner_order, action_deps):
    # Blink Logistics already has a live task for our reference (the first try's answer was lost)
    vendors.task_status.mock(
        return_value=json_response(
            {"eventId": 23, "event": "TASK_ASSIGNED", "data": {"taskId": "LOST-00001", "type": 1}}
        )
    )
    output = _create(act, partner_order)
    assert vendors.create_task.call_count == 0
    assert output["task_id"] == "LOST-00001"
    assert action_deps.orders.load(partner_order)[0].blink_logistics_task_id == "LOST-00001"


def test_a_rent_a_lost_first_try_left_at_bloq_it_is_released_before_reserving(act, vendors, partner_order, nearby):  # noqa: F811
    orphan = json.loads(bloq_docs.RENT) | {"_id": "orphan-rent", "state": "reserved", "externalID": partner_order}
    vendors.rent_by_external_id.mock(return_value=json_response(orphan))
    act(RESERVE, event("reserve_locker", order_id=partner_order))
    released = [c.request.url.path for c in vendors.router.calls if "orphan-rent" in c.request.url.path]
    assert released == ["/api/v1/public/rents/orphan-rent/cancel", "/api/v1/public/rents/orphan-rent/finish"]
    assert vendors.create_delivery.call_count == 1


def test_a_failed_order_frees_its_locker_only_if_nothing_was_dropped_off(
    act,
    vendors,
    reserved,  # noqa: F811
    action_deps,
):
    released = act("ReleaseEmptyLockerFunction", event("release_empty_locker", order_id=reserved))
    assert released["released"] is True
    assert [
        c.request.url.path.rsplit("/", 1)[-1]
        for c in vendors.router.calls
        if c.request.method == "PUT" and "/rents/" in c.request.url.path
    ] == ["cancel", "finish"]
    rent = action_deps.rents.for_order(reserved)[0]
    assert rent.state == "finished"
    # the rent is gone: a second call has nothing to release
    again = act("ReleaseEmptyLockerFunction", event("release_empty_locker", order_id=reserved))
    assert again["released"] is True  # idempotent: the same input gives the first answer


def test_a_locker_holding_the_goods_is_not_released(act, vendors, reserved, action_deps):  # noqa: F811
    rent = action_deps.rents.for_order(reserved)[0]
    action_deps.rents.put(rent.model_copy(update={"state": "in_progress"}))
    released = act("ReleaseEmptyLockerFunction", event("release_empty_locker", order_id=reserved))
    assert released == {
        "order_id": reserved,
        "rent_id": rent.rent_id,
        "released": False,
        "reason": "the rent is in_progress: the locker may hold the goods",
    }
    assert not [c for c in vendors.router.calls if c.request.url.path.endswith(("/cancel", "/finish"))]
