"""Blink customers, per merchant (the customers sync), in the configuration table.

| item     | pk                     | sk                 | attributes                                      |
|----------|------------------------|--------------------|-------------------------------------------------|
| customer | CUSTOMER#<merchant_id> | KEY#<customer_key> | full_name, phone, email, created_at, synced_at  |

``customer_key`` is a digest of the customer's phone (Blink's customers carry no id; the phone is
what Blink looks one up by), so no phone number is part of a key, a log line or a dead letter.
"""

from __future__ import annotations

from typing import Any

from orderbridge.models.blink_records import CustomerRecord
from orderbridge.store.synced import put_if_changed, query_all


def customer_key(merchant_id: str, customer_key: str) -> dict[str, str]:
    return {"pk": f"CUSTOMER#{merchant_id}", "sk": f"KEY#{customer_key}"}


class CustomerStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def keep(self, customer: CustomerRecord) -> bool:
        """Store the customer unless it is stored as is already: True when something changed."""
        content = customer.model_dump(exclude={"synced_at"})
        return put_if_changed(
            self.client,
            self.table,
            customer_key(customer.merchant_id, customer.customer_key),
            content,
            "record the customer",
            stamp={"synced_at": customer.synced_at},
        )

    def of_merchant(self, merchant_id: str) -> list[CustomerRecord]:
        query = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"CUSTOMER#{merchant_id}"}},
        }
        return [
            CustomerRecord.model_validate({k: v for k, v in item.items() if k in CustomerRecord.model_fields})
            for item in query_all(self.client, query, "list the merchant's customers")
        ]
