"""The API's and the stack's edges (issue 13.6), read from template.yaml: throttling per route
(webhooks apart from the ops API), a usage plan with a quota, access logs without personal data,
deletion protection on the data tables, a dead-letter queue and alarm on every asynchronous
invocation, and SendTask* scoped to the order workflow."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.template import function_routes, resources, template

API = resources("AWS::Serverless::Api")["Api"]["Properties"]
FUNCTIONS = resources("AWS::Serverless::Function")
PARAMETERS = template()["Parameters"]
# Event sources Lambda invokes asynchronously (a failed run is retried, then dropped unless sent on).
ASYNC_EVENT_TYPES = {"Schedule", "ScheduleV2", "CloudWatchEvent", "EventBridgeRule", "SNS", "S3", "IoTRule"}


def encoded(path: str) -> str:
    """A route as a stage's MethodSettings name it ("/" is "~1")."""
    return "/" + path.replace("/", "~1")


def method_settings() -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["ResourcePath"], s["HttpMethod"]): s for s in API["MethodSettings"]}


def default(parameter: dict[str, Any]) -> int:
    return int(PARAMETERS[parameter["Ref"]]["Default"])


# --- throttling and the usage plan -------------------------------------------------------------------


def test_every_route_but_the_webhooks_takes_the_ops_limits() -> None:
    everything = method_settings()[("/*", "*")]
    assert everything["ThrottlingRateLimit"] == {"Ref": "OpsThrottleRateLimit"}
    assert everything["ThrottlingBurstLimit"] == {"Ref": "OpsThrottleBurstLimit"}


WEBHOOK_ROUTES = sorted(
    (method, path) for routes in function_routes().values() for method, path in routes if path.startswith("/webhooks/")
)


def test_the_five_webhooks_are_routes_of_the_template() -> None:
    assert len(WEBHOOK_ROUTES) == 5, WEBHOOK_ROUTES


