"""The emulator's cheaper paths (``orderbridge_local.fastpath``) give clients the same answers: the
bytes of every DynamoDB answer carrying items, and the item a request stores, with the fast path
and without, over every attribute type; and Step Functions paths parsed once per distinct path,
the execution's output unchanged."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any
from unittest import mock

import pytest
from moto.core import responses as moto_responses
from moto.core.parse import BaseJSONParser
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict
from moto.dynamodb.responses import DynamoHandler
from moto.moto_api._internal.models import moto_api_backend
from moto.stepfunctions.parser.asl.utils import json_path
from orderbridge_local import aws_emulator as emu
from orderbridge_local.fastpath import ITEM_SIZE_LIMIT

from tests.support.tables import create_pk_sk_table

REGION = "eu-west-1"
# moto's own serializer, taken before any test starts the emulator's patches
MOTO_SERIALIZE_STRUCTURE = BaseJSONSerializer.__dict__["_serialize_type_structure"]
MOTO_PARSE_STRUCTURE = BaseJSONParser.__dict__["_parse_structure"]

EVERY_TYPE = {
    "pk": {"S": "ORDER#1"},
    "sk": {"S": "META"},
    "text": {"S": "Zoë's café — 北京"},
    "empty": {"S": ""},
    "amount": {"N": "12.50"},
    "negative": {"N": "-0.001"},
    "blob": {"B": b"\x00\x01binary\xff"},
    "tags": {"SS": ["a", "b"]},
    "counts": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"one", b"\xfe"]},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "nested": {
        "M": {
            "list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"BOOL": False}}}, {"L": []}, {"B": b"\x10"}]},
            "empty_map": {"M": {}},
            "set": {"SS": ["z"]},
        }
    },
}


@pytest.fixture
def ddb() -> Iterator[Any]:
    moto_api_backend.reset()
    with emu.running(region=REGION) as emulator:
        client = emulator.client("dynamodb")
        create_pk_sk_table(client, "t", stream=True)
        client.put_item(TableName="t", Item=EVERY_TYPE)
        yield emulator
    moto_api_backend.reset()


def _answers(emulator: Any) -> dict[str, bytes]:
    """The raw body of each answer carrying items (read off the wire, before botocore parses it)."""
    ddb, streams = emulator.client("dynamodb"), emulator.client("dynamodbstreams")
    bodies: dict[str, bytes] = {}

    def keep(operation: str) -> Any:
        def handler(response_dict: dict[str, Any], **_: Any) -> None:
            bodies[operation] = response_dict["body"]

        return handler

    key = {"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}}
    for client, operation in [
        (ddb, "GetItem"),
        (ddb, "Query"),
        (ddb, "Scan"),
        (ddb, "BatchGetItem"),
        (ddb, "TransactGetItems"),
        (ddb, "UpdateItem"),
        (streams, "GetRecords"),
    ]:
        client.meta.events.register(f"before-parse.*.{operation}", keep(operation))
    ddb.get_item(TableName="t", Key=key)
    ddb.query(TableName="t", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": key["pk"]})
    ddb.scan(TableName="t")
    ddb.batch_get_item(RequestItems={"t": {"Keys": [key]}})
    ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])
    ddb.update_item(
        TableName="t",
        Key=key,
        UpdateExpression="SET amount = :a",
        ExpressionAttributeValues={":a": {"N": "12.50"}},
        ReturnValues="ALL_NEW",
    )
    arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    page = streams.get_records(ShardIterator=iterator["ShardIterator"])
    assert page["Records"], "the stream has the put and the update"
    return bodies


def _records(body: bytes) -> list[Any]:
    # a record carries its moment of creation and an id of its own: the rest must match
    records = json.loads(body)["Records"]
    for record in records:
        record["dynamodb"].pop("ApproximateCreationDateTime")
        record.pop("eventID")
    return records


def test_answers_with_items_are_byte_for_byte_moto_s(ddb):
    # Given the same reads (and an update that writes the same value) with the fast path, then without
    fast = _answers(ddb)
    with mock.patch.object(BaseJSONSerializer, "_serialize_type_structure", MOTO_SERIALIZE_STRUCTURE):
        slow = _answers(ddb)

    # Then every answer is the same bytes (stream records: the same but for their time and id; the
    # second pass reads its own update's record too)
    assert set(fast) == set(slow) == {
        "GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems", "UpdateItem", "GetRecords"
    }  # fmt: skip
    for operation in fast:
        if operation == "GetRecords":
            fast_records = _records(fast[operation])
            assert len(fast_records) == 2
            assert fast_records == _records(slow[operation])[:2]
        else:
            assert fast[operation] == slow[operation], operation
    item = json.loads(fast["GetItem"])["Item"]
    assert item["blob"] == {"B": "AAFiaW5hcnn/"} and item["no"] == {"BOOL": False}
    assert item["nested"]["M"]["list"]["L"][2] == {"M": {"deep": {"BOOL": False}}}


def _written_both_ways(ddb: Any, owner: object, name: str, moto_own: Any) -> tuple[Any, dict[str, Item]]:
    """The item of every type put under key FAST through the fast path, and under MOTO with moto's
    own ``owner.name`` restored; the client and the table's items by key."""
    client = ddb.client("dynamodb")
    client.put_item(TableName="t", Item={**EVERY_TYPE, "pk": {"S": "FAST"}})
    with mock.patch.object(owner, name, moto_own):
        client.put_item(TableName="t", Item={**EVERY_TYPE, "pk": {"S": "MOTO"}})
    table = dynamodb_backends["123456789012"][REGION].tables["t"]
    return client, {item.hash_key.value: item for item in table.all_items()}


