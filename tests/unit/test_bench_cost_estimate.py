"""B4's DynamoDB capacity estimate (``bench/cost.py``): item sizes as DynamoDB counts them, and
updates priced by the size of the item they change."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.cost import billed_duration_ms, dynamodb_usage, item_bytes, value_bytes


def _request(op: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"target": f"DynamoDB_20120810.{op}", "auth": "", "body": json.dumps(body)}


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "abc"}, 3),
        ({"S": "ã"}, 2),  # UTF-8 bytes
        ({"N": "66.67"}, 3),  # four significant digits: 2 bytes + 1
        ({"N": "1000"}, 2),  # trailing zeros are not significant
        ({"N": "0.001"}, 2),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"L": []}, 3),
        ({"M": {"ab": {"S": "xyz"}}}, 3 + 2 + 3 + 1),
        ({"L": [{"S": "a"}, {"N": "7"}]}, 3 + (1 + 1) + (2 + 1)),
        ({"SS": ["a", "bc"]}, 3),
        ({"B": "AAEC"}, 3),  # base64 of three raw bytes
    ],
)
def test_a_value_is_sized_as_dynamodb_counts_it(value, size):
    assert value_bytes(value) == size


def test_an_item_is_its_names_and_values():
    assert item_bytes({"pk": {"S": "ORDER#1"}, "n": {"N": "5"}}) == 2 + 7 + 1 + 2


def test_a_put_costs_its_size_in_kilobytes_rounded_up_and_a_transaction_twice():
    # Given an item of a little over 1 KB, put alone and then in a transaction
    big = {"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}, "blob": {"S": "x" * 1100}}
    put = _request("PutItem", {"TableName": "orders", "Item": big})
    transact = _request("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "orders", "Item": big}}]})

    # Then the put is 2 WRU and the transaction 4
    assert dynamodb_usage([put])["wru_estimated"] == 2
    assert dynamodb_usage([transact])["wru_estimated"] == 4


def test_an_update_costs_the_size_of_the_item_it_changes():
    # Given an order item of a little over 1 KB put in the window, then updated twice (once in a
    # transaction), and an item never put in the window updated once
    key = {"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}}
    item = {**key, "blob": {"S": "x" * 1100}}
    requests = [
        _request("PutItem", {"TableName": "orders", "Item": item}),
        _request("UpdateItem", {"TableName": "orders", "Key": key, "UpdateExpression": "SET a = :a"}),
        _request("TransactWriteItems", {"TransactItems": [{"Update": {"TableName": "orders", "Key": key}}]}),
        _request("UpdateItem", {"TableName": "config", "Key": {"pk": {"S": "BRANCH#1"}, "sk": {"S": "META"}}}),
    ]

    # Then each update of the order costs its 2 KB (×2 in the transaction), the other 1 WRU
    assert dynamodb_usage(requests)["wru_estimated"] == 2 + 2 + 4 + 1


def test_an_invocation_is_billed_for_its_handler_s_run_not_for_the_emulator_s_queue():
    # Given an invocation that waited 900 ms for a worker and whose handler ran 40 ms
    queued = {"duration_ms": 940.0, "queued_ms": 900.0, "handler_ms": 40.0, "cold_init_ms": None}
    # ... and one recorded by a runtime that kept no handler time, on a cold worker
    older = {"duration_ms": 700.0, "cold_init_ms": 500.0}

    # Then the first is billed 40 ms, the second its duration less the worker's start
    assert billed_duration_ms(queued) == 40.0
    assert billed_duration_ms(older) == 200.0
