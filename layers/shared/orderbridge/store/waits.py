"""Task tokens of the order workflow's waits, stored with the order (OrdersTable).

| item | pk               | sk           | notes                                        |
|------|------------------|--------------|----------------------------------------------|
| wait | ORDER#<order_id> | WAIT#<kind>  | token, registered_at, expires_at (TTL attr)  |

The order stream settles an order's open waits when its tracks change (``workflow.signals``); the
courier keeper reads the open courier waits (index ``open_courier_waits``) to keep them alive.

The order item carries the kinds of its open waits (``waiting_for``, a string set), written in
the same transaction as the wait item: the order stream's event filter (template.yaml,
``OrderChanges``) passes an order item's change to the stream function only while a wait was open
before and after it, so the writes that cannot settle a wait invoke nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderbridge.models.order import Tracks
from orderbridge.store.dynamo import ConditionFailed, aws_call, from_attrs, to_attrs, to_value
from orderbridge.store.orders import order_key, tracks_of

OPEN_COURIER_WAITS_INDEX = "open_courier_waits"


@dataclass(frozen=True)
class Wait:
    order_id: str
    kind: str
    token: str
    registered_at: str
    expires_at: int | None = None


def wait_key(order_id: str, kind: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": f"WAIT#{kind}"}


class WaitStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def put(
        self, order_id: str, kind: str, token: str, *, now: datetime, expires_at: int | None, keeper: str | None = None
    ) -> None:
        """Register (or replace: a retried wait state gets a new token) the wait of ``kind``.
        ``keeper`` puts it on the ``open_courier_waits`` index the courier keeper reads."""
        item = {
            **wait_key(order_id, kind),
            "order_id": order_id,
            "kind": kind,
            "token": token,
            "registered_at": now,
            "expires_at": expires_at,
            "keeper": keeper,
        }
        put = {"Put": {"TableName": self.table, "Item": to_attrs(item)}}
        try:
            with aws_call("register the wait", conditional=True):
                self.client.transact_write_items(TransactItems=[put, self._waiting_for(order_id, kind, "ADD")])
        except ConditionFailed:  # no such order: the wait alone (nothing will settle it but its timeout)
            with aws_call("register the wait"):
                self.client.put_item(TableName=self.table, Item=to_attrs(item))

    def open_waits(self, order_id: str) -> list[Wait]:
        with aws_call("read the waits"):
            answer = self.client.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :wait)",
                ExpressionAttributeValues={":pk": to_value(f"ORDER#{order_id}"), ":wait": to_value("WAIT#")},
                ConsistentRead=True,
            )
        return [_wait(from_attrs(i)) for i in answer.get("Items", [])]

    def close(self, wait: Wait) -> bool:
        """Remove the wait if it still holds this token. False if another signaller got there first
        (or a newer token replaced it): then this one must not signal."""
        delete = {
            "Delete": {
                "TableName": self.table,
                "Key": to_attrs(wait_key(wait.order_id, wait.kind)),
                "ConditionExpression": "#token = :token",
                "ExpressionAttributeNames": {"#token": "token"},
                "ExpressionAttributeValues": {":token": to_value(wait.token)},
            }
        }
        try:
            with aws_call("close the wait", conditional=True):
                self.client.transact_write_items(
                    TransactItems=[delete, self._waiting_for(wait.order_id, wait.kind, "DELETE")]
                )
        except ConditionFailed as failed:
            if failed.at(0, 1):
                return False
            # the order is gone: close the wait alone
            try:
                with aws_call("close the wait", conditional=True):
                    self.client.delete_item(**delete["Delete"])
            except ConditionFailed:
                return False
        return True

    def _waiting_for(self, order_id: str, kind: str, verb: str) -> dict[str, Any]:
        """The Update (for the wait's transaction) that adds ``kind`` to the order's open waits,
        or takes it out (``verb``: ADD, DELETE; DynamoDB removes the set once it is empty)."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_attrs(order_key(order_id)),
                "UpdateExpression": f"{verb} waiting_for :kind",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":kind": {"SS": [kind]}},
            }
        }

    def kept(self, keeper: str, *, limit: int = 500) -> list[Wait]:
        """Open waits on the keeper's index, oldest first (at most ``limit``, one page at a time)."""
        waits: list[Wait] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": OPEN_COURIER_WAITS_INDEX,
            "KeyConditionExpression": "keeper = :k",
            "ExpressionAttributeValues": {":k": to_value(keeper)},
        }
        with aws_call("read the open waits"):
            while len(waits) < limit:
                page = self.client.query(**kwargs)
                waits += [_wait(from_attrs(i)) for i in page.get("Items", [])]
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return waits[:limit]

    def vendor_ids(self, order_id: str) -> dict[str, Any]:
        """The vendor ids the order is known by (``blink_order_id``, ``courier_job``, ``rent_id``;
        those it has), strongly consistent: what a wait's events are kept under before it."""
        with aws_call("read the order"):
            answer = self.client.get_item(
                TableName=self.table,
                Key=to_attrs(order_key(order_id)),
                ConsistentRead=True,
                ProjectionExpression="blink_order_id, courier_job, rent_id",
            )
        return from_attrs(answer.get("Item") or {})

    def tracks(self, order_id: str) -> Tracks | None:
        """The order's status tracks and cancel request (strongly consistent), or None if there is
        no such order."""
        with aws_call("read the order"):
            answer = self.client.get_item(
                TableName=self.table,
                Key=to_attrs(order_key(order_id)),
                ConsistentRead=True,
                ProjectionExpression="#s, courier_status, rent_state, cancel_request",
                ExpressionAttributeNames={"#s": "status"},
            )
        item = answer.get("Item")
        return None if item is None else tracks_of(from_attrs(item))


def _wait(item: dict[str, Any]) -> Wait:
    expires = item.get("expires_at")
    return Wait(
        order_id=item["order_id"],
        kind=item["kind"],
        token=item["token"],
        registered_at=item["registered_at"],
        expires_at=int(expires) if expires is not None else None,
    )
