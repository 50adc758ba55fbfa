"""A table with the store's key shape (``pk`` hash, ``sk`` range, both strings), on demand, in
whatever DynamoDB ``ddb`` talks to (the local emulator or moto)."""

from __future__ import annotations

from typing import Any


def create_pk_sk_table(ddb: Any, name: str, *, stream: bool = False) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        **({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}),
    )
