"""What the emulator keeps stays bounded (``orderbridge_local.retention``): shard iterators, stream
records, ended Step Functions executions, moto's thread list, its lists of every model instance,
empty partitions — counted after N operations, not timed."""

from __future__ import annotations

import gc
import json
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord
from moto.moto_api._internal.models import moto_api_backend
from moto.stepfunctions.parser.utils import TMP_THREADS
from orderbridge_local import aws_emulator as emu
from orderbridge_local import retention

from tests.support.tables import create_pk_sk_table

REGION = "eu-west-1"


@pytest.fixture
def aws() -> Iterator[Any]:
    """The emulator (its patches on), from an empty account; ``aws(service)`` is a client of it."""
    moto_api_backend.reset()
    with emu.running(region=REGION) as emulator:
        yield emulator.client
    moto_api_backend.reset()


def _stream_table(ddb: Any) -> str:
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]


def _first_iterator(streams: Any, arn: str, kind: str = "TRIM_HORIZON") -> str:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind)["ShardIterator"]


def _shard() -> Any:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables["t"].stream_shard


def test_a_polling_reader_leaves_only_its_live_iterators_behind(aws, monkeypatch):
    # Given a stream reader polling an idle shard 300 times, each answer a new iterator
    monkeypatch.setattr(retention, "USED_ITERATOR_GRACE_SECONDS", 0.0)
    ddb, streams = aws("dynamodb"), aws("dynamodbstreams")
    iterator = _first_iterator(streams, _stream_table(ddb))

    # When it has polled
    for _ in range(300):
        iterator = streams.get_records(ShardIterator=iterator, Limit=100)["NextShardIterator"]

    # Then the emulator holds the one it will use next, not 300
    assert retention.retained()["shard_iterators"] <= 2


def test_shard_iterators_never_exceed_their_ceiling(aws, monkeypatch):
    # Given a ceiling of 50 and iterators that would otherwise all still be valid
    monkeypatch.setattr(retention, "MAX_SHARD_ITERATORS", 50)
    ddb, streams = aws("dynamodb"), aws("dynamodbstreams")
    arn = _stream_table(ddb)

    # When 200 are asked for
    for _ in range(200):
        _first_iterator(streams, arn, "LATEST")

    # Then 50 are kept
    assert retention.retained()["shard_iterators"] == 50


def test_a_used_iterator_expires_as_in_aws(aws, monkeypatch):
    # Given an iterator used once, its grace over
    monkeypatch.setattr(retention, "USED_ITERATOR_GRACE_SECONDS", 0.0)
    ddb, streams = aws("dynamodb"), aws("dynamodbstreams")
    used = _first_iterator(streams, _stream_table(ddb))
    following = streams.get_records(ShardIterator=used)["NextShardIterator"]

    # When it is used again
    with pytest.raises(ClientError) as raised:
        streams.get_records(ShardIterator=used)

    # Then it is ExpiredIteratorException (a 400, never an emulator failure), and its successor works
    assert raised.value.response["Error"]["Code"] == "ExpiredIteratorException"
    assert streams.get_records(ShardIterator=following)["Records"] == []


def test_records_every_reader_has_read_are_dropped_and_numbering_goes_on(aws, monkeypatch):
    # Given a reader at the start of a stream and 100 writes
    monkeypatch.setattr(retention, "MIN_RECORD_SECONDS", 0.0)
    ddb, streams = aws("dynamodb"), aws("dynamodbstreams")
    iterator = _first_iterator(streams, _stream_table(ddb))
    for index in range(100):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"item-{index}"}})

    # When it reads them all, then one more write comes and is read
    seen: list[int] = []
    for _ in range(3):
        page = streams.get_records(ShardIterator=iterator, Limit=60)
        seen += [int(r["dynamodb"]["SequenceNumber"]) for r in page["Records"]]
        iterator = page["NextShardIterator"]
    ddb.put_item(TableName="t", Item={"pk": {"S": "late"}})
    page = streams.get_records(ShardIterator=iterator)
    seen += [int(r["dynamodb"]["SequenceNumber"]) for r in page["Records"]]
    streams.get_records(ShardIterator=page["NextShardIterator"])

    # Then every record was delivered once, in order, and the shard no longer holds the read ones
    assert len(seen) == 101
    assert seen == sorted(set(seen))
    assert [r["dynamodb"]["NewImage"]["pk"]["S"] for r in page["Records"]] == ["late"]
    assert retention.retained()["stream_records"]["t"] <= 1


