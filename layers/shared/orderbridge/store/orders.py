"""Orders table: orders, their timelines, raw payloads, vendor-id aliases, unmatched events.

| item             | pk                          | sk                 | notes                                 |
|------------------|-----------------------------|--------------------|---------------------------------------|
| order            | ORDER#<order_id>            | META               | status tracks + GSI keys              |
| timeline event   | ORDER#<order_id>            | EVENT#<event_key>  | raw body kept on the event            |
| alias            | ALIAS#<source>#<vendor id>  | ALIAS              | vendor id → order id (tasks, Blink)   |
| unmatched event  | UNMATCHED#<source>#<ref>    | EVENT#<event_key>  | an event for an order we do not know  |
| submission       | SUBMIT#<blink branch>#<name> | SUBMIT            | an order we are submitting to Blink   |

The order item also carries the lifecycle a person reads (``state``, ``state_step``,
``state_deadline``, ``failure``; index ``by_state``) and the owners of its courier and rent tracks
(``courier_job``, ``rent_id``): those tracks follow the current courier job and rent only.

Every write that records something a vendor said is conditional on its event key not being
there yet: that condition is the idempotency guard (one round trip, no extra table). Status
tracks only move forward (``domain.statuses``): the rank condition is part of the same write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orderbridge.domain.statuses import ORDER_STATUS_RANK, TrackUpdate
from orderbridge.errors import NotFound
from orderbridge.models.order import Lifecycle, Order, OrderState, TimelineEvent
from orderbridge.store.batch import Key
from orderbridge.store.dynamo import cancellation_codes, from_attrs, ints, to_attrs, to_value, unavailable

TRACK_RANK_ATTR = {"status": "status_rank", "courier_status": "courier_rank", "rent_state": "rent_rank"}
TRACK_OWNER_ATTR = {"courier_status": "courier_job", "rent_state": "rent_id"}
BY_STATE_INDEX = "by_state"
BY_STATUS_INDEX = "by_status"
BY_BRANCH_INDEX = "by_branch"
BY_DAY_INDEX = "by_day"


def order_key(order_id: str) -> Key:
    return {"pk": f"ORDER#{order_id}", "sk": "META"}


def alias_key(source: str, vendor_id: str) -> Key:
    return {"pk": f"ALIAS#{source}#{vendor_id}", "sk": "ALIAS"}


def event_key(order_id: str, key: str) -> Key:
    return {"pk": f"ORDER#{order_id}", "sk": f"EVENT#{key}"}


def submission_key(blink_branch_id: str, customer_name: str) -> Key:
    """What Blink's Order Webhook carries back of an order we submitted before its id is known to
    us: the Blink branch and the customer name we gave it (the partner's name and order id)."""
    return {"pk": f"SUBMIT#{blink_branch_id}#{customer_name}", "sk": "SUBMIT"}


@dataclass
class Written:
    """What a write did."""

    order_id: str | None
    created: bool = False  # a new order / a new event was recorded
    duplicate: bool = False  # the same delivery was seen before: nothing written
    stale: bool = False  # recorded in the timeline, but the status track was already further


@dataclass
class OrderView:
    order: Order
    tracks: dict[str, Any]
    lifecycle: Lifecycle
    timeline: list[dict[str, Any]] = field(default_factory=list)


def _event_item(order_id: str, event: TimelineEvent, raw: str | None) -> dict[str, Any]:
    item = {**event_key(order_id, event.event_key), "order_id": order_id, **event.model_dump()}
    if raw is not None:
        item["raw"] = raw
    return item


class OrderStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    # -- writes ------------------------------------------------------------------------------

    def create(self, order: Order, event: TimelineEvent, raw: str) -> Written:
        """Order + its first timeline event (holding the raw payload), in one transaction,
        conditional on the order not existing yet (the order id is derived from the vendor's)."""
        meta = {
            **order_key(order.order_id),
            **order.model_dump(),
            "status_rank": ORDER_STATUS_RANK[order.status],
            "created_day": order.received_at.date().isoformat(),
            "created_key": f"{order.received_at.isoformat()}#{order.order_id}",
            "updated_at": order.received_at,
            "state": OrderState.RECEIVED.value,
            "state_at": order.received_at,
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    self._put(meta, new_only=True),
                    self._put(_event_item(order.order_id, event, raw), new_only=True),
                ]
            )
        except ClientError as error:
            if cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]:
                return Written(order.order_id, duplicate=True)
            raise unavailable(error, "record the order") from error
        except BotoCoreError as error:
            raise unavailable(error, "record the order") from error
        return Written(order.order_id, created=True)

    def record_event(
        self,
        order_id: str,
        event: TimelineEvent,
        update: TrackUpdate | None,
        *,
        raw: str | None = None,
        ranked: list[dict[str, Any]] | None = None,
        guards: list[dict[str, Any]] | None = None,
    ) -> Written:
        """Record a timeline event and, when ``update`` is newer than the order's track, move it.

        ``ranked`` are further rank-conditional updates that move with the track (e.g. the rent's
        own state); ``guards`` are further put-if-absent dedupe records (e.g. the vendor event
        id). All of it is one transaction. If only rank conditions fail, the event is late: it is
        recorded with ``applied: false`` (and the guards) in a second transaction. If any guard
        or the event itself is there already, it is a duplicate and nothing is written.
        """
        event_item = _event_item(order_id, event, raw)
        rank_items = ([self.track_update(order_id, update, event.received_at)] if update else []) + (ranked or [])
        guard_items = [self._put(event_item, new_only=True), *(guards or [])]
        try:
            self.client.transact_write_items(TransactItems=[*rank_items, *guard_items])
            return Written(order_id, created=True)
        except ClientError as error:
            codes = cancellation_codes(error)
            if not codes:
                raise unavailable(error, "record the event") from error
            if "ConditionalCheckFailed" in codes[len(rank_items) :]:
                return Written(order_id, duplicate=True)
            if "ConditionalCheckFailed" not in codes[: len(rank_items)]:
                raise unavailable(error, "record the event") from error
        except BotoCoreError as error:
            raise unavailable(error, "record the event") from error
        # The track is already at or past this status (or the event is about a job or rent that
        # is not the order's current one): keep the event in the timeline, and let the further
        # updates that still hold (a return rent's own state) move; without them if they do not.
        stale_event = {**event_item, "applied": False}
        for extra in ([*(ranked or [])], []) if ranked else ([],):
            try:
                self.client.transact_write_items(
                    TransactItems=[self._put(stale_event, new_only=True), *(guards or []), *extra]
                )
            except ClientError as error:
                codes = cancellation_codes(error)
                if "ConditionalCheckFailed" in codes[: 1 + len(guards or [])]:
                    return Written(order_id, duplicate=True)
                if extra and "ConditionalCheckFailed" in codes:
                    continue
                raise unavailable(error, "record the event") from error
            except BotoCoreError as error:
                raise unavailable(error, "record the event") from error
            return Written(order_id, created=True, stale=True)
        raise AssertionError("unreachable: the last attempt has no conditional extras")

    def link_vendor(
        self,
        order_id: str,
        event: TimelineEvent,
        *,
        fields: dict[str, Any] | None = None,
        alias: tuple[str, str] | None = None,
        update: TrackUpdate | None = None,
    ) -> Written:
        """Record what an outbound action did at a vendor, in one transaction: the vendor's ids on
        the order (``fields``), the alias (source, vendor id) by which the vendor's webhooks find
        the order, and a timeline event; and, when ``update`` is newer than the order's track, the
        track. The same event recorded before is a duplicate: nothing is written. A track already
        further along is left alone: the rest is written and the event has ``applied: false``.
        Raises ``NotFound`` when the order does not exist.
        """
        event_item = _event_item(order_id, event, None)
        outcome = self._link(order_id, event_item, fields or {}, alias, update, event.received_at)
        if outcome is not None:
            return outcome
        # The track is already at or past ``update``: record the rest without it.
        outcome = self._link(order_id, {**event_item, "applied": False}, fields or {}, alias, None, event.received_at)
        assert outcome is not None
        return Written(order_id, created=outcome.created, duplicate=outcome.duplicate, stale=outcome.created)

    def _link(
        self,
        order_id: str,
        event_item: dict[str, Any],
        fields: dict[str, Any],
        alias: tuple[str, str] | None,
        update: TrackUpdate | None,
        at: datetime,
    ) -> Written | None:
        """One attempt of :meth:`link_vendor`; None when only the track's rank condition failed."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":at": to_value(at)}
        sets = ["updated_at = :at"]
        present = {name: value for name, value in fields.items() if value is not None}
        for index, (name, value) in enumerate(present.items()):
            names[f"#f{index}"] = name
            values[f":f{index}"] = to_value(value)
            sets.append(f"#f{index} = :f{index}")
        condition = "attribute_exists(pk)"
        if update is not None:
            names.update({"#track": update.track, "#rank": TRACK_RANK_ATTR[update.track]})
            values.update({":value": to_value(update.value), ":rank": to_value(update.rank)})
            sets += ["#track = :value", "#rank = :rank"]
            condition += " AND (attribute_not_exists(#rank) OR #rank < :rank)"
            if update.owner is not None:
                names["#owner"] = TRACK_OWNER_ATTR[update.track]
                values[":owner"] = to_value(update.owner)
                condition += " AND (attribute_not_exists(#owner) OR #owner = :owner)"
        order_update: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_attrs(order_key(order_id)),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            order_update["ExpressionAttributeNames"] = names
        items: list[dict[str, Any]] = [{"Update": order_update}]
        if alias is not None:
            source, vendor_id = alias
            alias_item = {
                **alias_key(source, vendor_id),
                "order_id": order_id,
                "source": source,
                "vendor_id": vendor_id,
            }
            items.append(self._put(alias_item, new_only=False))
        items.append(self._put(event_item, new_only=True))
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            codes = cancellation_codes(error)
            if not codes:
                raise unavailable(error, "record what the vendor did") from error
            if codes[-1] == "ConditionalCheckFailed":
                return Written(order_id, duplicate=True)
            if codes[0] == "ConditionalCheckFailed":
                if update is not None:
                    return None
                raise NotFound(f"no order {order_id!r}") from error
            raise unavailable(error, "record what the vendor did") from error
        except BotoCoreError as error:
            raise unavailable(error, "record what the vendor did") from error
        return Written(order_id, created=True)

    def track_update(self, order_id: str, update: TrackUpdate, at: datetime) -> dict[str, Any]:
        """A conditional Update of one status track on the order (for a transaction): only forward,
        and for an owned track only while ``update.owner`` is the order's current job or rent."""
        names = {"#track": update.track, "#rank": TRACK_RANK_ATTR[update.track]}
        values = {":value": to_value(update.value), ":rank": to_value(update.rank), ":at": to_value(at)}
        condition = "attribute_exists(pk) AND (attribute_not_exists(#rank) OR #rank < :rank)"
        if update.owner is not None:
            names["#owner"] = TRACK_OWNER_ATTR[update.track]
            values[":owner"] = to_value(update.owner)
            condition += " AND (attribute_not_exists(#owner) OR #owner = :owner)"
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_attrs(order_key(order_id)),
                "UpdateExpression": "SET #track = :value, #rank = :rank, updated_at = :at",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def set_state(self, order_id: str, lifecycle: Lifecycle, *, unless: frozenset[OrderState] = frozenset()) -> bool:
        """Set the order's lifecycle state (step, deadline and failure with it; absent ones are
        removed). Not when the order is in one of ``unless`` (e.g. a final state): False then."""
        values: dict[str, Any] = {":state": to_value(lifecycle.state.value), ":at": to_value(lifecycle.at)}
        sets, removes = ["#state = :state", "state_at = :at"], []
        for attr, value in (
            ("state_step", lifecycle.step),
            ("state_deadline", lifecycle.deadline),
            ("failure", lifecycle.failure.model_dump() if lifecycle.failure else None),
        ):
            if value is None:
                removes.append(attr)
            else:
                values[f":{attr}"] = to_value(value)
                sets.append(f"{attr} = :{attr}")
        condition = "attribute_exists(pk)"
        for index, state in enumerate(sorted(unless)):
            values[f":not{index}"] = to_value(state.value)
            condition += f" AND #state <> :not{index}"
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_attrs(order_key(order_id)),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise unavailable(error, "record the order's state") from error
        except BotoCoreError as error:
            raise unavailable(error, "record the order's state") from error
        return True

    def expect_submission(self, key: Key, order_id: str) -> None:
        """Remember, before submitting an order to Blink, which order Blink's announcement of it
        belongs to (see :func:`submission_key`)."""
        try:
            self.client.put_item(TableName=self.table, Item=to_attrs({**key, "order_id": order_id}))
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error, "record the submission") from error

    def record_unmatched(self, source: str, ref: str, event: TimelineEvent, raw: str) -> Written:
        """Keep an event we cannot attach to an order (nothing is lost; ops can replay it)."""
        item = {
            "pk": f"UNMATCHED#{source}#{ref}",
            "sk": f"EVENT#{event.event_key}",
            **event.model_dump(),
            "raw": raw,
        }
        try:
            self.client.put_item(
                TableName=self.table, Item=to_attrs(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return Written(None, duplicate=True)
            raise unavailable(error, "record the event") from error
        except BotoCoreError as error:
            raise unavailable(error, "record the event") from error
        return Written(None, created=True)

    def count_resume(self, order_id: str, *, undo: bool = False) -> int:
        """Count a resume of the order's workflow (or take one back); returns the new count."""
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=to_attrs(order_key(order_id)),
                UpdateExpression="SET workflow_resumes = if_not_exists(workflow_resumes, :zero) + :step",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":zero": to_value(0), ":step": to_value(-1 if undo else 1)},
                ReturnValues="UPDATED_NEW",
            )
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error, "count the resume") from error
        return int(from_attrs(answer["Attributes"])["workflow_resumes"])

    def put_alias(self, source: str, vendor_id: str, order_id: str) -> None:
        """Remember which order a vendor's id (a Blink order id, a courier task id) belongs to."""
        item = {**alias_key(source, vendor_id), "order_id": order_id, "source": source, "vendor_id": vendor_id}
        self.client.put_item(TableName=self.table, Item=to_attrs(item))

    def _put(self, item: dict[str, Any], *, new_only: bool) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": to_attrs(item)}
        if new_only:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    # -- reads -------------------------------------------------------------------------------

    def load(self, order_id: str) -> tuple[Order, dict[str, Any]] | None:
        """The order and its status tracks without its timeline (one strongly consistent GetItem)."""
        try:
            answer = self.client.get_item(TableName=self.table, Key=to_attrs(order_key(order_id)), ConsistentRead=True)
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error, "read the order") from error
        item = answer.get("Item")
        if item is None:
            return None
        meta = from_attrs(item)
        return order_from_item(meta), tracks_of(meta)

    def get(self, order_id: str, *, include_raw: bool = False) -> OrderView | None:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": to_value(f"ORDER#{order_id}")},
        }
        try:
            while True:
                page = self.client.query(**kwargs)
                items.extend(from_attrs(i) for i in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error, "read the order") from error
        meta = next((i for i in items if i["sk"] == "META"), None)
        if meta is None:
            return None
        events = [i for i in items if i["sk"].startswith("EVENT#")]
        events.sort(key=lambda e: (e["received_at"], e["sk"]))
        timeline = [
            {k: ints(v) for k, v in e.items() if k not in {"pk", "sk", "order_id"} and (include_raw or k != "raw")}
            for e in events
        ]
        return OrderView(
            order=order_from_item(meta), tracks=tracks_of(meta), lifecycle=lifecycle_of(meta), timeline=timeline
        )

    def list(
        self,
        *,
        state: OrderState | None = None,
        now: datetime | None = None,
        status: str | None = None,
        branch: str | None = None,
        day: str | None = None,
        limit: int = 50,
        cursor: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Orders, newest first: by lifecycle state, by branch (optionally of one status), by status,
        or by day. ``stuck`` is read as the ``in_progress`` orders whose deadline is before ``now``."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        filters: list[str] = []
        if state is not None:
            stored = OrderState.IN_PROGRESS if state in (OrderState.STUCK, OrderState.IN_PROGRESS) else state
            index, key_attr, key_value = BY_STATE_INDEX, "state", stored.value
            if now is not None and state in (OrderState.STUCK, OrderState.IN_PROGRESS):
                names["#d"] = "state_deadline"
                values[":now"] = to_value(now)
                filters.append("#d < :now" if state is OrderState.STUCK else "(attribute_not_exists(#d) OR #d >= :now)")
            if branch:
                names["#b"] = "branch_id"
                values[":b"] = to_value(branch)
                filters.append("#b = :b")
        elif branch:
            index, key_attr, key_value = BY_BRANCH_INDEX, "branch_id", branch
        elif status:
            index, key_attr, key_value = BY_STATUS_INDEX, "status", status
        else:
            index, key_attr, key_value = BY_DAY_INDEX, "created_day", day
        names["#k"] = key_attr
        values[":k"] = to_value(key_value)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if status and (branch or state is not None):
            names["#s"] = "status"
            values[":s"] = to_value(status)
            filters.append("#s = :s")
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        kwargs["ExpressionAttributeNames"] = names
        kwargs["ExpressionAttributeValues"] = values
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        try:
            page = self.client.query(**kwargs)
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error, "list orders") from error
        rows = [from_attrs(i) for i in page.get("Items", [])]
        return [summary_of(r, now) for r in rows], page.get("LastEvaluatedKey")


