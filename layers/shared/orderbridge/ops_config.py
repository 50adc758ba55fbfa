"""The config API (docs/configuration.md): the configuration as one document or record by record,
validated by the models the file uses, every change kept in an audit trail.

- ``GET /ops/config``: the whole configuration, the same document as a file (``version: 1``).
- ``PUT /ops/config[?dry_run=true]``: apply a document — each record it holds added or changed,
  records it does not hold left alone; all in one transaction (above 50 changes the documented
  fallback, ``store.config.ConfigChanges.apply``). ``dry_run``: the diff only.
- ``GET /ops/config/{kind}``, ``GET|PUT /ops/config/{kind}/{id}[?dry_run=true]``: one kind
  (merchants, branches, partners, routes, mappings), one record (ids: ``domain.config_changes``).
- ``GET /ops/config/audit?limit=&cursor=``: who changed what, when (UTC), before and after, newest first.

A bad document or record is a 422 naming each field (``branches.1.courier``); a record naming a
merchant, partner or branch that is nowhere is a 422 on that field; nothing is written then.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import Field, ValidationError

from orderbridge.deps import Deps
from orderbridge.domain.config_changes import (
    KIND_MODELS,
    KINDS,
    ONE,
    Change,
    ConfigRecord,
    check_references,
    diff,
    document_of,
    duplicates,
    id_fields,
    id_form,
    key_of,
    records_of,
    validation_errors,
)
from orderbridge.errors import BadRequest, FieldError, InvalidPayload, NotFound
from orderbridge.models.base import OurModel
from orderbridge.models.config import ConfigAction, ConfigAuditEntry, ConfigDocument, ConfigKind
from orderbridge.store.config import (
    AUDIT_PARTITION,
    ConfigChanges,
    Snapshot,
    branch_key,
    item_mapping_key,
    merchant_key,
    partner_branch_key,
    partner_key,
)
from orderbridge.web.paging import decode_cursor, encode_cursor, page_limit
from orderbridge.web.request import parse_json


class ChangeView(OurModel):
    kind: ConfigKind
    id: str
    where: str
    action: ConfigAction
    changed: list[str] = Field(default_factory=list)  # the fields that differ (all of them on an add)
    before: dict[str, Any] | None = None
    after: dict[str, Any]


class ApplyReport(OurModel):
    dry_run: bool
    counts: dict[str, int]  # add, change, unchanged
    changes: list[ChangeView]  # every record of the document, with its action
    apply_id: str | None = None  # None on a dry run or when nothing changed
    transactions: int = 0
    milliseconds: int = 0


class RecordList(OurModel):
    kind: ConfigKind
    records: list[dict[str, Any]]


class AuditPage(OurModel):
    entries: list[ConfigAuditEntry]
    next_cursor: str | None = None


def caller(event: dict[str, Any]) -> str:
    """Who is calling: the signed-in person (the authorizer's ``username``), else the API key's
    id (``api-key:<id>``, a machine client)."""
    context = event.get("requestContext") or {}
    username = (context.get("authorizer") or {}).get("username")
    if username:
        return str(username)
    key_id = (context.get("identity") or {}).get("apiKeyId")
    return f"api-key:{key_id}" if key_id else "unknown"


def dry_run_of(query: dict[str, str]) -> bool:
    value = query.get("dry_run", "false").lower()
    if value not in ("true", "false"):
        raise BadRequest("invalid query", errors=[FieldError("dry_run", "true or false")])
    return value == "true"


def changes_store(deps: Deps) -> ConfigChanges:
    return ConfigChanges(deps.dynamodb, deps.settings.config_table)


# -- reading ----------------------------------------------------------------------------------------


def get_document(deps: Deps) -> ConfigDocument:
    return document_of(changes_store(deps).snapshot().records.values())


def list_records(kind: str, deps: Deps) -> RecordList:
    known = _kind(kind)
    found = sorted(
        (r for (k, _), r in changes_store(deps).snapshot().records.items() if k == known), key=lambda r: key_of(r)[1]
    )
    return RecordList(kind=known, records=[r.model_dump(mode="json", exclude_none=True) for r in found])


def get_record(kind: str, id_: str, deps: Deps) -> ConfigRecord:
    known = _kind(kind)
    record, _ = changes_store(deps).one(known, _record_key(known, id_))
    if record is None:
        raise NotFound(f"no {ONE[known]} {id_!r}", errors=[FieldError("id", "not configured")])
    return record


def get_audit(query: dict[str, str], deps: Deps) -> AuditPage:
    errors: list[FieldError] = []
    limit = page_limit(query, errors)
    after = decode_cursor(query.get("cursor"), errors, partition=AUDIT_PARTITION)
    if errors:
        raise BadRequest("invalid query", errors=errors)
    entries, last_key = changes_store(deps).audit(limit=limit, after=after)
    return AuditPage(entries=entries, next_cursor=encode_cursor(last_key))


# -- changing ---------------------------------------------------------------------------------------


def parse_document(data: Any) -> ConfigDocument:
    """A configuration document (parsed JSON or YAML) → the model; a 422 naming every field at fault."""
    if not isinstance(data, dict):
        raise InvalidPayload("a configuration document is a mapping", errors=[FieldError("body", "an object")])
    try:
        return ConfigDocument.model_validate(data)
    except ValidationError as error:
        raise InvalidPayload("the configuration is not valid", errors=validation_errors(error)) from None


def put_document(body: str, deps: Deps, *, who: str, dry_run: bool) -> ApplyReport:
    document = parse_document(parse_json(body))
    return apply_document(document, deps, who=who, dry_run=dry_run)


def apply_document(document: ConfigDocument, deps: Deps, *, who: str, dry_run: bool = False) -> ApplyReport:
    """Apply ``document`` (the config API's ``PUT /ops/config``, the local stack's demo seeding)."""
    wanted = records_of(document)
    errors = duplicates(wanted)
    if errors:
        raise InvalidPayload("the configuration holds a record twice", errors=errors)
    return _apply(wanted, deps, who=who, dry_run=dry_run)


def put_record(kind: str, id_: str, body: str, deps: Deps, *, who: str, dry_run: bool) -> ApplyReport:
    known = _kind(kind)
    fields = _id_fields(known, id_)
    data = parse_json(body)
    if not isinstance(data, dict):
        raise InvalidPayload(f"a {ONE[known]} is an object", errors=[FieldError("body", "an object")])
    try:
        record = KIND_MODELS[known].model_validate(data)
    except ValidationError as error:
        raise InvalidPayload(f"the {ONE[known]} is not valid", errors=validation_errors(error)) from None
    differs = [FieldError(f, f"the path's id names {v!r}") for f, v in fields.items() if getattr(record, f) != v]
    if differs:
        raise BadRequest(f"the {ONE[known]} is not the one the path names ({id_!r})", errors=differs)
    return _apply([("", record)], deps, who=who, dry_run=dry_run)


def _apply(wanted: list[tuple[str, ConfigRecord]], deps: Deps, *, who: str, dry_run: bool) -> ApplyReport:
    began = time.monotonic()
    store = changes_store(deps)
    snapshot = store.snapshot()
    errors = check_references(snapshot.records, wanted)
    if errors:
        raise InvalidPayload("the configuration names records that are nowhere", errors=errors)
    changes = diff(snapshot.records, wanted)
    counts = {action: sum(c.action == action for c in changes) for action in ("add", "change", "unchanged")}
    report = ApplyReport(dry_run=dry_run, counts=counts, changes=[_view(c) for c in changes])
    if dry_run or counts["add"] + counts["change"] == 0:
        return report
    now = deps.clock()
    apply_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    applied = store.apply(changes, _revisions(snapshot, changes), who=who, when=now, apply_id=apply_id)
    report.apply_id, report.transactions = applied.apply_id, applied.transactions
    report.milliseconds = round((time.monotonic() - began) * 1000)
    return report


def _revisions(snapshot: Snapshot, changes: list[Change]) -> dict[tuple[ConfigKind, str], int | None]:
    return {(c.kind, c.id): snapshot.revisions.get((c.kind, c.id)) for c in changes}


def _view(change: Change) -> ChangeView:
    return ChangeView(
        kind=change.kind,
        id=change.id,
        where=change.where,
        action=change.action,
        changed=sorted(change.fields_changed()) if change.action != "unchanged" else [],
        before=change.before.model_dump(mode="json", exclude_none=True) if change.before is not None else None,
        after=change.after.model_dump(mode="json", exclude_none=True),
    )


def _kind(kind: str) -> ConfigKind:
    for known in KINDS:
        if known == kind:
            return known
    raise NotFound(f"no configuration kind {kind!r}", errors=[FieldError("kind", f"one of {', '.join(KINDS)}")])


def _id_fields(kind: ConfigKind, id_: str) -> dict[str, str]:
    fields = id_fields(kind, id_)
    if fields is None:
        raise BadRequest(
            f"not an id of a {ONE[kind]}", errors=[FieldError("id", f"a {ONE[kind]}'s id is {id_form(kind)}")]
        )
    return fields


def _record_key(kind: ConfigKind, id_: str) -> dict[str, str]:
    """The table key of the record ``id_`` names."""
    f = _id_fields(kind, id_)
    if kind == "merchants":
        return merchant_key(f["merchant_id"])
    if kind == "branches":
        return branch_key(f["branch_id"])
    if kind == "partners":
        return partner_key(f["partner_id"])
    if kind == "routes":
        return partner_branch_key(f["partner_id"], f["partner_branch_id"])
    return item_mapping_key(f["partner_id"], f["merchant_id"], f["kind"], f["partner_item_id"])
