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

from pydantic import BaseModel

from orderbridge.models.config import Branch, ItemMapping, Merchant, Partner, PartnerBranch
from orderbridge.store.batch import Key, batch_get
from orderbridge.store.dynamo import aws_call, from_attrs, to_attrs

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
        """Write configuration records (onboarding, seeding). Each record is one item."""
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
