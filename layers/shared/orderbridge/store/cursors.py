"""Where each scheduled sync left off: one cursor per sync and scope (a merchant, usually), in the
configuration table.

| item   | pk                  | sk              | attributes                    |
|--------|---------------------|-----------------|-------------------------------|
| cursor | SYNC#<sync name>    | SCOPE#<scope>   | value, version, updated_at    |

A cursor moves by a conditional write on its version: of two runs of one sync at once, the one
that reads the same version second finds it moved and does not write it back (``advance`` answers
None), so the cursor never goes backwards and nothing a run did is forgotten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from orderbridge.models.base import OurModel
from orderbridge.store.batch import Key
from orderbridge.store.dynamo import ConditionFailed, aws_call, from_attrs, to_attrs, to_value


class Cursor(OurModel):
    sync: str
    scope: str
    value: str | None = None  # what the sync reads next from (an id, a time, a page); None: the start
    version: int = Field(default=0, ge=0)
    updated_at: datetime | None = None


def cursor_key(sync: str, scope: str) -> Key:
    return {"pk": f"SYNC#{sync}", "sk": f"SCOPE#{scope}"}


class CursorStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def get(self, sync: str, scope: str) -> Cursor:
        """The sync's cursor for ``scope`` (strongly consistent); a new one at the start."""
        with aws_call("read the sync's cursor"):
            answer = self.client.get_item(
                TableName=self.table, Key=to_attrs(cursor_key(sync, scope)), ConsistentRead=True
            )
        item = answer.get("Item")
        if item is None:
            return Cursor(sync=sync, scope=scope)
        stored = from_attrs(item)
        return Cursor(
            sync=sync,
            scope=scope,
            value=stored.get("value"),
            version=int(stored.get("version", 0)),
            updated_at=stored.get("updated_at"),
        )

    def advance(self, cursor: Cursor, value: str | None, *, at: datetime) -> Cursor | None:
        """Move ``cursor`` to ``value`` if nobody moved it since it was read; None if somebody did."""
        moved = cursor.model_copy(update={"value": value, "version": cursor.version + 1, "updated_at": at})
        item = {**cursor_key(cursor.sync, cursor.scope), "record_type": "sync_cursor", **moved.model_dump()}
        condition = "attribute_not_exists(pk)" if cursor.version == 0 else "version = :seen"
        values = {} if cursor.version == 0 else {":seen": to_value(cursor.version)}
        try:
            with aws_call("move the sync's cursor", conditional=True):
                self.client.put_item(
                    TableName=self.table,
                    Item=to_attrs(item),
                    ConditionExpression=condition,
                    **({"ExpressionAttributeValues": values} if values else {}),
                )
        except ConditionFailed:
            return None
        return moved
