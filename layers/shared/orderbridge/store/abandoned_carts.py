"""Blink abandoned carts, per merchant (the abandoned-carts sync), in the configuration table.

| item | pk                 | sk                          | attributes                                       |
|------|--------------------|-----------------------------|--------------------------------------------------|
| cart | CART#<merchant_id> | <created_at ISO>#<cart_key> | the cart, synced_at, content_digest              |

The sort key starts with the cart's creation time (UTC ISO-8601), so a merchant's carts between
two times are one Query (``between``), oldest first. ``cart_key`` is a digest of what names the
cart (Blink's carts carry no id): see ``syncs.abandoned_carts.cart_key``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderbridge.models.blink_records import AbandonedCartRecord
from orderbridge.store.dynamo import aws_call, from_attrs, ints
from orderbridge.store.synced import put_if_changed

# After every time of a second: the upper bound of a ``between`` on "<time>#<key>" sort keys.
_AFTER_KEYS = "#~"


def cart_key(cart: AbandonedCartRecord) -> dict[str, str]:
    return {"pk": f"CART#{cart.merchant_id}", "sk": f"{cart.created_at.isoformat()}#{cart.cart_key}"}


class AbandonedCartStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def keep(self, cart: AbandonedCartRecord) -> bool:
        """Store the cart unless it is stored as is already (a notification sent since is a change)."""
        content = cart.model_dump(exclude={"synced_at"})
        return put_if_changed(
            self.client,
            self.table,
            cart_key(cart),
            content,
            "record the abandoned cart",
            stamp={"synced_at": cart.synced_at},
        )

    def between(
        self,
        merchant_id: str,
        start: datetime,
        end: datetime,
        *,
        limit: int,
        after: dict[str, Any] | None = None,
    ) -> tuple[list[AbandonedCartRecord], dict[str, Any] | None]:
        """The merchant's carts created from ``start`` to ``end`` (both included), oldest first:
        at most ``limit``, and the key to go on from (None at the end)."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"CART#{merchant_id}"},
                ":start": {"S": start.isoformat()},
                ":end": {"S": end.isoformat() + _AFTER_KEYS},
            },
            "Limit": limit,
        }
        if after:
            query["ExclusiveStartKey"] = after
        with aws_call("list the abandoned carts"):
            answer = self.client.query(**query)
        carts = [_cart(from_attrs(item)) for item in answer.get("Items", [])]
        return carts, answer.get("LastEvaluatedKey")


def _cart(item: dict[str, Any]) -> AbandonedCartRecord:
    fields = {k: v for k, v in item.items() if k in AbandonedCartRecord.model_fields}
    fields["lines"] = [ints({**line}) | _money(line) for line in fields.get("lines", [])]
    return AbandonedCartRecord.model_validate(fields)


def _money(line: dict[str, Any]) -> dict[str, Any]:
    """Prices stay the Decimals DynamoDB returns (``ints`` would turn 142 into an int)."""
    return {k: line[k] for k in ("unit_price", "total_price") if k in line}