def order_from_item(item: dict[str, Any]) -> Order:
    return Order.model_validate({k: v for k, v in item.items() if k in Order.model_fields})


def tracks_of(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": item.get("status"),
        "courier_status": item.get("courier_status"),
        "rent_state": item.get("rent_state"),
        "updated_at": item.get("updated_at"),
    }


def lifecycle_of(item: dict[str, Any]) -> Lifecycle:
    return Lifecycle.model_validate(
        {
            "state": item.get("state") or OrderState.RECEIVED.value,
            "step": item.get("state_step"),
            "deadline": item.get("state_deadline"),
            "failure": item.get("failure"),
            "at": item.get("state_at"),
        }
    )


def shown_state(lifecycle: Lifecycle, now: datetime | None) -> OrderState:
    """The state a person sees: an in-progress order whose wait is past its deadline is stuck."""
    if (
        lifecycle.state is OrderState.IN_PROGRESS
        and now is not None
        and lifecycle.deadline is not None
        and lifecycle.deadline < now
    ):
        return OrderState.STUCK
    return lifecycle.state


def summary_of(item: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    keys = (
        "order_id",
        "source",
        "source_order_id",
        "partner_id",
        "merchant_id",
        "branch_id",
        "status",
        "courier_status",
        "rent_state",
        "received_at",
        "updated_at",
        "order_type",
        "blink_order_id",
    )
    lifecycle = lifecycle_of(item)
    return {
        **{k: item.get(k) for k in keys},
        "state": shown_state(lifecycle, now).value,
        "step": lifecycle.step,
        "failure": lifecycle.failure,
    }
