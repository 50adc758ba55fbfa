"""The bare baseline handler: what any Lambda function pays at least. Import boto3 and build one
client at cold start (as every function does); ``answer`` answers without an AWS call (B2's bare
cold start), ``put_one`` parses the body and writes one item (B1's and B3's bare webhook)."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3

TABLE = os.environ.get("IDEMPOTENCY_TABLE", "IdempotencyTable")
dynamodb = boto3.client("dynamodb")


def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps({"status": "ok"})}


def put_one(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event.get("body") or "{}")
    key = f"bench-bare#{uuid.uuid4()}"
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": key}, "size": {"N": str(len(body))}})
    return {"statusCode": 200, "body": json.dumps({"status": "accepted", "id": key})}
