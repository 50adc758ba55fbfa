"""Writes shared by the stores of synced vendor records (customers, abandoned carts, branch
checks): an item is written only when it is new or its content changed, so a sync run twice, or
two runs at once, writes each change once and counts it once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from orderbridge.store.dynamo import ConditionFailed, aws_call, from_attrs, plain, to_attrs


def digest(content: dict[str, Any]) -> str:
    """A stable digest of an item's content (its keys sorted; datetimes and Decimals as text)."""
    text = json.dumps(plain(content), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def put_if_changed(
    client: Any,
    table: str,
    key: dict[str, str],
    content: dict[str, Any],
    what: str,
    *,
    stamp: dict[str, Any] | None = None,
) -> bool:
    """Write ``key`` + ``content`` (+ ``stamp``: the run's time, not compared) unless the stored
    item already has this content: True if written."""
    item = {**key, **content, **(stamp or {}), "content_digest": digest(content)}
    try:
        with aws_call(what, conditional=True):
            client.put_item(
                TableName=table,
                Item=to_attrs(item),
                ConditionExpression="attribute_not_exists(pk) OR content_digest <> :digest",
                ExpressionAttributeValues={":digest": {"S": item["content_digest"]}},
            )
    except ConditionFailed:
        return False
    return True


def query_all(client: Any, query: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
    """Every item a query finds, across DynamoDB's pages."""
    request = dict(query)
    while True:
        with aws_call(what):
            answer = client.query(**request)
        for item in answer.get("Items", []):
            yield from_attrs(item)
        if "LastEvaluatedKey" not in answer:
            return
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
