"""What the local stack corrects in moto: Step Functions (``aws_emulator.MotoPatches``) and
DynamoDB Streams (``emulator.serialise_dynamodb_writes``)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamShard
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, CallbackOutcomeSuccess
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from orderbridge_local import aws_emulator as emu
from orderbridge_local.emulator import partition_queries, serialise_dynamodb_writes


def test_a_task_token_answered_before_the_heartbeat_wait_starts_resumes_the_task():
    # The workflow's RegisterWait answers its token while its Lambda still runs when the wait is
    # already over; moto sets the heartbeat waiter up only after that Lambda returned.
    patches = emu.MotoPatches()
    patches.start()
    try:
        endpoint = CallbackEndpoint(callback_id="token")
        endpoint.notify(CallbackOutcomeSuccess(callback_id="token", output="{}"))
        heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=2)
        began = time.monotonic()
        assert heartbeat.clear_and_wait() is True  # at once, not a heartbeat timeout 2 s later
        assert time.monotonic() - began < 1.0
        assert isinstance(endpoint.get_outcome(), CallbackOutcomeSuccess)
    finally:
        patches.stop()


def test_a_task_token_answered_later_still_wakes_the_heartbeat_wait():
    patches = emu.MotoPatches()
    patches.start()
    try:
        endpoint = CallbackEndpoint(callback_id="token")
        heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=2)
        endpoint.notify(CallbackOutcomeSuccess(callback_id="token", output="{}"))
        assert heartbeat.clear_and_wait() is True
    finally:
        patches.stop()


def test_a_stream_reader_never_sees_a_record_of_a_transaction_that_is_rolled_back(monkeypatch):
    # A cancelled transaction's first write appends a stream record before its second condition
    # fails. A reader polling at that moment must not get it: its iterator would move past that
    # sequence number, and the next committed record (which reuses it) would never be delivered.
    serialise_dynamodb_writes()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-west-1")
        _stream_table(ddb)
        ddb.put_item(TableName="t", Item={"pk": {"S": "taken"}})
        shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].tables["t"].stream_shard
        start = shard.starting_sequence_number + len(shard.items)
        polled: list[dict] = []
        readers: list[threading.Thread] = []
        original_add = StreamShard.add

        def add_then_poll(self, old, new):  # noqa: ANN001 - the stream poller reads right after the write
            original_add(self, old, new)
            reader = threading.Thread(target=lambda: polled.extend(self.get(start, 100)))
            readers.append(reader)
            reader.start()
            reader.join(0.3)

        with monkeypatch.context() as patched:
            patched.setattr(StreamShard, "add", add_then_poll)
            with pytest.raises(ClientError, match="TransactionCanceled"):
                ddb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": "t", "Item": {"pk": {"S": "phantom"}}}},
                        {
                            "Put": {
                                "TableName": "t",
                                "Item": {"pk": {"S": "taken"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
        for reader in readers:
            reader.join(5.0)
        ddb.put_item(TableName="t", Item={"pk": {"S": "committed"}})

        assert polled == []  # the reader waited for the transaction, which left nothing behind
        records = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].tables["t"].stream_shard.get(start, 100)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["committed"]


def test_a_task_token_is_looked_for_only_in_executions_that_have_started():
    # moto marks an execution RUNNING before its thread has made its environment; SendTaskSuccess,
    # SendTaskFailure and SendTaskHeartbeat look for the token in every execution
    ready = SimpleNamespace(exec_worker=SimpleNamespace(env=object()), status="RUNNING")
    starting = SimpleNamespace(exec_worker=SimpleNamespace(env=None), status="RUNNING")
    created = SimpleNamespace(exec_worker=None, status=None)
    done = SimpleNamespace(exec_worker=SimpleNamespace(env=object()), status="SUCCEEDED")
    backend = SimpleNamespace(state_machines=[SimpleNamespace(executions=[created, starting, ready, done])])
    patches = emu.MotoPatches()
    patches.start()
    try:
        assert StepFunctionsParserBackend._get_executions(backend, ExecutionStatus.RUNNING) == [ready]
        assert StepFunctionsParserBackend._get_executions(backend) == [ready, done]
    finally:
        patches.stop()


def _stream_table(ddb) -> None:  # noqa: ANN001
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def test_a_transaction_is_judged_before_it_writes_and_never_copies_the_table(monkeypatch):
    serialise_dynamodb_writes()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-west-1")
        _stream_table(ddb)
        ddb.put_item(TableName="t", Item={"pk": {"S": "taken"}})
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].tables["t"]
        import copy as copy_module

        copied: list[object] = []
        original_deepcopy = copy_module.deepcopy
        monkeypatch.setattr(
            copy_module,
            "deepcopy",
            lambda obj, *a, **k: (copied.append(type(obj).__name__), original_deepcopy(obj, *a, **k))[1],
        )
        # A cancelled transaction: which condition failed is reported, nothing is written
        with pytest.raises(ClientError) as cancelled:
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
                    {
                        "Put": {
                            "TableName": "t",
                            "Item": {"pk": {"S": "taken"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        codes = [r.get("Code") for r in cancelled.value.response["CancellationReasons"]]
        assert codes == ["None", "ConditionalCheckFailed"]
        assert "Item" not in ddb.get_item(TableName="t", Key={"pk": {"S": "new"}})
        # A committed one writes everything; the table itself is never deep-copied, and stays the same object
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}}])
        assert "Table" not in copied
        assert dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].tables["t"] is table
        assert [
            r["dynamodb"]["Keys"]["pk"]["S"]
            for r in table.stream_shard.get(table.stream_shard.starting_sequence_number, 100)
        ] == ["taken", "new"]


def test_a_write_failing_half_way_puts_back_what_the_transaction_wrote():
    serialise_dynamodb_writes()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-west-1")
        _stream_table(ddb)
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].tables["t"]
        before = len(table.stream_shard.items)
        with pytest.raises(ClientError):
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "first"}}}},
                    {
                        "Update": {
                            "TableName": "t",
                            "Key": {"pk": {"S": "second"}},
                            "UpdateExpression": "SET n = n + :one",  # n does not exist: fails when applied
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
        assert "Item" not in ddb.get_item(TableName="t", Key={"pk": {"S": "first"}})
        assert len(table.stream_shard.items) == before


def _orders_table(ddb) -> None:  # noqa: ANN001
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "branch", "AttributeType": "S"},
            {"AttributeName": "at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_branch",
                "KeySchema": [
                    {"AttributeName": "branch", "KeyType": "HASH"},
                    {"AttributeName": "at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def test_a_query_reads_its_partition_and_never_sorts_the_whole_table(monkeypatch):
    # Given a table of 200 orders, 3 items each, with a branch index
    partition_queries()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-west-1")
        _orders_table(ddb)
        for n in range(200):
            for sk in ("META", "EVENT#2", "EVENT#1"):
                item = {"pk": {"S": f"ORDER#{n:03d}"}, "sk": {"S": sk}}
                if sk == "META":
                    item |= {"branch": {"S": f"B{n % 2}"}, "at": {"S": f"2026-11-27T10:{n % 60:02d}:{n:03d}"}}
                ddb.put_item(TableName="orders", Item=item)
        sorted_sizes: list[int] = []
        real_sorted = sorted

        def counting_sorted(items, **kwargs):  # noqa: ANN001, ANN003
            items = list(items)
            sorted_sizes.append(len(items))
            return real_sorted(items, **kwargs)

        from moto.dynamodb.models import table as table_module

        monkeypatch.setattr(table_module, "sorted", counting_sorted, raising=False)

        # When one order's partition is queried, forwards, backwards and a page at a time
        def sks(**kwargs):  # noqa: ANN003
            answer = ddb.query(
                TableName="orders",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": "ORDER#007"}},
                **kwargs,
            )
            return [i["sk"]["S"] for i in answer["Items"]], answer.get("LastEvaluatedKey")

        forwards, _ = sks()
        backwards, _ = sks(ScanIndexForward=False)
        first, cursor = sks(Limit=2)
        rest, _ = sks(ExclusiveStartKey=cursor)
        # and one branch is queried through the index, newest first
        listed = ddb.query(
            TableName="orders",
            IndexName="by_branch",
            KeyConditionExpression="branch = :b",
            ExpressionAttributeValues={":b": {"S": "B1"}},
            ScanIndexForward=False,
            Limit=5,
        )["Items"]

        # Then each answers as DynamoDB does
        assert forwards == ["EVENT#1", "EVENT#2", "META"]
        assert backwards == ["META", "EVENT#2", "EVENT#1"]
        assert (first, rest) == (["EVENT#1", "EVENT#2"], ["META"])
        expected = sorted(
            ((f"2026-11-27T10:{n % 60:02d}:{n:03d}", f"ORDER#{n:03d}") for n in range(1, 200, 2)), reverse=True
        )[:5]
        assert [(i["at"]["S"], i["pk"]["S"]) for i in listed] == expected
        # and no query sorted the table's 600 items (a scan does: the count sees moto's sorting)
        by_queries = list(sorted_sizes)
        ddb.scan(TableName="orders", Limit=1)
        assert all(n <= 3 for n in by_queries)
        assert sorted_sizes[len(by_queries) :] == [600]