@pytest.mark.parametrize(("method", "path"), WEBHOOK_ROUTES)
def test_each_webhook_route_has_its_own_limits_apart_from_the_ops_api(method: str, path: str) -> None:
    setting = method_settings().get((encoded(path), method))
    assert setting is not None, f"{method} {path}: no MethodSettings entry ({encoded(path)})"
    assert setting["ThrottlingRateLimit"] == {"Ref": "WebhookThrottleRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "WebhookThrottleBurstLimit"}
    ops = method_settings()[("/*", "*")]
    # Different limits by default: webhooks take vendor bursts, the ops API people and scripts
    assert default(setting["ThrottlingRateLimit"]) != default(ops["ThrottlingRateLimit"])
    assert default(setting["ThrottlingBurstLimit"]) != default(ops["ThrottlingBurstLimit"])


def test_no_ops_route_takes_the_webhook_limits() -> None:
    ops_paths = {
        encoded(p) for routes in function_routes().values() for _, p in routes if not p.startswith("/webhooks/")
    }
    for (path, _), setting in method_settings().items():
        if setting["ThrottlingRateLimit"] == {"Ref": "WebhookThrottleRateLimit"}:
            assert path not in ops_paths and path.startswith("/~1webhooks~1"), path


def test_the_usage_plan_of_the_ops_api_key_has_a_daily_quota_and_a_throttle() -> None:
    plan = API["Auth"]["UsagePlan"]
    assert plan["CreateUsagePlan"] == "PER_API"
    assert plan["Quota"] == {"Limit": {"Ref": "OpsApiKeyDailyQuota"}, "Period": "DAY"}
    assert plan["Throttle"] == {
        "RateLimit": {"Ref": "OpsThrottleRateLimit"},
        "BurstLimit": {"Ref": "OpsThrottleBurstLimit"},
    }


# --- access logs -------------------------------------------------------------------------------------


PERSONAL = re.compile(
    r"sourceIp|userAgent|caller|\buser\b|cognito|principalId|claims|querystring|\$context\.path\b", re.I
)


def test_the_api_writes_access_logs_as_json_without_personal_data() -> None:
    setting = API["AccessLogSetting"]
    group = setting["DestinationArn"]["Fn::GetAtt"][0]
    assert resources("AWS::Logs::LogGroup")[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    fmt = setting["Format"]
    variables = re.findall(r"\$context\.[A-Za-z.]+", fmt)
    assert "$context.requestId" in variables and "$context.status" in variables
    assert "$context.resourcePath" in variables  # the route, not the path with its values
    assert not [v for v in variables if PERSONAL.search(v)], variables
    # One JSON object per request once API Gateway fills the variables in
    filled = json.loads(re.sub(r"\$context\.[A-Za-z.]+", '"x"', fmt).replace('""x""', '"x"'))
    assert set(filled) >= {"requestId", "route", "status"}


def test_api_gateway_has_the_account_role_it_writes_logs_with() -> None:
    (account,) = resources("AWS::ApiGateway::Account").values()
    role = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    managed = resources("AWS::IAM::Role")[role]["Properties"]["ManagedPolicyArns"]
    assert any("AmazonAPIGatewayPushToCloudWatchLogs" in json.dumps(arn) for arn in managed)
    assert resources("AWS::Serverless::Api")["Api"]["DependsOn"] == "ApiGatewayAccount"


# --- deletion protection -------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["OrdersTable", "ConfigTable", "RentsTable"])
def test_the_data_tables_are_protected_from_deletion(table: str) -> None:
    spec = resources("AWS::DynamoDB::Table")[table]
    assert spec["Properties"]["DeletionProtectionEnabled"] is True
    assert spec["DeletionPolicy"] == "Retain" and spec["UpdateReplacePolicy"] == "Retain"


def test_only_the_idempotency_table_stays_deletable() -> None:
    deletable = {
        name
        for name, spec in resources("AWS::DynamoDB::Table").items()
        if not spec["Properties"].get("DeletionProtectionEnabled")
    }
    assert deletable == {"IdempotencyTable"}


# --- asynchronous invocations ----------------------------------------------------------------------------


ASYNC = sorted(
    (name, event_name)
    for name, spec in FUNCTIONS.items()
    for event_name, event in (spec["Properties"].get("Events") or {}).items()
    if event["Type"] in ASYNC_EVENT_TYPES
)


def alarmed_queues() -> set[str]:
    out = set()
    for alarm in resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        for dim in props.get("Dimensions", []):
            if props.get("MetricName") == "ApproximateNumberOfMessagesVisible" and props.get("AlarmActions"):
                out.add(dim["Value"]["Fn::GetAtt"][0])
    return out


def test_the_schedules_are_the_asynchronous_invocations() -> None:
    assert len(ASYNC) == 10 and ("CourierKeeperFunction", "Keep") in ASYNC


@pytest.mark.parametrize(("function", "event"), ASYNC)
def test_an_asynchronous_invocation_that_fails_lands_in_an_alarmed_dead_letter_queue(function: str, event: str) -> None:
    spec = FUNCTIONS[function]["Properties"]
    # Given the function's own dead-letter queue (Lambda gave up retrying the event)
    queue = spec["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0]
    assert spec["DeadLetterQueue"]["Type"] == "SQS"
    # Then the schedule sends what EventBridge could not deliver there too
    target = spec["Events"][event]["Properties"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    # And that queue lets this rule (SAM's <Function><Event>) send to it
    (policy,) = resources("AWS::SQS::QueuePolicy").values()
    assert {"Ref": queue} in policy["Properties"]["Queues"]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert {"Fn::GetAtt": [queue, "Arn"]} in statement["Resource"]
    assert {"Fn::GetAtt": [f"{function}{event}", "Arn"]} in statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    # And the queue's alarm calls a person
    assert queue in alarmed_queues()


def test_no_function_is_invoked_asynchronously_through_an_event_invoke_config_without_a_destination() -> None:
    for name, spec in FUNCTIONS.items():
        config = spec["Properties"].get("EventInvokeConfig")
        if config is not None:
            assert config.get("DestinationConfig", {}).get("OnFailure"), name


# --- SendTask* ----------------------------------------------------------------------------------------------


def statements_granting(prefix: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, spec in FUNCTIONS.items():
        for policy in spec["Properties"].get("Policies") or []:
            if not isinstance(policy, dict):
                continue
            for statement in policy.get("Statement", []):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if any(a.startswith(prefix) for a in actions):
                    found.append((name, statement))
    return found


def test_send_task_is_scoped_to_the_order_workflow() -> None:
    workflow_name = resources("AWS::Serverless::StateMachine")["OrderWorkflow"]["Properties"]["Name"]["Fn::Sub"]
    by_name = {
        "Fn::Sub": f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{workflow_name}"
    }
    granted = statements_granting("states:SendTask")
    assert granted, "the functions that settle the workflow's waits (register wait, stream, keeper)"
    for name, statement in granted:
        assert statement["Resource"] in ({"Ref": "OrderWorkflow"}, by_name), f"{name}: {statement['Resource']}"
