"""Rents table: Bloq.It rents (keyed by rent id, findable by order id) and Bloq.It event records.

| item          | pk                    | sk     | notes                                           |
|---------------|-----------------------|--------|-------------------------------------------------|
| rent          | RENT#<rent_id>        | META   | ``rent_order_id`` feeds the ``by_order`` index  |
| bloq event    | BLOQEVENT#<event _id> | EVENT  | one per Bloq.It event id: the dedupe guard      |
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from orderbridge.domain.statuses import RENT_STATE_RANK, TrackUpdate
from orderbridge.errors import NotFound
from orderbridge.models.rent import Rent
from orderbridge.models.states import RentState
from orderbridge.store.batch import Key, batch_get
from orderbridge.store.dynamo import ConditionFailed, aws_call, from_attrs, to_attrs, to_value

BY_ORDER_INDEX = "by_order"


# Rent states that mean the goods were put in the locker (a drop-off happened).
GOODS_IN_LOCKER_STATES = frozenset(
    {
        "in_progress",
        "locker_opened",
        "ready_for_pickup",
        "in_transit",
        "collect_item",
        "price_calculation",
        "payment_attempt",
    }
)


def rent_key(rent_id: str) -> Key:
    return {"pk": f"RENT#{rent_id}", "sk": "META"}


def bloq_event_key(event_id: str) -> Key:
    return {"pk": f"BLOQEVENT#{event_id}", "sk": "EVENT"}


class RentStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def put(self, rent: Rent) -> None:
        item = {
            **rent_key(rent.rent_id),
            **rent.model_dump(),
            "rent_order_id": rent.order_id,
            "state_rank": RENT_STATE_RANK[RentState(rent.state)],
        }
        with aws_call("record the rent"):
            self.client.put_item(TableName=self.table, Item=to_attrs(item))

    def get(self, rent_id: str) -> Rent | None:
        with aws_call("read the rent"):
            answer = self.client.get_item(TableName=self.table, Key=to_attrs(rent_key(rent_id)), ConsistentRead=True)
        item = answer.get("Item")
        return None if item is None else rent_from_item(from_attrs(item))

    def for_order(self, order_id: str) -> list[Rent]:
        with aws_call("read the order's rents"):
            answer = self.client.query(
                TableName=self.table,
                IndexName=BY_ORDER_INDEX,
                KeyConditionExpression="rent_order_id = :o",
                ExpressionAttributeValues={":o": to_value(order_id)},
            )
        return [rent_from_item(from_attrs(i)) for i in answer.get("Items", [])]

    def set_details(self, rent_id: str, at: datetime, **fields: Any) -> None:
        """Set the rent's placement or expiry (``bloq_id``, ``locker_id``, ``expires_at``) as Bloq.It
        last answered them. Its state moves only through :meth:`state_update` (monotonic)."""
        allowed = {"bloq_id", "locker_id", "expires_at", "notified_at"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"set_details sets only {sorted(allowed)}")
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": to_value(value) for i, value in enumerate(fields.values())}
        sets = [f"#f{i} = :f{i}" for i in range(len(fields))]
        try:
            with aws_call("update the rent", conditional=True):
                self.client.update_item(
                    TableName=self.table,
                    Key=to_attrs(rent_key(rent_id)),
                    UpdateExpression="SET " + ", ".join([*sets, "updated_at = :at"]),
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={**values, ":at": to_value(at)},
                )
        except ConditionFailed as failed:
            raise NotFound(f"no rent {rent_id!r}") from failed

    def state_update(self, rent_id: str, update: TrackUpdate, at: datetime) -> dict[str, Any]:
        """A rank-conditional Update of the rent's state (for a transaction); a state that means the
        goods are in the locker marks the rent ``held_goods`` for good."""
        goods = ", held_goods = :true" if update.value in GOODS_IN_LOCKER_STATES else ""
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_attrs(rent_key(rent_id)),
                "UpdateExpression": "SET #state = :state, state_rank = :rank, updated_at = :at" + goods,
                "ConditionExpression": "attribute_exists(pk) AND state_rank < :rank",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": {
                    ":state": to_value(update.value),
                    ":rank": to_value(update.rank),
                    ":at": to_value(at),
                    **({":true": to_value(True)} if goods else {}),
                },
            }
        }

    def expiry_update(self, rent_id: str, expires_at: datetime, at: datetime) -> dict[str, Any]:
        """A conditional Update of the rent's expiry to a later one (for a transaction).

        Bloq.It's ``rent.extended`` only ever moves an expiry later, so an extension that arrives
        late (behind a later one) fails the condition instead of shortening the rent. Expiries are
        stored as ISO 8601 UTC strings, which compare in time order.
        """
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_attrs(rent_key(rent_id)),
                "UpdateExpression": "SET expires_at = :expires, updated_at = :at",
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(expires_at) OR expires_at < :expires)",
                "ExpressionAttributeValues": {
                    ":expires": to_value(expires_at.astimezone(UTC)),
                    ":at": to_value(at),
                },
            }
        }

    def event_guard(self, event_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """Put-if-absent of the Bloq.It event record (for a transaction)."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_attrs({**bloq_event_key(event_id), **record}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def recorded_events(self, event_ids: Iterable[str]) -> set[str]:
        """Which of these Bloq.It event ids are recorded already (strongly consistent BatchGetItem):
        the rent reconciliation applies only the others."""
        found = batch_get(self.client, {self.table: [bloq_event_key(event_id) for event_id in event_ids]})
        return {str(item["pk"]).removeprefix("BLOQEVENT#") for item in found[self.table]}

    def record_event_only(self, event_id: str, record: dict[str, Any]) -> bool:
        """Record a Bloq.It event that concerns no order of ours. False if seen before."""
        try:
            with aws_call("record the event", conditional=True):
                self.client.put_item(**self.event_guard(event_id, record)["Put"])
        except ConditionFailed:
            return False
        return True


def rent_from_item(item: dict[str, Any]) -> Rent:
    return Rent.model_validate({k: v for k, v in item.items() if k in Rent.model_fields})
