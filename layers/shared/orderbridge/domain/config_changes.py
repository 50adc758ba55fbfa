"""What applying a configuration changes, without I/O: each record's kind and id, the diff between
what is configured and what a document (or one record) wants, the references between records, and
pydantic's errors as field-level reasons (the config API and the ``orderbridge config`` CLI both
answer with these).

A record's id in the config API (``/ops/config/{kind}/{id}``) is its key:

| kind      | id                                                  |
|-----------|-----------------------------------------------------|
| merchants | ``<merchant_id>``                                   |
| branches  | ``<branch_id>``                                     |
| partners  | ``<partner_id>``                                    |
| routes    | ``<partner_id>:<partner_branch_id>``                |
| mappings  | ``<partner_id>:<merchant_id>:<kind>:<partner_item_id>`` |

(merchant and partner ids hold no ``:``, see ``models.config.KeyId``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, get_args

from pydantic import ValidationError

from orderbridge.errors import FieldError
from orderbridge.models.config import (
    Branch,
    ConfigAction,
    ConfigDocument,
    ConfigKind,
    ItemMapping,
    Merchant,
    Partner,
    PartnerBranch,
)

ConfigRecord: TypeAlias = Merchant | Branch | Partner | PartnerBranch | ItemMapping
RecordKey: TypeAlias = tuple[ConfigKind, str]

KINDS: tuple[ConfigKind, ...] = get_args(ConfigKind)
KIND_MODELS: dict[ConfigKind, type[ConfigRecord]] = {
    "merchants": Merchant,
    "branches": Branch,
    "partners": Partner,
    "routes": PartnerBranch,
    "mappings": ItemMapping,
}

ONE: dict[ConfigKind, str] = {
    "merchants": "merchant",
    "branches": "branch",
    "partners": "partner",
    "routes": "route",
    "mappings": "mapping",
}
"""A record of each kind, in words ("branch")."""

SECRET_FIELD_REASON = (
    "a secret is never written in the configuration: keep it in Secrets Manager and name the secret "
    "(a partner's tokens: tokens_secret: orderbridge/partners/<partner_id>)"
)
_SECRET_LIKE = re.compile(r"token|secret|password|passwd|api_?key|credential|private", re.IGNORECASE)


def kind_of(record: ConfigRecord) -> ConfigKind:
    return next(kind for kind, model in KIND_MODELS.items() if isinstance(record, model))


def record_id(record: ConfigRecord) -> str:
    """The record's id in the config API (the table above)."""
    if isinstance(record, Merchant):
        return record.merchant_id
    if isinstance(record, Branch):
        return record.branch_id
    if isinstance(record, Partner):
        return record.partner_id
    if isinstance(record, PartnerBranch):
        return f"{record.partner_id}:{record.partner_branch_id}"
    return f"{record.partner_id}:{record.merchant_id}:{record.kind}:{record.partner_item_id}"


def key_of(record: ConfigRecord) -> RecordKey:
    return kind_of(record), record_id(record)


def id_fields(kind: ConfigKind, id_: str) -> dict[str, str] | None:
    """The key fields an id of ``kind`` names (the table above); None when it names none."""
    if kind == "merchants":
        return {"merchant_id": id_}
    if kind == "branches":
        return {"branch_id": id_}
    if kind == "partners":
        return {"partner_id": id_}
    if kind == "routes":
        partner, sep, branch = id_.partition(":")
        return {"partner_id": partner, "partner_branch_id": branch} if sep and partner and branch else None
    parts = id_.split(":", 3)
    if len(parts) != 4 or not all(parts) or parts[2] not in ("item", "option"):
        return None
    return dict(zip(("partner_id", "merchant_id", "kind", "partner_item_id"), parts, strict=True))


def id_form(kind: ConfigKind) -> str:
    return {
        "merchants": "<merchant_id>",
        "branches": "<branch_id>",
        "partners": "<partner_id>",
        "routes": "<partner_id>:<partner_branch_id>",
        "mappings": "<partner_id>:<merchant_id>:item|option:<partner_item_id>",
    }[kind]


def records_of(document: ConfigDocument) -> list[tuple[str, ConfigRecord]]:
    """Each record of ``document`` with where it is (``branches.1``), in the document's order."""
    sections: dict[ConfigKind, list[Any]] = {
        "merchants": document.merchants,
        "branches": document.branches,
        "partners": document.partners,
        "routes": document.routes,
        "mappings": document.mappings,
    }
    return [(f"{kind}.{n}", record) for kind in KINDS for n, record in enumerate(sections[kind])]