def test_an_overwritten_item_and_a_read_record_are_freed(aws, monkeypatch):
    # Given a stream table, a reader, and one item written 200 times over, read back each time
    monkeypatch.setattr(retention, "MIN_RECORD_SECONDS", 0.0)
    ddb, streams = aws("dynamodb"), aws("dynamodbstreams")
    iterator = _first_iterator(streams, _stream_table(ddb))
    ddb.put_item(TableName="t", Item={"pk": {"S": "one"}, "n": {"N": "0"}})
    first = weakref.ref(dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables["t"].get_item(DynamoType({"S": "one"})))
    for index in range(1, 200):
        ddb.put_item(TableName="t", Item={"pk": {"S": "one"}, "n": {"N": str(index)}})
        ddb.get_item(TableName="t", Key={"pk": {"S": "one"}})
    while True:
        page = streams.get_records(ShardIterator=iterator, Limit=100)
        iterator = page["NextShardIterator"]
        if not page["Records"]:
            break
    gc.collect()

    # Then what the table and the stream no longer hold is gone from memory: moto's models keep no
    # list of every instance ever made (the first item, 200 records, 400 copies read back)
    assert first() is None
    assert _alive(Item) <= 2 and _alive(StreamRecord) <= 1
    assert retention.retained()["stream_records"]["t"] <= 1


def test_reading_a_missing_key_leaves_nothing_behind(aws):
    # Given a table with a sort key: 100 reads of orders that do not exist, one put and its delete
    ddb = aws("dynamodb")
    create_pk_sk_table(ddb, "ranged")
    for index in range(100):
        assert "Item" not in ddb.get_item(TableName="ranged", Key={"pk": {"S": f"ALIAS#{index}"}, "sk": {"S": "A"}})
    ddb.put_item(TableName="ranged", Item={"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}})
    ddb.delete_item(TableName="ranged", Key={"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}})

    # Then the table holds no partition for any of them (moto made an empty one for each read)
    assert dict(dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables["ranged"].items) == {}


def _alive(kind: type) -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is kind)


def test_a_stream_nobody_reads_keeps_at_most_its_ceiling(aws, monkeypatch):
    # Given a ceiling of 20 records per shard and no reader
    monkeypatch.setattr(retention, "MAX_STREAM_RECORDS", 20)
    ddb = aws("dynamodb")
    _stream_table(ddb)

    # When 100 items are written
    for index in range(100):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"item-{index}"}})

    # Then the shard holds the newest 20, numbered as they were written
    shard = _shard()
    assert len(shard.items) == 20
    numbers = [int(r.record["dynamodb"]["SequenceNumber"]) for r in shard.items]
    assert numbers == list(range(shard.starting_sequence_number, shard.starting_sequence_number + 20))
    assert shard.items[-1].record["dynamodb"]["NewImage"]["pk"]["S"] == "item-99"


