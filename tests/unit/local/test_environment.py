"""Each function's environment: the template's Globals and its own variables, resolved by the
emulator's CloudFormation to the deployed stack's names, plus what the Lambda runtime sets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from orderbridge.config import Settings
from orderbridge_local import aws_emulator as emu
from orderbridge_local import template as tpl
from orderbridge_local.runtime import LOCAL_DEFAULTS, function_environment

ROOT = Path(__file__).resolve().parents[3]
SANDBOX = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[tpl.LocalTemplate, emu.DeployedStack, emu.Emulator]]:
    local = tpl.load(ROOT / "template.yaml", overrides={"Stage": "unit", "BlinkBaseUrl": SANDBOX})
    with emu.running() as emulator:
        yield local, emu.deploy(emulator, local, stack_name="env-test"), emulator


def test_globals_are_resolved_to_the_deployed_stack(deployed):
    local, stack, emulator = deployed
    tables = emulator.client("dynamodb").list_tables()["TableNames"]
    for fn in stack.functions.values():
        env = fn.environment
        assert env["ORDERS_TABLE"] == stack.physical("OrdersTable") == "orderbridge-orders-unit"
        assert env["CONFIG_TABLE"] == stack.physical("ConfigTable")
        assert {env["ORDERS_TABLE"], env["CONFIG_TABLE"], env["RENTS_TABLE"], env["IDEMPOTENCY_TABLE"]} <= set(tables)
        assert env["BLINK_BASE_URL"] == SANDBOX  # a parameter override, not an edit
        assert env["BLOQIT_BASE_URL"] == local.parameters["BloqitBaseUrl"]
        assert env["BLOQ_TIMESTAMP_TOLERANCE_SECONDS"] == "300"  # a Number parameter, as a string
        assert all(isinstance(v, str) for v in env.values())


def test_the_app_reads_its_settings_from_that_environment(deployed):
    _, stack, _ = deployed
    settings = Settings.from_env(stack.functions["BlinkOrderWebhookFunction"].environment)
    assert settings.orders_table == "orderbridge-orders-unit"
    assert settings.vendors.blink_base_url == SANDBOX


def test_the_runtime_adds_what_lambda_sets_and_points_boto3_at_the_emulator(deployed):
    local, stack, emulator = deployed
    spec, fn = local.functions["OpsApiFunction"], stack.functions["OpsApiFunction"]
    env = function_environment(spec, fn, endpoint_url=emulator.url, region="eu-west-1")
    assert env["AWS_ENDPOINT_URL"] == emulator.url
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == fn.name
    assert env["_HANDLER"] == spec.handler
    assert env["LAMBDA_TASK_ROOT"] == str(spec.code_dir)
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"]  # never the developer's ~/.aws
    assert env["ORDERS_TABLE"] == "orderbridge-orders-unit"
    for key, value in LOCAL_DEFAULTS.items():
        assert env[key] == value


def test_a_function_cannot_override_what_the_runtime_reserves(deployed):
    local, stack, emulator = deployed
    spec, fn = local.functions["OpsApiFunction"], stack.functions["OpsApiFunction"]
    own = {**fn.environment, "AWS_ENDPOINT_URL": "https://real.aws", "POWERTOOLS_TRACE_DISABLED": "0"}
    sneaky = emu.DeployedFunction(fn.logical_id, fn.name, fn.arn, own)
    env = function_environment(spec, sneaky, endpoint_url=emulator.url, region="eu-west-1")
    assert env["AWS_ENDPOINT_URL"] == emulator.url
    assert env["POWERTOOLS_TRACE_DISABLED"] == "0"  # a local default, the function's own value wins


def test_the_emulator_holds_the_tables_with_their_indexes_and_streams(deployed):
    _, stack, emulator = deployed
    table = emulator.client("dynamodb").describe_table(TableName=stack.physical("OrdersTable"))["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} >= {"by_status", "by_branch", "by_day"}
    assert table["StreamSpecification"]["StreamEnabled"] is True


@pytest.mark.parametrize(
    ("headers", "path", "host"),
    [
        (
            {"authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/eu-west-1/dynamodb/aws4_request, ..."},
            "/",
            "dynamodb.eu-west-1.amazonaws.com",
        ),
        (
            {
                "authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/eu-west-1/dynamodb/aws4_request, ...",
                "x-amz-target": "DynamoDBStreams_20120810.GetRecords",
            },
            "/",
            "streams.dynamodb.eu-west-1.amazonaws.com",
        ),
        (
            {"authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/states/aws4_request, ..."},
            "/",
            "states.us-east-1.amazonaws.com",
        ),
        ({}, "/", None),
    ],
)
def test_requests_are_routed_by_their_signature(headers, path, host):
    assert emu.infer_aws_host(headers, path) == host


def test_what_the_emulator_cannot_create_is_left_out_not_fatal(tmp_path):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("def handler(event, context):\n    return event\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: fn, Handler: app.handler, Runtime: python3.11,\n"
        "                 Environment: {Variables: {ALARM: !Ref Errors}}}\n"
        "  Errors:\n    Type: AWS::CloudWatch::Alarm\n"
        "    Properties: {MetricName: Errors, Namespace: AWS/Lambda, Statistic: Sum, Period: 60,\n"
        "                 EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: GreaterThanThreshold}\n"
    )
    local = tpl.load(tmp_path / "template.yaml")
    with emu.running() as emulator, pytest.warns(UserWarning, match="placeholders"):
        stack = emu.deploy(emulator, local, stack_name="unsupported-test")
    assert "Errors" in stack.left_out
    assert stack.functions["Fn"].environment["ALARM"] == "local-Errors"