def document_of(records: Iterable[ConfigRecord]) -> ConfigDocument:
    """The document that holds ``records`` (sorted by kind, then id): ``GET /ops/config``, export."""
    by_kind: dict[ConfigKind, list[ConfigRecord]] = {kind: [] for kind in KINDS}
    for record in sorted(records, key=lambda r: (KINDS.index(kind_of(r)), record_id(r))):
        by_kind[kind_of(record)].append(record)
    return ConfigDocument.model_validate({"version": 1, **{k: [r.model_dump() for r in v] for k, v in by_kind.items()}})


@dataclass(frozen=True)
class Change:
    """One record as a document wants it, against what is configured (``before``: None, new)."""

    kind: ConfigKind
    id: str
    where: str  # the record's place in the document ("branches.1"); "" for a record PUT on its own
    before: ConfigRecord | None
    after: ConfigRecord

    @property
    def action(self) -> ConfigAction:
        if self.before is None:
            return "add"
        return "unchanged" if self.before == self.after else "change"

    def fields_changed(self) -> dict[str, tuple[Any, Any]]:
        """field → (before, after), for the fields that differ (all the new record's on an add)."""
        before = self.before.model_dump(mode="json") if self.before is not None else {}
        after = self.after.model_dump(mode="json")
        return {f: (before.get(f), after.get(f)) for f in after if before.get(f) != after.get(f)}


def diff(current: Mapping[RecordKey, ConfigRecord], wanted: list[tuple[str, ConfigRecord]]) -> list[Change]:
    """Each wanted record (``where``, record) against the configured one of the same key."""
    return [
        Change(kind_of(record), record_id(record), where, current.get(key_of(record)), record)
        for where, record in wanted
    ]


def duplicates(wanted: list[tuple[str, ConfigRecord]]) -> list[FieldError]:
    """A record whose key an earlier record of the document already has."""
    first: dict[RecordKey, str] = {}
    errors: list[FieldError] = []
    for where, record in wanted:
        key = key_of(record)
        if key in first:
            errors.append(FieldError(where, f"the same {ONE[key[0]]} ({key[1]}) as {first[key]}: each record once"))
        else:
            first.setdefault(key, where)
    return errors


def check_references(
    current: Mapping[RecordKey, ConfigRecord], wanted: list[tuple[str, ConfigRecord]]
) -> list[FieldError]:
    """Every merchant, partner and branch a wanted record names exists, configured already or in
    the same document; a route's branch belongs to the route's merchant."""
    merged: dict[RecordKey, ConfigRecord] = dict(current)
    merged.update((key_of(record), record) for _, record in wanted)
    errors: list[FieldError] = []

    def need(where: str, field: str, kind: ConfigKind, id_: str) -> ConfigRecord | None:
        found = merged.get((kind, id_))
        if found is None:
            errors.append(FieldError(_at(where, field), f"no {ONE[kind]} {id_!r} is configured or in this document"))
        return found

    for where, record in wanted:
        if isinstance(record, Branch):
            need(where, "merchant_id", "merchants", record.merchant_id)
        elif isinstance(record, PartnerBranch):
            need(where, "partner_id", "partners", record.partner_id)
            need(where, "merchant_id", "merchants", record.merchant_id)
            branch = need(where, "branch_id", "branches", record.branch_id)
            if isinstance(branch, Branch) and branch.merchant_id != record.merchant_id:
                errors.append(
                    FieldError(
                        _at(where, "branch_id"),
                        f"branch {record.branch_id!r} is merchant {branch.merchant_id!r}'s, "
                        f"not {record.merchant_id!r}'s",
                    )
                )
        elif isinstance(record, ItemMapping):
            need(where, "partner_id", "partners", record.partner_id)
            need(where, "merchant_id", "merchants", record.merchant_id)
    return errors


def _at(where: str, field: str) -> str:
    return f"{where}.{field}" if where else field


def validation_errors(error: ValidationError, *, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as field-level reasons: the field's dotted path (``branches.1.courier``,
    under ``prefix``) and why, in words a person acts on. A field whose name says it holds a
    secret is refused as such (:data:`SECRET_FIELD_REASON`)."""
    found: list[FieldError] = []
    for detail in error.errors(include_url=False):
        loc = [str(part) for part in detail["loc"]]
        field = ".".join([prefix, *loc] if prefix else loc) or "body"
        reason = str(detail["msg"])
        if detail["type"] == "extra_forbidden":
            name = loc[-1] if loc else ""
            reason = SECRET_FIELD_REASON if _SECRET_LIKE.search(name) else "not a field of this record (a typo?)"
        elif detail["type"] == "missing":
            reason = "required"
        reason = reason.removeprefix("Value error, ")
        found.append(FieldError(field, reason))
    return found
