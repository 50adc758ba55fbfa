"""The stream pollers read DynamoDB Streams in the emulator's process (``stack.InProcessStreams``):
the same records, sequence numbers and iterators as the DynamoDB Streams API answers."""

from __future__ import annotations

from datetime import UTC

from moto.moto_api._internal.models import moto_api_backend
from orderbridge_local import aws_emulator as emu
from orderbridge_local.stack import InProcessStreams
from orderbridge_local.streams import to_lambda_record
from orderbridge_local.template import ACCOUNT_ID

from tests.support.tables import create_pk_sk_table

REGION = "eu-west-1"


def _table_with_writes(ddb) -> str:  # noqa: ANN001
    create_pk_sk_table(ddb, "orders", stream=True)
    for n in range(5):
        ddb.put_item(TableName="orders", Item={"pk": {"S": f"ORDER#{n}"}, "sk": {"S": "META"}, "n": {"N": str(n)}})
    ddb.update_item(
        TableName="orders",
        Key={"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}},
        UpdateExpression="SET waiting_for = :w",
        ExpressionAttributeValues={":w": {"SS": ["courier"]}},
    )
    return ddb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]


def _read_all(streams, arn: str) -> list[dict]:  # noqa: ANN001
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict] = []
    for _ in range(10):
        page = streams.get_records(ShardIterator=iterator, Limit=2)
        records += page["Records"]
        iterator = page["NextShardIterator"]
    return records


def test_the_pollers_read_the_same_records_in_process_as_through_the_api():
    moto_api_backend.reset()
    with emu.running(region=REGION) as emulator:
        # Given a table with a stream and six writes, in the emulator
        arn = _table_with_writes(emulator.client("dynamodb"))

        # When the stream is read in pages of two, through the emulator's API and in process
        api = _read_all(emulator.client("dynamodbstreams"), arn)
        local = _read_all(InProcessStreams(REGION, account=ACCOUNT_ID), arn)
    moto_api_backend.reset()

    # Then both read the six records, in order, alike
    assert len(local) == len(api) == 6

    def seen(record: dict) -> tuple:
        d = record["dynamodb"]
        return (record["eventName"], d["SequenceNumber"], d["Keys"], d.get("OldImage"), d.get("NewImage"))

    assert [seen(r) for r in local] == [seen(r) for r in api]
    assert [r["eventName"] for r in local] == ["INSERT"] * 5 + ["MODIFY"]
    # and a record's creation time is tz-aware UTC, as botocore parses it, and reaches the function
    # as epoch seconds
    created = local[0]["dynamodb"]["ApproximateCreationDateTime"]
    assert created.tzinfo is not None and created.utcoffset() == UTC.utcoffset(None)
    lambda_record = to_lambda_record(local[0], arn, REGION)
    assert lambda_record["dynamodb"]["ApproximateCreationDateTime"] == int(created.timestamp())
