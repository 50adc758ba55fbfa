"""The bare baseline function of ``python -m orderbridge_local.burst``: what a handler costs with
nothing of Orderbridge in it — import boto3, make one client, answer. Served on the same local
stack (same front, same runtime, same emulator) as the webhooks it is compared with."""

from __future__ import annotations

from typing import Any

import boto3

_CLIENT = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"status": "ok"}'}
