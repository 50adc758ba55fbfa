"""Orders table: orders, their timelines, raw payloads, vendor-id aliases, unmatched events.

| item             | pk                          | sk                 | notes                                 |
|------------------|-----------------------------|--------------------|---------------------------------------|
| order            | ORDER#<order_id>            | META               | status tracks + GSI keys              |
| timeline event   | ORDER#<order_id>            | EVENT#<event_key>  | raw body kept on the event            |
| alias            | ALIAS#<source>#<vendor id>  | ALIAS              | vendor id → order id (tasks, Blink)   |
| unmatched event  | UNMATCHED#<source>#<ref>    | EVENT#<event_key>  | an event for an order we do not know  |
|                  |                             |                    | yet; applied, then deleted, when the  |
|                  |                             |                    | order arrives (workflow/unmatched.py) |
| submission       | SUBMIT#<blink branch>#<name> | SUBMIT            | an order we are submitting to Blink   |

The order item also carries the lifecycle a person reads (``state``, ``state_step``,
``state_deadline``, ``failure``; index ``by_state``) and the owners of its courier and rent tracks
(``courier_job``, ``rent_id``): those tracks follow the current courier job and rent only.

Every write that records something a vendor said is conditional on its event key not being
there yet: that condition is the idempotency guard (one round trip, no extra table). Status
tracks only move forward (``domain.statuses``): the rank condition is part of the same write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderbridge.domain.statuses import (
    ORDER_STATUS_RANK,
    TERMINAL,
    TrackUpdate,
    blink_status_identity,
    order_status_update,
    rent_state_update,
)
from orderbridge.errors import NotFound
from orderbridge.models.config import Branch, Partner, PartnerBranch
from orderbridge.models.order import (
    CancelRequest,
    Lifecycle,
    Order,
    OrderState,
    TimelineEntry,
    TimelineEvent,
    TrackName,
    Tracks,
)
from orderbridge.models.rent import Rent
from orderbridge.store.batch import Key, batch_get
from orderbridge.store.config import ConfigStore, branch_key, parse_as, partner_branch_key, partner_key
from orderbridge.store.dynamo import ConditionFailed, aws_call, from_attrs, ints, query_items, to_attrs, to_value
from orderbridge.store.rents import RentStore, rent_key

if TYPE_CHECKING:  # Bloq.It's models and events: loaded by what records one (a webhook for Blink does not)
    from orderbridge.models.bloqit_webhooks import BloqWebhookEvent

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
# How long an event for an order we do not know is kept for the order to arrive (then TTL).
UNMATCHED_KEPT_DAYS = 30


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


def unmatched_pk(source: str, ref: str) -> str:
    """Where the events for ``ref`` (a vendor's id of an order we do not know yet) are kept."""
    return f"UNMATCHED#{source}#{ref}"


@dataclass(frozen=True)
class UnmatchedEvent:
    """An event kept before its order was known: its timeline event and the body as received."""

    event: TimelineEvent
    raw: str


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
class OpenRent:
    """An order in progress whose current locker rent has not finished (what the rent
    reconciliation walks, :meth:`OrderStore.open_rents`)."""

    order_id: str
    rent_id: str
    rent_state: str | None
    position: str  # the order's ``created_key``: a walk started ``after`` it goes on behind this order


@dataclass(frozen=True)
class OrderWithBranch:
    """What :meth:`OrderStore.find_with_branch` found in its one round trip."""

    stored: bool  # the order asked for is stored
    order_id: str | None  # that order, else the order the vendor's id or the submission names
    branch: Branch | None  # the branch's configuration (None: not configured, or not asked)
    order_branch_id: str | None = None  # the stored order's own branch (when ``stored``)


@dataclass(frozen=True)
class OrderWithPartner:
    """What :meth:`OrderStore.find_with_partner` found in its one round trip."""

    stored: bool  # the order asked for is stored
    partner: Partner | None  # the delivery partner's configuration
    route: PartnerBranch | None  # the merchant branch the partner's branch is routed to


@dataclass(frozen=True)
class OpenOrder:
    """An order that has not ended, as :meth:`OrderStore.open_orders` walks them: what the
    scheduled syncs judge it by (its lifecycle, its Blink status and when that last moved, which
    workflow execution is its current one), and where a walk resumes after it."""

    order_id: str
    merchant_id: str
    lifecycle: Lifecycle
    received_at: datetime
    status: str
    status_rank: int
    status_at: datetime  # when the Blink status last moved (older orders: their last update)
    blink_order_id: str | None
    workflow_resumes: int
    position: str  # ``<state>#<created_key>``: a walk started ``after`` it goes on behind this order

    @property
    def execution(self) -> str:
        """The name of the order's current workflow execution (``ops.resume_workflow`` names a
        resumed one ``<order_id>-r<n>``; ``workflow.signals.start_workflow`` the first)."""
        return self.order_id if self.workflow_resumes <= 0 else f"{self.order_id}-r{self.workflow_resumes}"


_OPEN_ORDER_ATTRS = (
    "order_id",
    "merchant_id",
    "state",
    "state_step",
    "state_deadline",
    "failure",
    "state_at",
    "received_at",
    "status",
    "status_rank",
    "status_at",
    "updated_at",
    "blink_order_id",
    "workflow_resumes",
    "created_key",
)


def _open_order(item: dict[str, Any]) -> OpenOrder:
    return OpenOrder(
        order_id=str(item["order_id"]),
        merchant_id=str(item.get("merchant_id") or ""),
        lifecycle=lifecycle_of(item),
        received_at=datetime.fromisoformat(str(item["received_at"])),
        status=str(item.get("status") or ""),
        status_rank=int(item.get("status_rank", 0)),
        status_at=datetime.fromisoformat(str(item.get("status_at") or item.get("updated_at") or item["received_at"])),
        blink_order_id=str(item["blink_order_id"]) if item.get("blink_order_id") else None,
        workflow_resumes=int(item.get("workflow_resumes", 0)),
        position=f"{item['state']}#{item['created_key']}",
    )


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
            "status_at": order.received_at,
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

    def record_bloq_rent_event(
        self,
        event: BloqWebhookEvent,
        rent: Rent,
        raw: str,
        received_at: datetime,
        rents: RentStore,
        *,
        found_by: str | None = None,
        happened_at: datetime | None = None,
    ) -> Written:
        """A Bloq.It event of one of our rents (``rent``, in ``rents``), however it reached us: the
        rent's state (and expiry), the order's rent track and its timeline move in one write, guarded
        by the event's id (``bloq:<_id>``, ``BLOQEVENT#<_id>``; see ``domain.rent_events``), so the
        second of two ways it comes is a duplicate. ``found_by``: how it was found when no webhook
        brought it (kept on the event record and in the timeline); ``happened_at``: Bloq.It's time."""
        from orderbridge.domain.rent_events import event_record, new_expiry, rent_timeline_event

        expiry = new_expiry(event)  # rent.extended: the rent's expiry follows (later only), in the same write
        found = {"found_by": found_by} if found_by else {}
        return self.record_rent_event(
            rent.order_id,
            rent_timeline_event(event, rent.rent_id, expiry, received_at, happened_at, found),
            rent_state_update(event.rent_state),
            rents,
            rent.rent_id,
            at=received_at,
            expires_at=expiry,
            bloq_event=(event.id, {**event_record(event, raw, received_at), **found, "order_id": rent.order_id}),
        )

    def record_blink_status(
        self, order_id: str, event: TimelineEvent, blink_order_id: str, status: int, raw: str
    ) -> Written:
        """A Blink status event (its webhook's, or one kept before its order was known) on the order's
        status track and timeline; a duplicate when the reconciliation already read the order's reaching
        that status back with getOrder (``syncs.blink_statuses``: its key is
        :func:`~orderbridge.domain.statuses.blink_status_identity`)."""
        reconciled = self.event_absent(order_id, blink_status_identity(blink_order_id, status))
        return self.record_event(order_id, event, order_status_update(status), raw=raw, guards=[reconciled])

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
            names["#track_at"] = f"{update.track}_at"  # when the track last moved
            values.update({":value": to_value(update.value), ":rank": to_value(update.rank)})
            sets += ["#track = :value", "#rank = :rank", "#track_at = :at"]
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
        names = {"#track": update.track, "#rank": TRACK_RANK_ATTR[update.track], "#track_at": f"{update.track}_at"}
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
                "UpdateExpression": "SET #track = :value, #rank = :rank, #track_at = :at, updated_at = :at",
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
        return self._write_lifecycle("record the order's state", order_id, expression, condition, values)

    def _write_lifecycle(
        self, what: str, order_id: str, expression: str, condition: str, values: dict[str, Any]
    ) -> bool:
        """Update the order's lifecycle (``#state`` names ``state``) if ``condition`` holds; False
        when it does not."""
        try:
            with aws_call(what, conditional=True):
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

    def claim_send(self, order_id: str, call: str, attempt: int, at: datetime) -> bool:
        """Mark, before sending it, a vendor call that cannot be looked up afterwards (``call``: a
        name, e.g. ``dispatchninja_add``; ``attempt``: which one of the order's). False when this
        attempt is marked already: an earlier run sent it, or may have, and did not record the
        answer — it must not be sent again before a person checked (:meth:`clear_send`)."""
        try:
            with aws_call("mark the vendor call", conditional=True):
                self.client.update_item(
                    TableName=self.table,
                    Key=to_attrs(order_key(order_id)),
                    UpdateExpression="SET #sent = :mark",
                    ConditionExpression=(
                        "attribute_exists(pk) AND (attribute_not_exists(#sent) OR #sent.attempt <> :attempt)"
                    ),
                    ExpressionAttributeNames={"#sent": f"sending_{call}"},
                    ExpressionAttributeValues={
                        ":mark": to_value({"attempt": attempt, "at": at}),
                        ":attempt": to_value(attempt),
                    },
                )
        except ConditionFailed:
            return False
        return True

    def clear_send(self, order_id: str, call: str) -> None:
        """Take back :meth:`claim_send`'s mark: the call provably did not reach the vendor, or a person
        checked that the vendor has nothing of it."""
        try:
            with aws_call("clear the vendor call's mark", conditional=True):
                self.client.update_item(
                    TableName=self.table,
                    Key=to_attrs(order_key(order_id)),
                    UpdateExpression="REMOVE #sent",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#sent": f"sending_{call}"},
                )
        except ConditionFailed as failed:
            raise NotFound(f"no order {order_id!r}") from failed

    def record_unmatched(self, source: str, ref: str, event: TimelineEvent, raw: str) -> Written:
        """Keep an event we cannot attach to an order yet, with its raw body, under the vendor's
        ``ref`` (a Blink order id, a courier task id, a Bloq.It rent id), so nothing a vendor said is
        lost: when an order becomes known by ``ref`` (the order stream, ``workflow/unmatched.py``)
        :meth:`unmatched` reads them back, they are applied in their order through the webhook's own
        write (idempotent by event key) and :meth:`forget_unmatched` deletes each once applied.
        One whose order never comes (another integration's rent, an order we never got) expires
        after :data:`UNMATCHED_KEPT_DAYS` (the table's TTL attribute ``expires_at``)."""
        expires = event.received_at + timedelta(days=UNMATCHED_KEPT_DAYS)
        item = {
            "pk": unmatched_pk(source, ref),
            "sk": f"EVENT#{event.event_key}",
            **event.model_dump(),
            "raw": raw,
            "expires_at": int(expires.timestamp()),
        }
        try:
            with aws_call("record the event", conditional=True):
                self.client.put_item(
                    TableName=self.table, Item=to_attrs(item), ConditionExpression="attribute_not_exists(pk)"
                )
        except ConditionFailed:
            return Written(None, duplicate=True)
        return Written(None, created=True)

    def unmatched(self, source: str, ref: str) -> list[UnmatchedEvent]:
        """The events kept for ``ref`` before its order was known, in the order they happened
        (the vendor's time where it gave one, else when we received them; one strongly consistent
        query, all pages)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": to_value(unmatched_pk(source, ref))},
            "ConsistentRead": True,
        }
        found: list[UnmatchedEvent] = []
        with aws_call("read the unmatched events"):
            while True:
                page = self.client.query(**kwargs)
                for item in (from_attrs(i) for i in page.get("Items", [])):
                    raw = str(item.pop("raw", ""))
                    fields = {k: v for k, v in item.items() if k in TimelineEvent.model_fields}
                    found.append(UnmatchedEvent(TimelineEvent.model_validate(fields), raw))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found.sort(key=lambda kept: (kept.event.at or kept.event.received_at, kept.event.received_at))
        return found

    def forget_unmatched(self, source: str, ref: str, event_key: str) -> None:
        """Delete one kept event once it is applied to its order (deleting it twice is harmless)."""
        with aws_call("delete the unmatched event"):
            self.client.delete_item(
                TableName=self.table, Key=to_attrs({"pk": unmatched_pk(source, ref), "sk": f"EVENT#{event_key}"})
            )

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

    def request_cancel(
        self, order_id: str, request: CancelRequest, event: TimelineEvent, *, ended: frozenset[OrderState]
    ) -> bool:
        """Record a person's cancel request on the order (``cancel_request``: it settles the open
        wait, ``domain.waits``) with its timeline event, in one transaction — unless the order is in
        one of ``ended``: False then. Asked again (after the cancel path failed), the newer request
        replaces the older one."""
        values: dict[str, Any] = {":request": to_value(request.model_dump())}
        condition = "attribute_exists(pk)"
        for index, state in enumerate(sorted(ended)):
            values[f":ended{index}"] = to_value(state.value)
            condition += f" AND #state <> :ended{index}"
        update = {
            "Update": {
                "TableName": self.table,
                "Key": to_attrs(order_key(order_id)),
                "UpdateExpression": "SET cancel_request = :request",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": values,
            }
        }
        put = self._put(_event_item(order_id, event, None), new_only=True)
        try:
            with aws_call("record the cancel request", conditional=True):
                self.client.transact_write_items(TransactItems=[update, put])
        except ConditionFailed as failed:
            if failed.at(0, 1):
                return False
            raise failed.unexpected() from failed
        return True

    def put_alias(self, source: str, vendor_id: str, order_id: str) -> None:
        """Remember which order a vendor's id (a Blink order id, a courier task id) belongs to."""
        with aws_call("record the vendor's id"):
            self.client.put_item(TableName=self.table, Item=to_attrs(_alias_item(source, vendor_id, order_id)))

    def event_absent(self, order_id: str, key: str) -> dict[str, Any]:
        """A guard (for :meth:`record_event`'s ``guards``): the order's timeline has no event ``key``
        yet — the write is a duplicate if it has (e.g. a Blink status the reconciliation already
        recorded, ``syncs.blink_statuses``)."""
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": to_attrs(event_key(order_id, key)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

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
            order_branch_id=str(items[0]["branch_id"]) if items and items[0].get("branch_id") is not None else None,
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

    def open_rents(self, merchant_id: str, *, after: str | None = None, page_size: int = 100) -> Iterator[OpenRent]:
        """The merchant's orders in progress (stuck ones too) whose current rent has not finished,
        oldest first, behind the order at ``after`` (an :attr:`OpenRent.position`) when given: a Query
        of the ``by_state`` index (``state = in_progress``, ``created_key > after``), filtered on the
        merchant, a rent (``rent_id``) and its track short of ``finished``; read page by page as the
        caller goes on."""
        condition = "#state = :state" + (" AND created_key > :after" if after else "")
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": BY_STATE_INDEX,
            "KeyConditionExpression": condition,
            "FilterExpression": "merchant_id = :merchant AND attribute_exists(rent_id)"
            " AND (attribute_not_exists(rent_rank) OR rent_rank < :finished)",
            "ProjectionExpression": "order_id, rent_id, rent_state, created_key",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":state": to_value(OrderState.IN_PROGRESS.value),
                ":merchant": to_value(merchant_id),
                ":finished": to_value(TERMINAL),
                **({":after": to_value(after)} if after else {}),
            },
            "Limit": page_size,
        }
        for item in query_items(self.client, "list the open locker orders", kwargs):
            yield OpenRent(
                order_id=str(item["order_id"]),
                rent_id=str(item["rent_id"]),
                rent_state=item.get("rent_state"),
                position=str(item["created_key"]),
            )

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
        source: str | None = None,
        limit: int = 50,
        cursor: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Orders, newest first: by lifecycle state, by branch (optionally of one status), by status,
        or by day; ``day`` narrows the first three (their index's ``created_key`` starts with it),
        ``source`` (``blink``, ``partner``) filters any. ``stuck`` is read as the ``in_progress``
        orders whose deadline is before ``now``."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            **_list_query(state=state, now=now, status=status, branch=branch, day=day, source=source),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        with aws_call("list orders"):
            page = self.client.query(**kwargs)
        rows = [from_attrs(i) for i in page.get("Items", [])]
        return [summary_of(r, now) for r in rows], page.get("LastEvaluatedKey")

    def find(
        self,
        order_ids: Sequence[str],
        aliases: Sequence[tuple[str, str]],
        *,
        rents: RentStore | None = None,
        rent_id: str | None = None,
        now: datetime | None = None,
    ) -> Sequence[dict[str, Any]]:  # (``list`` is the method above)
        """The orders any of these ids name, as list rows, newest first: ``order_ids`` (ours),
        ``aliases`` (source, vendor id: a Blink order id, a courier task), ``rent_id`` (a Bloq.It
        rent, from ``rents``). One BatchGetItem for them all, a second for the orders an alias or
        the rent points to."""
        wanted: dict[str, list[Key]] = {
            self.table: [order_key(i) for i in order_ids] + [alias_key(*alias) for alias in aliases]
        }
        if rents is not None and rent_id:
            wanted[rents.table] = [rent_key(rent_id)]
        found = batch_get(self.client, wanted, consistent=False)
        orders = {str(i["order_id"]): i for i in found[self.table] if i["sk"] == "META"}
        pointed = {str(i["order_id"]) for i in found[self.table] if i["sk"] == "ALIAS"}
        if rents is not None and rent_id:
            pointed |= {str(i["rent_order_id"]) for i in found[rents.table] if i.get("rent_order_id")}
        missing = sorted(pointed - set(orders))
        if missing:
            more = batch_get(self.client, {self.table: [order_key(i) for i in missing]}, consistent=False)
            orders.update({str(i["order_id"]): i for i in more[self.table]})
        rows = sorted(orders.values(), key=lambda item: str(item.get("created_key", "")), reverse=True)
        return [summary_of(row, now) for row in rows]

    def count_states(
        self, day: str, now: datetime, *, branch: str | None = None, source: str | None = None
    ) -> dict[OrderState, int]:
        """How many of ``day``'s orders are in each state (``stuck`` apart from ``in_progress``):
        one counting Query of the ``by_state`` index per state (``created_key`` starts with
        ``day``), filtered on ``branch`` / ``source`` when given."""
        counts: dict[OrderState, int] = {}
        for state in OrderState:
            query: dict[str, Any] = {
                "TableName": self.table,
                **_list_query(state=state, now=now, status=None, branch=branch, day=day, source=source),
                "Select": "COUNT",
            }
            total = 0
            with aws_call("count orders"):
                while True:
                    page = self.client.query(**query)
                    total += int(page.get("Count", 0))
                    if "LastEvaluatedKey" not in page:
                        break
                    query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            counts[state] = total
        return counts

    # -- the scheduled syncs' walks ---------------------------------------------------------------

    def open_orders(
        self,
        states: Sequence[OrderState],
        *,
        after: str | None = None,
        blink_status_unmoved_since: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[OpenOrder]:
        """The orders in ``states``, state by state (in the order given), oldest first, from the
        ``by_state`` index; after the order at ``after`` (an :attr:`OpenOrder.position`) when given.

        ``blink_status_unmoved_since``: only orders with a Blink order id whose Blink status is not
        final and has not moved since then (a filter on the index: read, not returned)."""
        start_state, _, start_key = (after or "").partition("#")
        order = [state.value for state in states]
        begin = order.index(start_state) if start_state in order else 0
        for state in order[begin:]:
            query = _open_orders_query(self.table, state, blink_status_unmoved_since, page_size)
            if state == start_state and start_key:
                order_id = start_key.rsplit("#", 1)[-1]
                query["ExclusiveStartKey"] = to_attrs({**order_key(order_id), "state": state, "created_key": start_key})
            for item in query_items(self.client, "list open orders", query):
                yield _open_order(item)

    def mark_stuck(self, seen: OpenOrder, lifecycle: Lifecycle) -> bool:
        """Record that ``seen`` is stuck (``lifecycle``: in progress, past its deadline, its
        failure saying why) — only if its lifecycle has not moved since it was read and it is not
        marked yet. False when it moved (the workflow went on, a person resumed it) or another run
        marked it first."""
        if lifecycle.failure is None or lifecycle.deadline is None:
            raise ValueError("a stuck order needs its deadline and the reason")
        before = seen.lifecycle
        condition = "attribute_exists(pk) AND #state = :seen_state AND attribute_not_exists(failure)"
        condition += " AND state_at = :seen_at" if before.at else " AND attribute_not_exists(state_at)"
        values: dict[str, Any] = {
            ":seen_state": to_value(before.state.value),
            **({":seen_at": to_value(before.at)} if before.at else {}),
            ":state": to_value(lifecycle.state.value),
            ":at": to_value(lifecycle.at),
            ":deadline": to_value(lifecycle.deadline),
            ":failure": to_value(lifecycle.failure.model_dump()),
            ":step": to_value(lifecycle.step or before.step or "-"),
        }
        expression = (
            "SET #state = :state, state_at = :at, state_deadline = :deadline, failure = :failure, state_step = :step"
        )
        return self._write_lifecycle("record the stuck order", seen.order_id, expression, condition, values)


def _open_orders_query(table: str, state: str, unmoved_since: datetime | None, page_size: int) -> dict[str, Any]:
    """The Query of :meth:`OrderStore.open_orders` for the orders in ``state`` (the ``by_state``
    index; what an :class:`OpenOrder` needs); with ``unmoved_since``, filtered on a Blink order id
    whose Blink status is not final and has not moved since then."""
    names = {f"#a{n}": attr for n, attr in enumerate(_OPEN_ORDER_ATTRS)}
    values: dict[str, Any] = {":k": to_value(state)}
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": BY_STATE_INDEX,
        "KeyConditionExpression": "#k = :k",
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "Limit": page_size,
    }
    names["#k"] = "state"
    if unmoved_since is not None:
        names.update({"#bid": "blink_order_id", "#rank": "status_rank", "#sat": "status_at", "#upd": "updated_at"})
        values.update({":final": to_value(TERMINAL), ":since": to_value(unmoved_since)})
        query["FilterExpression"] = (
            "attribute_exists(#bid) AND #rank < :final"
            " AND (#sat < :since OR (attribute_not_exists(#sat) AND #upd < :since))"
        )
    return query


def _list_query(
    *,
    state: OrderState | None,
    now: datetime | None,
    status: str | None,
    branch: str | None,
    day: str | None,
    source: str | None = None,
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
    if source:
        names["#src"] = "source"
        values[":src"] = to_value(source)
        filters.append("#src = :src")
    key_condition = "#k = :k"
    if day and index != BY_DAY_INDEX:  # created_key is "<received_at ISO>#<order id>"
        names["#ck"] = "created_key"
        values[":day"] = to_value(day)
        key_condition += " AND begins_with(#ck, :day)"
    query: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": key_condition}
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
