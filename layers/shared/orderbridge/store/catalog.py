"""Each merchant's product catalog (Blink's menu), its history, the flags on partner item mappings,
and the stock and price changes pending for Blink — in the configuration table, one partition per
merchant.

Every item's pk is ``CATALOG#<merchant_id>``:

| item           | sk                                  | attributes                                    |
|----------------|-------------------------------------|-----------------------------------------------|
| catalog item   | ITEM#<item_id>                      | item, version, removed, updated_at            |
| item history   | HISTORY#<item_id>#<version 000001>  | kind, at, by, fields, before, after           |
| mapping flag   | FLAG#<partner>:<kind>:<id>:<reason> | reason, detail, price_before/after, raised_at |
| menu pass      | PASS#<pass_id>                      | seen (the item ids read so far in the pass)   |
| pending change | PENDING#<item_id>#<branch_id>       | stock/price fields, version, pushed_version   |
| suspects       | SUSPECTS                            | items (missed by a pass that spanned runs)    |

How nothing is written twice:

- an item changes by one transaction (the item on its read version, its history entry keyed by the
  new version, the flags it raises): of two runs that see the same change, the second's condition
  fails and it writes nothing (``record_change`` answers False);
- a pending change's ``version`` is incremented by each change a person sets, and it is marked
  pushed only up to the version that was sent (``pushed_version < :sent``): a change set while a
  push is in flight stays pending;
- an item's pending changes are pushed by one run at a time (a lease, ``claim``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from orderbridge.models.catalog import (
    CatalogChange,
    MappingFlag,
    PendingStockAndPrice,
    StockAndPriceChange,
    StoredItem,
)
from orderbridge.store.batch import Key
from orderbridge.store.dynamo import ConditionFailed, aws_call, from_attrs, ints, to_attrs, to_value

# How long a run holds an item's pending changes while it pushes them (longer than a sync Lambda).
LEASE = timedelta(seconds=150)


def _pk(merchant_id: str) -> str:
    return f"CATALOG#{merchant_id}"


def item_key(merchant_id: str, item_id: str) -> Key:
    return {"pk": _pk(merchant_id), "sk": f"ITEM#{item_id}"}


def history_key(merchant_id: str, item_id: str, version: int) -> Key:
    return {"pk": _pk(merchant_id), "sk": f"HISTORY#{item_id}#{version:06d}"}


def flag_key(merchant_id: str, flag_id: str) -> Key:
    return {"pk": _pk(merchant_id), "sk": f"FLAG#{flag_id}"}


def pass_key(merchant_id: str, pass_id: str) -> Key:
    return {"pk": _pk(merchant_id), "sk": f"PASS#{pass_id}"}


def suspects_key(merchant_id: str) -> Key:
    return {"pk": _pk(merchant_id), "sk": "SUSPECTS"}


def pending_key(merchant_id: str, item_id: str, branch_id: str) -> Key:
    return {"pk": _pk(merchant_id), "sk": f"PENDING#{item_id}#{branch_id}"}


class CatalogStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    # -- the catalog ------------------------------------------------------------------------------

    def items(self, merchant_id: str, *, include_removed: bool = True) -> dict[str, StoredItem]:
        """The merchant's stored catalog by item id (strongly consistent)."""
        found = [
            StoredItem.model_validate(_fields(row)) for row in self._query(merchant_id, "ITEM#", "read the catalog")
        ]
        return {s.item.item_id: s for s in found if include_removed or not s.removed}

    def item(self, merchant_id: str, item_id: str) -> StoredItem | None:
        with aws_call("read a catalog item"):
            answer = self.client.get_item(
                TableName=self.table, Key=to_attrs(item_key(merchant_id, item_id)), ConsistentRead=True
            )
        row = answer.get("Item")
        return None if row is None else StoredItem.model_validate(_fields(from_attrs(row)))

    def record_change(
        self, stored: StoredItem, change: CatalogChange, *, read_version: int, flags: list[MappingFlag]
    ) -> bool:
        """Write an item's new state, its history entry and the flags it raises, at once; False when
        another run recorded this change (or another) first."""
        item = {**item_key(stored.merchant_id, stored.item.item_id), **stored.model_dump()}
        entry = {**history_key(change.merchant_id, change.item_id, change.version), **change.model_dump()}
        put_item: dict[str, Any] = {"TableName": self.table, "Item": to_attrs(item)}
        if read_version == 0:
            put_item["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put_item["ConditionExpression"] = "version = :seen"
            put_item["ExpressionAttributeValues"] = {":seen": to_value(read_version)}
        writes: list[dict[str, Any]] = [
            {"Put": put_item},
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_attrs(entry),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *({"Put": {"TableName": self.table, "Item": to_attrs(self._flag_item(flag))}} for flag in flags),
        ]
        try:
            with aws_call("record a catalog change", conditional=True):
                self.client.transact_write_items(TransactItems=writes)
        except ConditionFailed:
            return False
        return True

    def history(self, merchant_id: str, item_id: str | None = None) -> list[CatalogChange]:
        """The catalog history (one item's, or the merchant's), oldest first."""
        prefix = f"HISTORY#{item_id}#" if item_id else "HISTORY#"
        rows = self._query(merchant_id, prefix, "read the catalog history")
        changes = [CatalogChange.model_validate(_fields(row)) for row in rows]
        return sorted(changes, key=lambda change: (change.at, change.item_id, change.version))

    # -- a pass over the menu that spans runs --------------------------------------------------------

    def pass_seen(self, merchant_id: str, pass_id: str) -> set[str]:
        with aws_call("read the menu pass"):
            answer = self.client.get_item(
                TableName=self.table, Key=to_attrs(pass_key(merchant_id, pass_id)), ConsistentRead=True
            )
        row = answer.get("Item")
        return set() if row is None else set(from_attrs(row).get("seen", set()))

    def save_pass(self, merchant_id: str, pass_id: str, seen: set[str], *, at: datetime) -> None:
        item: dict[str, Any] = {**pass_key(merchant_id, pass_id), "updated_at": at}
        if seen:
            item["seen"] = set(seen)
        with aws_call("record the menu pass"):
            self.client.put_item(TableName=self.table, Item=to_attrs(item))

    def end_pass(self, merchant_id: str, pass_id: str) -> None:
        with aws_call("end the menu pass"):
            self.client.delete_item(TableName=self.table, Key=to_attrs(pass_key(merchant_id, pass_id)))

    def suspects(self, merchant_id: str) -> set[str]:
        """The items a pass that spanned runs did not see: removed only if the next pass misses them too."""
        with aws_call("read the suspected removals"):
            answer = self.client.get_item(
                TableName=self.table, Key=to_attrs(suspects_key(merchant_id)), ConsistentRead=True
            )
        row = answer.get("Item")
        return set() if row is None else set(from_attrs(row).get("items", set()))

    def save_suspects(self, merchant_id: str, items: set[str], *, at: datetime) -> None:
        with aws_call("record the suspected removals"):
            if items:
                item = {**suspects_key(merchant_id), "items": set(items), "updated_at": at}
                self.client.put_item(TableName=self.table, Item=to_attrs(item))
            else:
                self.client.delete_item(TableName=self.table, Key=to_attrs(suspects_key(merchant_id)))

    # -- flags on partner item mappings ---------------------------------------------------------------

    def flags(self, merchant_id: str) -> list[MappingFlag]:
        rows = self._query(merchant_id, "FLAG#", "read the mapping flags")
        return [MappingFlag.model_validate(_fields(row)) for row in rows]

    def raise_flag(self, flag: MappingFlag) -> bool:
        """Record ``flag`` unless it is already raised (its first raise keeps its time); True if new."""
        try:
            with aws_call("raise a mapping flag", conditional=True):
                self.client.put_item(
                    TableName=self.table,
                    Item=to_attrs(self._flag_item(flag)),
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except ConditionFailed:
            return False
        return True

    def clear_flag(self, merchant_id: str, flag_id: str) -> bool:
        """Remove a flag; False when there was none."""
        with aws_call("clear a mapping flag"):
            answer = self.client.delete_item(
                TableName=self.table, Key=to_attrs(flag_key(merchant_id, flag_id)), ReturnValues="ALL_OLD"
            )
        return "Attributes" in answer

    def _flag_item(self, flag: MappingFlag) -> dict[str, Any]:
        return {**flag_key(flag.merchant_id, flag.flag_id), **flag.model_dump()}

    # -- stock and price changes pending for Blink ---------------------------------------------------

    def set_change(
        self, merchant_id: str, item_id: str, change: StockAndPriceChange, *, at: datetime, by: str
    ) -> PendingStockAndPrice:
        """Record what a person set for one item at one branch (the fields given; the others kept)
        as a new version, pending until pushed."""
        values: dict[str, Any] = {
            "merchant_id": merchant_id,
            "item_id": item_id,
            "branch_id": change.branch_id,
            "set_at": at,
            "set_by": by,
            **{
                name: getattr(change, name)
                for name in ("stock_quantity", "price", "discount_price", "is_active")
                if getattr(change, name) is not None
            },
        }
        sets = [f"#{name} = :{name}" for name in values]
        with aws_call("record a stock and price change"):
            answer = self.client.update_item(
                TableName=self.table,
                Key=to_attrs(pending_key(merchant_id, item_id, change.branch_id)),
                UpdateExpression="SET "
                + ", ".join(
                    [
                        *sets,
                        "#version = if_not_exists(#version, :zero) + :one",
                        "pushed_version = if_not_exists(pushed_version, :zero)",
                        "attempts = :zero",
                    ]
                ),
                ExpressionAttributeNames={"#version": "version", **{f"#{name}": name for name in values}},
                ExpressionAttributeValues={
                    ":zero": to_value(0),
                    ":one": to_value(1),
                    **{f":{name}": to_value(value) for name, value in values.items()},
                },
                ReturnValues="ALL_NEW",
            )
        return _pending(from_attrs(answer["Attributes"]))

    def changes(self, merchant_id: str, item_id: str | None = None) -> list[PendingStockAndPrice]:
        """The stock and price changes set for the merchant (or one item), pushed or not."""
        prefix = f"PENDING#{item_id}#" if item_id else "PENDING#"
        return [_pending(row) for row in self._query(merchant_id, prefix, "read the stock and price changes")]

    def claim(self, change: PendingStockAndPrice, *, run_id: str, now: datetime) -> PendingStockAndPrice | None:
        """Hold ``change`` for this run while it is pushed; its current state, or None when another
        run holds it."""
        try:
            with aws_call("claim a stock and price change", conditional=True):
                answer = self.client.update_item(
                    TableName=self.table,
                    Key=to_attrs(pending_key(change.merchant_id, change.item_id, change.branch_id)),
                    UpdateExpression="SET claimed_by = :me, claimed_until = :until",
                    ConditionExpression="attribute_exists(pk) AND "
                    "(attribute_not_exists(claimed_until) OR claimed_until < :now OR claimed_by = :me)",
                    ExpressionAttributeValues={
                        ":me": to_value(run_id),
                        ":until": to_value(now + LEASE),
                        ":now": to_value(now),
                    },
                    ReturnValues="ALL_NEW",
                )
        except ConditionFailed:
            return None
        return _pending(from_attrs(answer["Attributes"]))

    def mark_pushed(self, change: PendingStockAndPrice, *, at: datetime) -> bool:
        """Blink accepted ``change`` (as of its version): pushed up to that version, released.
        False when a later push already recorded as much."""
        try:
            with aws_call("mark a stock and price change pushed", conditional=True):
                self.client.update_item(
                    TableName=self.table,
                    Key=to_attrs(pending_key(change.merchant_id, change.item_id, change.branch_id)),
                    UpdateExpression="SET pushed_version = :sent, pushed_at = :at, attempts = :zero "
                    "REMOVE last_error, claimed_by, claimed_until",
                    ConditionExpression="pushed_version < :sent",
                    ExpressionAttributeValues={
                        ":sent": to_value(change.version),
                        ":at": to_value(at),
                        ":zero": to_value(0),
                    },
                )
        except ConditionFailed:
            return False
        return True

    def mark_failed(self, change: PendingStockAndPrice, error: str) -> None:
        """The push of ``change`` failed: it stays pending (retried next run), released, the error noted."""
        with aws_call("note a failed stock and price push"):
            self.client.update_item(
                TableName=self.table,
                Key=to_attrs(pending_key(change.merchant_id, change.item_id, change.branch_id)),
                UpdateExpression="SET attempts = if_not_exists(attempts, :zero) + :one, last_error = :error "
                "REMOVE claimed_by, claimed_until",
                ExpressionAttributeValues={":zero": to_value(0), ":one": to_value(1), ":error": to_value(error[:300])},
            )

    def release(self, change: PendingStockAndPrice) -> None:
        with aws_call("release a stock and price change"):
            self.client.update_item(
                TableName=self.table,
                Key=to_attrs(pending_key(change.merchant_id, change.item_id, change.branch_id)),
                UpdateExpression="REMOVE claimed_by, claimed_until",
            )

    # -- helpers -----------------------------------------------------------------------------------

    def _query(self, merchant_id: str, prefix: str, what: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": to_value(_pk(merchant_id)), ":prefix": to_value(prefix)},
            "ConsistentRead": True,
        }
        while True:
            with aws_call(what):
                answer = self.client.query(**query)
            rows.extend(from_attrs(row) for row in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return rows
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row without its keys, whole numbers back to int (DynamoDB returns Decimals; money
    read back as int becomes Decimal again in the models)."""
    return {k: ints(v) for k, v in row.items() if k not in ("pk", "sk")}


def _pending(row: dict[str, Any]) -> PendingStockAndPrice:
    fields = {k: v for k, v in _fields(row).items() if k in PendingStockAndPrice.model_fields}
    return PendingStockAndPrice.model_validate(fields)