def test_a_cancelled_transaction_after_trimming_still_leaves_no_record(aws, monkeypatch):
    # Given a shard whose oldest records were trimmed
    monkeypatch.setattr(retention, "MAX_STREAM_RECORDS", 5)
    ddb = aws("dynamodb")
    _stream_table(ddb)
    for index in range(12):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"item-{index}"}})
    before = [r.record["dynamodb"]["SequenceNumber"] for r in _shard().items]

    # When a transaction is cancelled by its condition
    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {"pk": {"S": "item-0"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    # Then the stream is as it was
    assert [r.record["dynamodb"]["SequenceNumber"] for r in _shard().items] == before


def _pass_machine(sfn: Any) -> str:
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
    return sfn.create_state_machine(
        name="m", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/r"
    )["stateMachineArn"]


def _wait_ended(sfn: Any, arns: list[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        statuses = [sfn.describe_execution(executionArn=a)["status"] for a in arns]
        if all(s != "RUNNING" for s in statuses):
            return
        time.sleep(0.05)
    raise AssertionError(f"executions still running: {statuses}")


def test_ended_executions_keep_their_history_and_only_the_newest_are_kept(aws, monkeypatch):
    # Given a machine that keeps 3 ended executions
    monkeypatch.setattr(retention, "MAX_FINISHED_EXECUTIONS", 3)
    sfn = aws("stepfunctions")
    machine = _pass_machine(sfn)

    # When 8 executions run to their end, one after another
    arns = []
    for index in range(8):
        arns.append(sfn.start_execution(stateMachineArn=machine, name=f"e{index}", input="{}")["executionArn"])
        _wait_ended(sfn, arns[-1:])

    # Then 3 are kept, the newest, each with its status, output and history, and its environment gone
    held = retention.retained()
    assert (held["executions_running"], held["executions_ended"]) == (0, 3)
    listed = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
    assert listed == set(arns[-3:])
    newest = sfn.describe_execution(executionArn=arns[-1])
    assert (newest["status"], json.loads(newest["output"])) == ("SUCCEEDED", {"ok": True})
    kinds = [e["type"] for e in sfn.get_execution_history(executionArn=arns[-1])["events"]]
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionSucceeded"
    # the program was parsed once for all 8 executions
    assert retention.PROGRAMS.hits >= 7


def test_a_token_of_an_ended_execution_is_refused_as_in_aws(aws):
    # Given an ended execution
    sfn = aws("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=_pass_machine(sfn), name="e", input="{}")["executionArn"]
    _wait_ended(sfn, [arn])

    # When a token no running execution holds is answered
    with pytest.raises(ClientError) as raised:
        sfn.send_task_failure(taskToken="not-a-live-token", error="E", cause="c")

    # Then it is InvalidToken (the ended execution is passed over)
    assert raised.value.response["Error"]["Code"] == "InvalidToken"


def test_finished_threads_leave_moto_s_thread_list(aws):
    # Given executions whose threads have ended
    sfn = aws("stepfunctions")
    machine = _pass_machine(sfn)
    arns = [sfn.start_execution(stateMachineArn=machine, name=f"t{i}", input="{}")["executionArn"] for i in range(5)]
    _wait_ended(sfn, arns)
    deadline = time.monotonic() + 5
    while any(t.is_alive() for t in list(TMP_THREADS)) and time.monotonic() < deadline:
        time.sleep(0.05)

    # When the list is pruned
    retention.prune_threads()

    # Then none of them is kept
    assert [t for t in list(TMP_THREADS) if not t.is_alive()] == []


def _token_machine(sfn: Any, queue_url: str, timeout_seconds: int) -> str:
    """A Task that sends its token to a queue and waits for it (as the order workflow's waits do)."""
    definition = {
        "StartAt": "Wait for the kitchen",
        "States": {
            "Wait for the kitchen": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": timeout_seconds,
                "End": True,
            }
        },
    }
    role = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/r"
    return sfn.create_state_machine(name=f"w{timeout_seconds}", definition=json.dumps(definition), roleArn=role)[
        "stateMachineArn"
    ]


def _tokens(sqs: Any, queue_url: str, count: int) -> list[str]:
    tokens: list[str] = []
    deadline = time.monotonic() + 20
    while len(tokens) < count and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            tokens.append(json.loads(message["Body"])["token"])
    assert len(tokens) == count
    return tokens


def test_an_execution_waiting_for_its_token_holds_one_thread_and_still_resumes(aws):
    # Given 6 executions each waiting for its task token (an order waiting for the kitchen)
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    machine = _token_machine(sfn, queue, 600)
    retention.prune_threads()
    arns = [sfn.start_execution(stateMachineArn=machine, name=f"o{i}", input="{}")["executionArn"] for i in range(6)]
    tokens = _tokens(sqs, queue, 6)

    # Then each holds one thread while it waits (moto's own engine: three)
    retention.prune_threads()
    assert sum(1 for t in list(TMP_THREADS) if t.is_alive()) == 6

    # When the tokens are answered
    for index, token in enumerate(tokens):
        sfn.send_task_success(taskToken=token, output=json.dumps({"n": index}))
    _wait_ended(sfn, arns)

    # Then every execution went on to its end with its answer
    outputs = sorted(json.loads(sfn.describe_execution(executionArn=a)["output"])["n"] for a in arns)
    assert outputs == list(range(6))


def test_a_token_wait_still_ends_at_its_timeout_seconds(aws):
    # Given an execution waiting for a token with TimeoutSeconds 1, never answered
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue = sqs.create_queue(QueueName="late")["QueueUrl"]
    arn = sfn.start_execution(stateMachineArn=_token_machine(sfn, queue, 1), name="late", input="{}")["executionArn"]

    # When its timeout passes
    _wait_ended(sfn, [arn])

    # Then it failed with States.Timeout, as in AWS
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "FAILED"
    kinds = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert "TaskTimedOut" in kinds