def test_items_in_requests_are_read_as_moto_reads_them(ddb):
    # Given the same item written with the fast path, and again with moto's own parser, under
    # another key
    _, items = _written_both_ways(ddb, BaseJSONParser, "_parse_structure", MOTO_PARSE_STRUCTURE)

    # Then the table holds the same attributes for both, binary decoded alike
    fast, moto = (items[k].to_json()["Attributes"] for k in ("FAST", "MOTO"))
    assert fast.pop("pk") == {"S": "FAST"} and moto.pop("pk") == {"S": "MOTO"}
    assert fast == moto
    assert fast["nested"]["M"]["list"]["L"][4] == {"B": b"\x10"}


DEFINITION = {
    "StartAt": "Pick",
    "States": {
        "Pick": {"Type": "Pass", "Parameters": {"id.$": "$.order.id", "total.$": "$.order.total"}, "Next": "Big?"},
        "Big?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.total", "NumericGreaterThan": 10, "Next": "Big"}],
            "Default": "Small",
        },
        "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
        "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": True},
    },
}


def test_workflow_paths_are_parsed_once_and_executions_still_answer_right(ddb):
    # Given a workflow with paths in Parameters, a Choice and ResultPath, run for three orders
    sfn = ddb.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="paths", definition=json.dumps(DEFINITION), roleArn="arn:aws:iam::123456789012:role/x"
    )["stateMachineArn"]
    json_path.parse.cache_clear()
    outputs = []
    for order, total in (("a", 5), ("b", 50), ("c", 7)):
        arn = sfn.start_execution(
            stateMachineArn=machine, name=f"order-{order}", input=json.dumps({"order": {"id": order, "total": total}})
        )["executionArn"]
        for _ in range(200):
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.02)
        outputs.append(json.loads(described["output"]))

    # Then each execution took its own branch, and the three distinct paths were parsed once each
    assert outputs == [
        {"id": "a", "total": 5, "size": "small"},
        {"id": "b", "total": 50, "size": "big"},
        {"id": "c", "total": 7, "size": "small"},
    ]
    info = json_path.parse.cache_info()
    assert info.misses == 3 and info.hits == 6


MOTO_ITEM_INIT = Item.__dict__["__init__"]


def test_items_are_built_as_moto_builds_them_and_refused_at_the_same_size(ddb):
    # Given an item of every type written with the fast path, and again with moto's own build
    client, items = _written_both_ways(ddb, Item, "__init__", MOTO_ITEM_INIT)

    # Then both are stored alike, their attributes in moto's size-checking dict
    assert type(items["FAST"].attrs) is type(items["MOTO"].attrs) is LimitedSizeDict
    fast, moto = (items[k].to_json()["Attributes"] for k in ("FAST", "MOTO"))
    assert fast.pop("pk") == {"S": "FAST"} and moto.pop("pk") == {"S": "MOTO"}
    assert fast == moto and items["FAST"].size() == items["MOTO"].size()

    # And an item at moto's limit is stored both ways, one a byte over it refused both ways
    def sized(pk: str, total: int) -> dict[str, Any]:
        # moto counts each attribute's name and value: "pk" + pk, "sk" + "X", "blob" + the filler
        filler = total - (len("pk") + len(pk) + len("sk") + len("X") + len("blob"))
        return {"pk": {"S": pk}, "sk": {"S": "X"}, "blob": {"S": "x" * filler}}

    for build in ("fast", "moto"):
        with mock.patch.object(Item, "__init__", MOTO_ITEM_INIT) if build == "moto" else nullcontext():
            client.put_item(TableName="t", Item=sized(f"AT-{build}", ITEM_SIZE_LIMIT))
            with pytest.raises(client.exceptions.ClientError, match="Item size has exceeded"):
                client.put_item(TableName="t", Item=sized(f"OVER-{build}", ITEM_SIZE_LIMIT + 1))
    table = dynamodb_backends["123456789012"][REGION].tables["t"]
    stored = {item.hash_key.value: item.size() for item in table.all_items()}
    assert stored["AT-fast"] == stored["AT-moto"] == ITEM_SIZE_LIMIT
    assert "OVER-fast" not in stored and "OVER-moto" not in stored


def test_a_response_class_is_listed_once_and_actions_still_find_their_handlers(ddb):
    # Given the emulator's patches (the fixture started them): moto's listing is the cached one
    listed = moto_responses.method_names_from_class
    listed.cache_clear()
    client = ddb.client("dynamodb")

    # When requests of several actions arrive, some twice
    key = {"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}}
    client.get_item(TableName="t", Key=key)
    client.get_item(TableName="t", Key=key)
    client.put_item(TableName="t", Item={**key, "sk": {"S": "OTHER"}})
    described = client.describe_table(TableName="t")

    # Then each action reached its handler, and DynamoDB's response class was listed once
    assert client.get_item(TableName="t", Key=key)["Item"]["text"] == EVERY_TYPE["text"]
    assert described["Table"]["TableName"] == "t"
    assert listed.cache_info().misses == 1 and listed.cache_info().hits == 4
    assert "get_item" in listed(DynamoHandler) and "no_such_action" not in listed(DynamoHandler)
