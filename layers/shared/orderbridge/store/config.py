"""Configuration table: merchants, branches, partners, partner branch routes, item mappings.

| item            | pk                              | sk                      |
|-----------------|---------------------------------|-------------------------|
| merchant        | MERCHANT#<merchant_id>          | META                    |
| branch          | BRANCH#<branch_id>              | META                    |
| partner         | PARTNER#<partner_id>            | META                    |
| partner branch  | PARTNER#<partner_id>            | BRANCH#<partner branch> |
| item mapping    | ITEMMAP#<partner_id>#<merchant> | ITEM#<id> / OPTION#<id> |
"""

from __future__ import annotations

from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from orderbridge.models.config import Branch, ItemMapping, Merchant, Partner, PartnerBranch
from orderbridge.store.batch import Key, batch_get
from orderbridge.store.dynamo import from_attrs, to_attrs, unavailable

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


class ConfigStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def put(self, *records: BaseModel) -> None:
        """Write configuration records (onboarding, seeding). Each record is one item."""
        for record in records:
            item = {**_key_for(record), "record_type": _kind_of(record), **record.model_dump()}
            self.client.put_item(TableName=self.table, Item=to_attrs(item))

    def branch(self, branch_id: str) -> Branch | None:
        """One branch's configuration (GetItem), or None when it is not configured."""
        return self._get(branch_key(branch_id), Branch, "read the branch")

    def partner(self, partner_id: str) -> Partner | None:
        """One delivery partner's configuration (GetItem), or None when it is not configured."""
        return self._get(partner_key(partner_id), Partner, "read the partner")

    def _get(self, key: Key, model: type[M], what: str) -> M | None:
        try:
            answer = self.client.get_item(TableName=self.table, Key=to_attrs(key))
        except (ClientError, BotoCoreError) as error:
            raise unavailable(error, what) from error
        item = answer.get("Item")
        if item is None:
            return None
        record = parse(from_attrs(item))
        assert isinstance(record, model)
        return record

    def mappings(
        self, partner_id: str, merchant_id: str, wanted: set[tuple[str, str]]
    ) -> dict[tuple[str, str], ItemMapping]:
        """The item mappings that exist among ``wanted`` (kind, partner id) pairs: one round trip
        for up to 100 distinct ids."""
        if not wanted:
            return {}
        keys = [item_mapping_key(partner_id, merchant_id, kind, pid) for kind, pid in sorted(wanted)]
        found = batch_get(self.client, {self.table: keys}, consistent=False)[self.table]
        out: dict[tuple[str, str], ItemMapping] = {}
        for item in found:
            mapping = parse(item)
            assert isinstance(mapping, ItemMapping)
            out[(mapping.kind, mapping.partner_item_id)] = mapping
        return out
