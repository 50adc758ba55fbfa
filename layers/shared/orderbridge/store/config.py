"""Configuration table: merchants, branches, partners, partner branch routes, item mappings.

| item            | pk                              | sk                      |
|-----------------|---------------------------------|-------------------------|
| merchant        | MERCHANT#<merchant_id>          | META                    |
| branch          | BRANCH#<branch_id>              | META                    |
| partner         | PARTNER#<partner_id>            | META                    |
| partner branch  | PARTNER#<partner_id>            | BRANCH#<partner branch> |
| item mapping    | ITEMMAP#<partner_id>#<merchant> | ITEM#<id> / OPTION#<id> |
| audit entry     | CONFIG_AUDIT                    | <when UTC>#<apply id>#<n> |
| apply journal   | CONFIG_APPLY                    | <apply id>              |

A record written through :meth:`ConfigStore.apply` carries a ``revision`` (1, 2, ...): each write
is conditional on the revision it was read at, so two people editing at once cannot overwrite each
other unseen (the second is a 409). Each change is written in the same transaction as its audit
entry: there is no change without its entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from orderbridge.domain.config_changes import KIND_MODELS, ONE, Change, ConfigRecord, RecordKey, key_of
from orderbridge.errors import Conflict, FieldError, OrderbridgeError
from orderbridge.models.config import (
    Branch,
    ConfigAuditEntry,
    ConfigKind,
    ItemMapping,
    Merchant,
    Partner,
    PartnerBranch,
)
from orderbridge.store.batch import Key, batch_get
from orderbridge.store.dynamo import ConditionFailed, aws_call, from_attrs, query_items, to_attrs, to_value

M = TypeVar("M", bound=BaseModel)


def merchant_key(merchant_id: str) -> Key:
    return {"pk": f"MERCHANT#{merchant_id}", "sk": "META"}


def branch_key(branch_id: str) -> Key:
    return {"pk": f"BRANCH#{branch_id}", "sk": "META"}


def partner_key(partner_id: str) -> Key:
    return {"pk": f"PARTNER#{partner_id}", "sk": "META"}


def partner_branch_key(partner_id: str, partner_branch_id: str) -> Key:
    return {"pk": f"PARTNER#{partner_id}", "sk": f"BRANCH#{partner_branch_id}"}


def item_mapping_key(partner_id: str, merchant_id: str, kind: str, partner_item_id: str) -> Key:
    return {"pk": f"ITEMMAP#{partner_id}#{merchant_id}", "sk": f"{kind.upper()}#{partner_item_id}"}


_MODEL_BY_KIND: dict[str, type[BaseModel]] = {
    "merchant": Merchant,
    "branch": Branch,
    "partner": Partner,
    "partner_branch": PartnerBranch,
    "item_mapping": ItemMapping,
}


def _key_for(record: BaseModel) -> Key:
    if isinstance(record, Merchant):
        return merchant_key(record.merchant_id)
    if isinstance(record, Branch):
        return branch_key(record.branch_id)
    if isinstance(record, Partner):
        return partner_key(record.partner_id)
    if isinstance(record, PartnerBranch):
        return partner_branch_key(record.partner_id, record.partner_branch_id)
    if isinstance(record, ItemMapping):
        return item_mapping_key(record.partner_id, record.merchant_id, record.kind, record.partner_item_id)
    raise TypeError(f"not a configuration record: {type(record).__name__}")


def _kind_of(record: BaseModel) -> str:
    return next(kind for kind, model in _MODEL_BY_KIND.items() if isinstance(record, model))


def parse(item: dict[str, Any]) -> BaseModel:
    """A configuration item → its model (by its ``record_type`` attribute)."""
    model = _MODEL_BY_KIND[item["record_type"]]
    return model.model_validate({k: v for k, v in item.items() if k in model.model_fields})


def parse_as(item: dict[str, Any], model: type[M]) -> M:
    """A configuration item → its model, which must be ``model`` (its key says which it is)."""
    record = parse(item)
    if not isinstance(record, model):
        raise TypeError(f"a {item.get('record_type')} item where a {model.__name__} was expected")
    return record


class ConfigStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def put(self, *records: BaseModel) -> None:
        """Write configuration records as they are, one item each: no revision, no audit entry
        (test fixtures). People, the ``orderbridge`` command and the local stack's seeding go
        through the config API's apply (:class:`ConfigChanges`)."""
        for record in records:
            item = {**_key_for(record), "record_type": _kind_of(record), **record.model_dump()}
            with aws_call("record the configuration"):
                self.client.put_item(TableName=self.table, Item=to_attrs(item))

    def records(self, model: type[M]) -> list[M]:
        """Every configuration record of one kind (the ``by_record_type`` index, all pages)."""
        kind = next(kind for kind, known in _MODEL_BY_KIND.items() if known is model)
        found: list[M] = []
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "by_record_type",
            "KeyConditionExpression": "record_type = :kind",
            "ExpressionAttributeValues": {":kind": {"S": kind}},
        }
        while True:
            with aws_call(f"list the {kind} records"):
                answer = self.client.query(**query)
            found.extend(parse_as(from_attrs(item), model) for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return found
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def merchant_ids(self) -> list[str]:
        """The merchants configured here: the scopes of the scheduled syncs."""
        return sorted(merchant.merchant_id for merchant in self.records(Merchant))

    def branch(self, branch_id: str) -> Branch | None:
        """One branch's configuration (GetItem), or None when it is not configured."""
        return self._get(branch_key(branch_id), Branch, "read the branch")

    def partner(self, partner_id: str) -> Partner | None:
        """One delivery partner's configuration (GetItem), or None when it is not configured."""
        return self._get(partner_key(partner_id), Partner, "read the partner")

    def _get(self, key: Key, model: type[M], what: str) -> M | None:
        with aws_call(what):
            answer = self.client.get_item(TableName=self.table, Key=to_attrs(key))
        item = answer.get("Item")
        return None if item is None else parse_as(from_attrs(item), model)

    def mappings(
        self, partner_id: str, merchant_id: str, wanted: set[tuple[str, str]]
    ) -> dict[tuple[str, str], ItemMapping]:
        """The item mappings that exist among ``wanted`` (kind, partner id) pairs: one round trip
        for up to 100 distinct ids."""
        if not wanted:
            return {}
        keys = [item_mapping_key(partner_id, merchant_id, kind, pid) for kind, pid in sorted(wanted)]
        found = batch_get(self.client, {self.table: keys}, consistent=False)[self.table]
        mappings = [parse_as(item, ItemMapping) for item in found]
        return {(mapping.kind, mapping.partner_item_id): mapping for mapping in mappings}


# -- applying configuration changes, with their audit trail ----------------------------------------

AUDIT_PARTITION = "CONFIG_AUDIT"
APPLY_PARTITION = "CONFIG_APPLY"
TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit
ITEMS_PER_CHANGE = 2  # the record and its audit entry
CHANGES_PER_TRANSACTION = TRANSACTION_ITEMS // ITEMS_PER_CHANGE


class ConfigPartlyApplied(OrderbridgeError, status_code=503, code="config_partly_applied"):
    """A document too large for one transaction failed part way: the changes of the transactions
    before the failure are written (each with its audit entry), the rest are not. Applying the same
    document again writes only what still differs."""


@dataclass(frozen=True)
class Snapshot:
    """Every configuration record, by (kind, id), with the revision each was read at."""

    records: dict[RecordKey, ConfigRecord]
    revisions: dict[RecordKey, int | None]


@dataclass(frozen=True)
class Applied:
    changes: int  # records written (adds and changes)
    transactions: int
    apply_id: str


def _record_type(kind: ConfigKind) -> str:
    model = KIND_MODELS[kind]
    return next(name for name, known in _MODEL_BY_KIND.items() if known is model)


def _revision(item: dict[str, Any]) -> int | None:
    value = item.get("revision")
    return None if value is None else int(value)


class ConfigChanges:
    """Reads the whole configuration with its revisions and writes changes with their audit
    entries (the config API, the local stack's demo seeding). ``client`` is the low-level
    DynamoDB client."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def snapshot(self) -> Snapshot:
        """Every record of every kind (one ``by_record_type`` query per kind, all pages)."""
        records: dict[RecordKey, ConfigRecord] = {}
        revisions: dict[RecordKey, int | None] = {}
        for kind in KIND_MODELS:
            query = {
                "TableName": self.table,
                "IndexName": "by_record_type",
                "KeyConditionExpression": "record_type = :kind",
                "ExpressionAttributeValues": {":kind": {"S": _record_type(kind)}},
            }
            for item in query_items(self.client, f"list the {kind}", query):
                record = parse(item)
                assert isinstance(record, KIND_MODELS[kind])
                key = key_of(record)
                records[key], revisions[key] = record, _revision(item)
        return Snapshot(records, revisions)

    def one(self, kind: ConfigKind, record_key: Key) -> tuple[ConfigRecord | None, int | None]:
        """One record (GetItem, strongly consistent) with its revision; (None, None) when absent."""
        with aws_call(f"read the {ONE[kind]}"):
            answer = self.client.get_item(TableName=self.table, Key=to_attrs(record_key), ConsistentRead=True)
        item = answer.get("Item")
        if item is None:
            return None, None
        plain = from_attrs(item)
        record = parse(plain)
        if not isinstance(record, KIND_MODELS[kind]):
            return None, None
        return record, _revision(plain)

    def apply(
        self,
        changes: list[Change],
        revisions: dict[RecordKey, int | None],
        *,
        who: str,
        when: datetime,
        apply_id: str,
    ) -> Applied:
        """Write each change that changes something, with its audit entry, each conditional on the
        record's revision as read (``revisions``).

        Up to :data:`CHANGES_PER_TRANSACTION` changes: one transaction, all or nothing (a record
        changed meanwhile is a 409 and nothing is written). More: the documented fallback
        (docs/configuration.md) — a journal item (``CONFIG_APPLY``/<apply id>) is written first,
        then the changes in transactions of that many, the journal updated after each; a failure
        part way raises :class:`ConfigPartlyApplied` naming how many were written (and the
        journal says so), never a silent half.
        """
        writes = [c for c in changes if c.action != "unchanged"]
        chunks = [writes[i : i + CHANGES_PER_TRANSACTION] for i in range(0, len(writes), CHANGES_PER_TRANSACTION)]
        if len(chunks) <= 1:
            if writes:
                self._transact(writes, revisions, who, when, apply_id, first=0)
            return Applied(len(writes), len(chunks), apply_id)
        self._journal(apply_id, who, when, status="in_progress", total=len(writes), written=0)
        written = 0
        for n, chunk in enumerate(chunks):
            try:
                self._transact(chunk, revisions, who, when, apply_id, first=written)
            except OrderbridgeError as error:
                self._journal(apply_id, who, when, status="partial", total=len(writes), written=written)
                raise ConfigPartlyApplied(
                    f"{written} of {len(writes)} changes were applied (transactions 1 to {n} of {len(chunks)}); "
                    f"transaction {n + 1} failed ({error.message}) and nothing after it was written. "
                    "Apply the same document again: only what still differs is written.",
                    errors=error.errors,
                ) from error
            written += len(chunk)
            self._journal(apply_id, who, when, status="in_progress", total=len(writes), written=written)
        self._journal(apply_id, who, when, status="complete", total=len(writes), written=written)
        return Applied(len(writes), len(chunks), apply_id)

    def _transact(
        self,
        changes: list[Change],
        revisions: dict[RecordKey, int | None],
        who: str,
        when: datetime,
        apply_id: str,
        *,
        first: int,
    ) -> None:
        items: list[dict[str, Any]] = []
        for n, change in enumerate(changes, start=first):
            key = (change.kind, change.id)
            items.append(self._record_put(change, revisions.get(key), who, when))
            entry = ConfigAuditEntry(
                who=who,
                when=when,
                kind=change.kind,
                id=change.id,
                action=change.action,
                before=change.before.model_dump(mode="json") if change.before is not None else None,
                after=change.after.model_dump(mode="json"),
                apply_id=apply_id,
            )
            audit_key = {"pk": AUDIT_PARTITION, "sk": f"{when.isoformat()}#{apply_id}#{n:05d}"}
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_attrs({**audit_key, **entry.model_dump()}),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            with aws_call("apply the configuration", conditional=True):
                self.client.transact_write_items(TransactItems=items)
        except ConditionFailed as failed:
            changed = [c for i, c in enumerate(changes) if failed.at(2 * i, 2 * i + 1)]
            raise Conflict(
                "the configuration changed while this was applied: nothing was written; look at the diff again",
                errors=[FieldError(c.where, f"{ONE[c.kind]} {c.id!r} was changed meanwhile") for c in changed],
            ) from failed

    def _record_put(self, change: Change, revision: int | None, who: str, when: datetime) -> dict[str, Any]:
        item = {
            **_key_for(change.after),
            "record_type": _kind_of(change.after),
            **change.after.model_dump(),
            "revision": (revision or 0) + 1,
            "updated_at": when,
            "updated_by": who,
        }
        put: dict[str, Any] = {"TableName": self.table, "Item": to_attrs(item)}
        if change.before is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        elif revision is None:
            put["ConditionExpression"] = "attribute_exists(pk) AND attribute_not_exists(revision)"
        else:
            put["ConditionExpression"] = "revision = :revision"
            put["ExpressionAttributeValues"] = {":revision": to_value(revision)}
        return {"Put": put}

    def _journal(self, apply_id: str, who: str, when: datetime, *, status: str, total: int, written: int) -> None:
        item = {
            "pk": APPLY_PARTITION,
            "sk": apply_id,
            "who": who,
            "when": when,
            "status": status,
            "changes": total,
            "written": written,
        }
        with aws_call("record the apply's progress"):
            self.client.put_item(TableName=self.table, Item=to_attrs(item))

    def audit(
        self, *, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[ConfigAuditEntry], dict[str, Any] | None]:
        """A page of the audit trail, newest first, and the key to go on from (None: the last page)."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": AUDIT_PARTITION}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            query["ExclusiveStartKey"] = after
        with aws_call("read the configuration's audit trail"):
            page = self.client.query(**query)
        entries = [
            ConfigAuditEntry.model_validate({k: v for k, v in from_attrs(item).items() if k not in ("pk", "sk")})
            for item in page.get("Items", [])
        ]
        return entries, page.get("LastEvaluatedKey")

    def audit_entries(self) -> Iterator[ConfigAuditEntry]:
        """The whole audit trail, newest first (tests, small trails)."""
        after: dict[str, Any] | None = None
        while True:
            page, after = self.audit(limit=200, after=after)
            yield from page
            if after is None:
                return
