"""Orders table: orders, their timelines, raw payloads, vendor-id aliases, unmatched events.

| item             | pk                          | sk                 | notes                                 |
|------------------|-----------------------------|--------------------|---------------------------------------|
| order            | ORDER#<order_id>            | META               | status tracks + GSI keys              |
| timeline event   | ORDER#<order_id>            | EVENT#<event_key>  | raw body kept on the event            |
| alias            | ALIAS#<source>#<vendor id>  | ALIAS              | vendor id → order id (tasks, Blink)   |
| unmatched event  | UNMATCHED#<source>#<ref>    | EVENT#<event_key>  | an event for an order we do not know  |
|                  |                             |                    | (written only: nothing reads it yet)  |
| submission       | SUBMIT#<blink branch>#<name> | SUBMIT            | an order we are submitting to Blink   |

The order item also carries the lifecycle a person reads (``state``, ``state_step``,
``state_deadline``, ``failure``; index ``by_state``) and the owners of its courier and rent tracks
(``courier_job``, ``rent_id``): those tracks follow the current courier job and rent only.

Every write that records something a vendor said is conditional on its event key not being
there yet: that condition is the idempotency guard (one round trip, no extra table). Status
tracks only move forward (``domain.statuses``): the rank condition is part of the same write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orderbridge.domain.statuses import ORDER_STATUS_RANK, TrackUpdate
from orderbridge.errors import NotFound
from orderbridge.models.config import Branch, Partner, PartnerBranch
from orderbridge.models.order import Lifecycle, Order, OrderState, TimelineEntry, TimelineEvent, TrackName, Tracks
from orderbridge.store.batch import Key, batch_get
from orderbridge.store.config import ConfigStore, branch_key, parse_as, partner_branch_key, partner_key
from orderbridge.store.dynamo import ConditionFailed, aws_call, from_attrs, ints, to_attrs, to_value
from orderbridge.store.rents import RentStore

TRACK_RANK_ATTR: dict[TrackName, str] = {
    "status": "status_rank",
    "courier_status": "courier_rank",
    "rent_state": "rent_rank",
}
TRACK_OWNER_ATTR: dict[TrackName, str] = {"courier_status": "courier_job", "rent_state": "rent_id"}
BY_STATE_INDEX = "by_state"
BY_STATUS_INDEX = "by_status"
BY_BRANCH_INDEX = "by_branch"
BY_DAY_INDEX = "by_day"


def order_key(order_id: str) -> Key:
    return {"pk": f"ORDER#{order_id}", "sk": "META"}


def order_id_of(keys: Mapping[str, Any] | None) -> str | None:
    """The order id when ``keys`` (e.g. a stream record's) are an order item's; else None."""
    pk, sk = str((keys or {}).get("pk", "")), (keys or {}).get("sk")
    return pk.removeprefix("ORDER#") if sk == "META" and pk.startswith("ORDER#") else None


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
    tracks: Tracks
    lifecycle: Lifecycle
    timeline: list[TimelineEntry] = field(default_factory=list)


@dataclass(frozen=True)
class OrderWithBranch:
    """What :meth:`OrderStore.find_with_branch` found in its one round trip."""

    stored: bool  # the order asked for is stored
    order_id: str | None  # that order, else the order the vendor's id or the submission names
    branch: Branch | None  # the branch's configuration (None: not configured, or not asked)


@dataclass(frozen=True)
class OrderWithPartner:
    """What :meth:`OrderStore.find_with_partner` found in its one round trip."""

    stored: bool  # the order asked for is stored
    partner: Partner | None  # the delivery partner's configuration
    route: PartnerBranch | None  # the merchant branch the partner's branch is routed to


def _following(follow: TrackUpdate) -> dict[str, Any]:
    """The order's fields that make ``follow.track`` follow ``follow.owner`` from ``follow``."""
    if follow.owner is None or follow.track not in TRACK_OWNER_ATTR:
        raise ValueError(f"the {follow.track} track has no owner to follow")
    return {
        TRACK_OWNER_ATTR[follow.track]: follow.owner,
        follow.track: follow.value,
        TRACK_RANK_ATTR[follow.track]: follow.rank,
    }


def _alias_item(source: str, vendor_id: str, order_id: str) -> dict[str, Any]:
    return {**alias_key(source, vendor_id), "order_id": order_id, "source": source, "vendor_id": vendor_id}


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
        items = [self._put(meta, new_only=True), self._put(_event_item(order.order_id, event, raw), new_only=True)]
        try:
            with aws_call("record the order", conditional=True):
                self.client.transact_write_items(TransactItems=items)
        except ConditionFailed as failed:
            if failed.at(0, 1):
                return Written(order.order_id, duplicate=True)
            raise failed.unexpected() from failed
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
            with aws_call("record the event", conditional=True):
                self.client.transact_write_items(TransactItems=[*rank_items, *guard_items])
            return Written(order_id, created=True)
        except ConditionFailed as failed:
            if failed.at(len(rank_items)):
                return Written(order_id, duplicate=True)
            if not failed.at(0, len(rank_items)):
                raise failed.unexpected() from failed
        return self._record_stale(order_id, {**event_item, "applied": False}, ranked or [], guards or [])

    def _record_stale(
        self, order_id: str, stale_event: dict[str, Any], ranked: list[dict[str, Any]], guards: list[dict[str, Any]]
    ) -> Written:
        """The track is already at or past this status (or the event is about a job or rent that
        is not the order's current one): keep the event in the timeline, and let the further
        updates that still hold (a return rent's own state) move; without them if they do not."""
        for extra in (ranked, []) if ranked else ([],):
            try:
                with aws_call("record the event", conditional=True):
                    self.client.transact_write_items(
                        TransactItems=[self._put(stale_event, new_only=True), *guards, *extra]
                    )
            except ConditionFailed as failed:
                if failed.at(0, 1 + len(guards)):
                    return Written(order_id, duplicate=True)
                if extra:
                    continue
                raise failed.unexpected() from failed
            return Written(order_id, created=True, stale=True)
        raise AssertionError("unreachable: the last attempt has no conditional extras")

    def record_rent_event(
        self,
        order_id: str,
        event: TimelineEvent,
        update: TrackUpdate | None,
        rents: RentStore,
        rent_id: str,
        *,
        at: datetime,
        expires_at: datetime | None = None,
        bloq_event: tuple[str, dict[str, Any]] | None = None,
    ) -> Written:
        """:meth:`record_event` for an event of the order's rent ``rent_id`` (in ``rents``): the
        rent's own state (and a later ``expires_at``) moves with the order's rent track — which
        follows its current rent only — and timeline in one write, guarded by the Bloq.It event
        record (``bloq_event``: its id and what to keep of it) when there is one."""
        ranked = [rents.state_update(rent_id, update, at)] if update else []
        if expires_at is not None:
            ranked.append(rents.expiry_update(rent_id, expires_at, at))
        guards = [rents.event_guard(*bloq_event)] if bloq_event else []
        return self.record_event(order_id, event, update.of(rent_id) if update else None, ranked=ranked, guards=guards)

    def link_vendor(
        self,
        order_id: str,
        event: TimelineEvent,
        *,
        fields: dict[str, Any] | None = None,
        alias: tuple[str, str] | None = None,
        update: TrackUpdate | None = None,
        follow: TrackUpdate | None = None,
    ) -> Written:
        """Record what an outbound action did at a vendor, in one transaction: the vendor's ids on
        the order (``fields``), the alias (source, vendor id) by which the vendor's webhooks find
        the order, and a timeline event; and, when ``update`` is newer than the order's track, the
        track. ``follow`` makes its track follow a new owner (``follow.owner``: a new courier job
        or rent) from ``follow``'s value, whatever the track was. The same event recorded before
        is a duplicate: nothing is written. A track already further along than ``update`` is left
        alone: the rest is written and the event has ``applied: false``. Raises ``NotFound`` when
        the order does not exist.
        """
        event_item = _event_item(order_id, event, None)
        fields = {**(fields or {}), **(_following(follow) if follow else {})}
        outcome = self._link(order_id, event_item, fields, alias, update, event.received_at)
        if outcome is not None:
            return outcome
        # The track is already at or past ``update``: record the rest without it.
        outcome = self._link(order_id, {**event_item, "applied": False}, fields, alias, None, event.received_at)
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
        items = [self._order_update(order_id, fields, update, at)]
        if alias is not None:
            source, vendor_id = alias
            items.append(self._put(_alias_item(source, vendor_id, order_id), new_only=False))
        items.append(self._put(event_item, new_only=True))
        try:
            with aws_call("record what the vendor did", conditional=True):
                self.client.transact_write_items(TransactItems=items)
        except ConditionFailed as failed:
            if failed.at(-1):
                return Written(order_id, duplicate=True)
            if failed.at(0, 1):
                if update is not None:
                    return None
                raise NotFound(f"no order {order_id!r}") from failed
            raise failed.unexpected() from failed
        return Written(order_id, created=True)

    def _order_update(
        self, order_id: str, fields: dict[str, Any], update: TrackUpdate | None, at: datetime
    ) -> dict[str, Any]:
        """The Update (for a transaction) that sets ``fields`` on an existing order and, when
        ``update`` is newer than the order's track (and its owner the current one), the track."""
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
        return {"Update": order_update}

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
            with aws_call("record the order's state", conditional=True):
                self.client.update_item(
                    TableName=self.table,
                    Key=to_attrs(order_key(order_id)),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues=values,
                )
        except ConditionFailed:
            return False
        return True

    def expect_submission(self, blink_branch_id: str, customer_name: str, order_id: str) -> None:
        """Remember, before submitting an order to Blink, which order Blink's announcement of it
        belongs to: the Blink branch and the customer name we give it (see :func:`submission_key`)."""
        item = {**submission_key(blink_branch_id, customer_name), "order_id": order_id}
        with aws_call("record the submission"):
            self.client.put_item(TableName=self.table, Item=to_attrs(item))

    def record_unmatched(self, source: str, ref: str, event: TimelineEvent, raw: str) -> Written:
        """Keep an event we cannot attach to an order, with its raw body, so nothing a vendor said
        is lost. Written only: nothing reads these items yet (no query, ops route or replay
        exists); the syncs of issue 10 are to read them."""
        item = {
            "pk": f"UNMATCHED#{source}#{ref}",
            "sk": f"EVENT#{event.event_key}",
            **event.model_dump(),
            "raw": raw,
        }
        try:
            with aws_call("record the event", conditional=True):
                self.client.put_item(
                    TableName=self.table, Item=to_attrs(item), ConditionExpression="attribute_not_exists(pk)"
                )
        except ConditionFailed:
            return Written(None, duplicate=True)
        return Written(None, created=True)

    def count_resume(self, order_id: str, *, undo: bool = False) -> int:
        """Count a resume of the order's workflow (or take one back); returns the new count."""
        with aws_call("count the resume"):
            answer = self.client.update_item(
                TableName=self.table,
                Key=to_attrs(order_key(order_id)),
                UpdateExpression="SET workflow_resumes = if_not_exists(workflow_resumes, :zero) + :step",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":zero": to_value(0), ":step": to_value(-1 if undo else 1)},
                ReturnValues="UPDATED_NEW",
            )
        return int(from_attrs(answer["Attributes"])["workflow_resumes"])

    def put_alias(self, source: str, vendor_id: str, order_id: str) -> None:
        """Remember which order a vendor's id (a Blink order id, a courier task id) belongs to."""
        with aws_call("record the vendor's id"):
            self.client.put_item(TableName=self.table, Item=to_attrs(_alias_item(source, vendor_id, order_id)))

    def _put(self, item: dict[str, Any], *, new_only: bool) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": to_attrs(item)}
        if new_only:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    # -- reads -------------------------------------------------------------------------------

    def find_with_branch(
        self,
        order_id: str,
        branch_id: str | None,
        config: ConfigStore,
        *,
        alias: tuple[str, str] | None = None,
        submitted: tuple[str, str] | None = None,
    ) -> OrderWithBranch:
        """An incoming order or status in one strongly consistent round trip (BatchGetItem): is
        the order stored; else which order the vendor's id (``alias``: source, vendor id) or the
        mark of an order we submitted (``submitted``: Blink branch, customer name; see
        :func:`submission_key`) names; and the configuration of ``branch_id`` (from ``config``)."""
        keys = [order_key(order_id)]
        keys += [alias_key(*alias)] if alias else []
        keys += [submission_key(*submitted)] if submitted else []
        wanted = {self.table: keys, **({config.table: [branch_key(branch_id)]} if branch_id else {})}
        found = batch_get(self.client, wanted)
        items = sorted(found[self.table], key=lambda item: ("META", "ALIAS", "SUBMIT").index(item["sk"]))
        branches = found.get(config.table, []) if branch_id else []
        return OrderWithBranch(
            stored=bool(items) and items[0]["sk"] == "META",
            order_id=str(items[0]["order_id"]) if items else None,
            branch=parse_as(branches[0], Branch) if branches else None,
        )

    def find_with_partner(
        self, order_id: str, partner_id: str, partner_branch_id: str, config: ConfigStore
    ) -> OrderWithPartner:
        """An incoming partner order in one strongly consistent round trip (BatchGetItem): is the
        order stored, the partner's configuration and the route of its branch (from ``config``)."""
        wanted = {
            self.table: [order_key(order_id)],
            config.table: [partner_key(partner_id), partner_branch_key(partner_id, partner_branch_id)],
        }
        found = batch_get(self.client, wanted)
        records = found[config.table]
        partners = [parse_as(i, Partner) for i in records if i["record_type"] == "partner"]
        routes = [parse_as(i, PartnerBranch) for i in records if i["record_type"] == "partner_branch"]
        return OrderWithPartner(
            stored=bool(found[self.table]),
            partner=partners[0] if partners else None,
            route=routes[0] if routes else None,
        )

    def order_for(self, source: str, vendor_id: str) -> str | None:
        """The order a vendor's id belongs to (its alias; one strongly consistent round trip)."""
        found = batch_get(self.client, {self.table: [alias_key(source, vendor_id)]})[self.table]
        return str(found[0]["order_id"]) if found else None

    def load(self, order_id: str) -> tuple[Order, Tracks] | None:
        """The order and its status tracks without its timeline (one strongly consistent GetItem)."""
        with aws_call("read the order"):
            answer = self.client.get_item(TableName=self.table, Key=to_attrs(order_key(order_id)), ConsistentRead=True)
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
        with aws_call("read the order"):
            while True:
                page = self.client.query(**kwargs)
                items.extend(from_attrs(i) for i in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        meta = next((i for i in items if i["sk"] == "META"), None)
        if meta is None:
            return None
        events = [i for i in items if i["sk"].startswith("EVENT#")]
        events.sort(key=lambda e: (e["received_at"], e["sk"]))
        timeline = [
            TimelineEntry.model_validate(
                {k: ints(v) for k, v in e.items() if k not in {"pk", "sk", "order_id"} and (include_raw or k != "raw")}
            )
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
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            **_list_query(state=state, now=now, status=status, branch=branch, day=day),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        with aws_call("list orders"):
            page = self.client.query(**kwargs)
        rows = [from_attrs(i) for i in page.get("Items", [])]
        return [summary_of(r, now) for r in rows], page.get("LastEvaluatedKey")


def _list_query(
    *, state: OrderState | None, now: datetime | None, status: str | None, branch: str | None, day: str | None
) -> dict[str, Any]:
    """The index, key condition and filters of :meth:`OrderStore.list` (Query parameters)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    filters: list[str] = []
    key_value: str | None
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
    if status and (branch or state is not None):
        names["#s"] = "status"
        values[":s"] = to_value(status)
        filters.append("#s = :s")
    query: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": "#k = :k"}
    if filters:
        query["FilterExpression"] = " AND ".join(filters)
    return {**query, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def order_from_item(item: dict[str, Any]) -> Order:
    return Order.model_validate({k: v for k, v in item.items() if k in Order.model_fields})


def tracks_of(item: dict[str, Any]) -> Tracks:
    """The status tracks of an order item (or of its projection on the tracks)."""
    return Tracks.model_validate({k: item.get(k) for k in Tracks.model_fields})


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
