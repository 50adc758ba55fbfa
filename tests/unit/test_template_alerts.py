"""Alerts that reach a person (issue 11.3), read from template.yaml: every alarm notifies the alert
topic, the alarms the issue lists exist and watch what our code emits, every function and the
workflow log with the retention parameter, and the workflow logs no execution data."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest

from tests.support.template import ROOT, resources, template

ALARMS = resources("AWS::CloudWatch::Alarm")
FUNCTIONS = resources("AWS::Serverless::Function")
LOG_GROUPS = resources("AWS::Logs::LogGroup")
PARAMETERS = template()["Parameters"]
TOPIC = {"Ref": "AlertTopic"}
# CloudWatch's hard limit on the metrics one metric-math alarm reads.
MAX_ALARM_METRICS = 10


def metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own (single-metric alarm) or its metric-math queries'."""
    props = alarm["Properties"]
    if "MetricName" in props:
        dims = props.get("Dimensions", [])
        return [{"Namespace": props["Namespace"], "MetricName": props["MetricName"], "Dimensions": dims}]
    return [q["MetricStat"]["Metric"] for q in props["Metrics"] if "MetricStat" in q]


def dims(metric: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}


def alarms_reading(namespace: str, name: str) -> dict[str, dict[str, Any]]:
    return {
        logical: alarm
        for logical, alarm in ALARMS.items()
        if any(m["Namespace"] == namespace and m["MetricName"] == name for m in metric_stats(alarm))
    }


# --- the topic -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_every_alarm_notifies_the_alert_topic_when_it_fires_and_when_it_clears(name: str) -> None:
    props = ALARMS[name]["Properties"]
    assert props.get("AlarmActions") == [TOPIC], f"{name}: AlarmActions"
    assert props.get("OKActions") == [TOPIC], f"{name}: OKActions"
    assert props.get("AlarmDescription"), f"{name}: a person reads its description in the e-mail"


def test_the_alert_email_is_an_optional_parameter_subscribed_only_when_set() -> None:
    # Given the parameter: empty by default (no subscription)
    assert PARAMETERS["AlertEmail"]["Default"] == ""
    assert re.fullmatch(PARAMETERS["AlertEmail"]["AllowedPattern"], "")
    assert re.fullmatch(PARAMETERS["AlertEmail"]["AllowedPattern"], "ops@merchant.example")
    assert not re.fullmatch(PARAMETERS["AlertEmail"]["AllowedPattern"], "not an address")

    # Then the e-mail subscription exists only under a condition that the address is not empty
    (subscription,) = resources("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlertEmail"
    assert template()["Conditions"]["HasAlertEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]}
    assert subscription["Properties"]["TopicArn"] == TOPIC
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlertEmail"}


def test_the_alert_topic_is_encrypted_with_a_key_cloudwatch_alarms_may_use() -> None:
    # (alarms cannot publish to a topic under the AWS managed aws/sns key)
    topic = resources("AWS::SNS::Topic")["AlertTopic"]["Properties"]
    key = topic["KmsMasterKeyId"]["Ref"]
    statements = resources("AWS::KMS::Key")[key]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])


# --- the alarms the issue lists -----------------------------------------------------------------------


def test_a_failed_timed_out_or_aborted_workflow_alarms() -> None:
    watched = {
        m["MetricName"]
        for m in metric_stats(ALARMS["OrderWorkflowFailedAlarm"])
        if m["Namespace"] == "AWS/States" and dims(m) == {"StateMachineArn": {"Ref": "OrderWorkflow"}}
    }
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}


def test_stuck_orders_alarm_on_the_metric_the_stuck_orders_sync_publishes() -> None:
    source = (ROOT / "layers/shared/orderbridge/syncs/stuck_orders.py").read_text()
    assert 'name="OrdersStuck"' in source and 'SYNC = "stuck_orders"' in source
    (alarm,) = alarms_reading("Orderbridge", "OrdersStuck").values()
    (metric,) = metric_stats(alarm)
    assert dims(metric) == {"service": "orderbridge", "Sync": "stuck_orders"}


def test_an_order_waiting_on_a_person_too_long_alarms_by_the_parameter() -> None:
    assert PARAMETERS["NeedsAttentionMaxAgeMinutes"]["Type"] == "Number"
    (name,) = alarms_reading("Orderbridge", "NeedsAttentionOldestSeconds")
    props = ALARMS[name]["Properties"]
    assert props["Threshold"] == {"Ref": "NeedsAttentionMaxAgeMinutes"}
    (metric,) = metric_stats(ALARMS[name])
    assert dims(metric) == {"service": "orderbridge", "Sync": "stuck_orders"}


@pytest.mark.parametrize("queue", sorted(resources("AWS::SQS::Queue")))
def test_every_dead_letter_queue_alarms_as_soon_as_it_holds_a_message(queue: str) -> None:
    # Every queue of the template is a dead-letter queue (streams, schedules, syncs' items)
    watching = [
        alarm["Properties"]
        for alarm in ALARMS.values()
        if any(
            m["Namespace"] == "AWS/SQS"
            and m["MetricName"] == "ApproximateNumberOfMessagesVisible"
            and dims(m) == {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}}
            for m in metric_stats(alarm)
        )
    ]
    assert len(watching) == 1, f"{queue}: one alarm"
    (props,) = watching
    assert (props["Threshold"], props["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


@pytest.mark.parametrize("kind", ["Errors", "Throttles"])
def test_the_errors_and_throttles_of_every_function_alarm_in_its_group(kind: str) -> None:
    # Metric math over a group's functions: one alarm per group (webhooks, ops, syncs, actions -
    # the actions in three, as one alarm reads at most 10 metrics), not one per function
    covered: dict[str, list[str]] = {}
    for name, alarm in ALARMS.items():
        stats = metric_stats(alarm)
        for metric in stats:
            if metric["Namespace"] == "AWS/Lambda" and metric["MetricName"] == kind:
                covered.setdefault(dims(metric)["FunctionName"]["Ref"], []).append(name)
    missing = sorted(set(FUNCTIONS) - set(covered))
    assert not missing, f"functions whose {kind} no group alarm watches (add them to a group's alarm): {missing}"
    twice = {fn: names for fn, names in covered.items() if len(names) > 1}
    assert not twice, f"functions in more than one {kind} alarm: {twice}"
    for name in set(n for names in covered.values() for n in names):
        props = ALARMS[name]["Properties"]
        (total,) = [q for q in props["Metrics"] if q.get("ReturnData")]
        assert total["Expression"] == "SUM(FILL(METRICS(), 0))", name


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_no_alarm_reads_more_metrics_than_cloudwatch_allows(name: str) -> None:
    assert len(metric_stats(ALARMS[name])) <= MAX_ALARM_METRICS


def test_the_api_5xx_rate_alarms_on_the_share_of_requests() -> None:
    props = ALARMS["ApiServerErrorRateAlarm"]["Properties"]
    watched = {m["MetricName"]: dims(m) for m in metric_stats(ALARMS["ApiServerErrorRateAlarm"])}
    api_name = resources("AWS::Serverless::Api")["Api"]["Properties"]["Name"]
    assert watched == {
        "5XXError": {"ApiName": api_name, "Stage": {"Ref": "Stage"}},
        "Count": {"ApiName": api_name, "Stage": {"Ref": "Stage"}},
    }
    assert props["Threshold"] == {"Ref": "ApiServerErrorRatePercent"}
    (rate,) = [q for q in props["Metrics"] if q.get("ReturnData")]
    assert "100 * errors / requests" in rate["Expression"]["Fn::Sub"]


# --- what the dashboard and alarms read is what the code emits -------------------------------------------


def emitted_metric_names() -> set[str]:
    """CamelCase string constants of the shared package's modules that publish metrics
    (``add_metric`` / ``single_metric``): the metric names our code can emit."""
    names: set[str] = set()
    for path in (ROOT / "layers/shared/orderbridge").rglob("*.py"):
        text = path.read_text()
        if "add_metric(" not in text and "single_metric(" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+", node.value)
            ):
                names.add(node.value)
    return names


def dashboard_body() -> dict[str, Any]:
    (dashboard,) = resources("AWS::CloudWatch::Dashboard").values()
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    return dict(json.loads(re.sub(r"\$\{[^}]+\}", "X", text)))


def test_the_dashboard_shows_orders_per_state_and_source_webhook_latency_and_vendor_errors() -> None:
    widgets = dashboard_body()["widgets"]
    titles = " | ".join(w["properties"].get("title", "") for w in widgets).lower()
    for topic in ("state", "source", "webhook latency", "vendor errors"):
        assert topic in titles, topic


def test_the_dashboard_and_alarms_read_only_metrics_our_code_emits() -> None:
    emitted = emitted_metric_names()
    shown = {
        row[1]
        for widget in dashboard_body()["widgets"]
        for row in widget["properties"].get("metrics", [])
        if row[0] == "Orderbridge"
    }
    alarmed = {
        m["MetricName"] for alarm in ALARMS.values() for m in metric_stats(alarm) if m["Namespace"] == "Orderbridge"
    }
    assert shown and alarmed
    assert shown | alarmed <= emitted, sorted((shown | alarmed) - emitted)


def test_the_orders_per_source_query_counts_the_lines_the_webhooks_log() -> None:
    (query,) = [w["properties"]["query"] for w in dashboard_body()["widgets"] if w["type"] == "log"]
    messages = re.findall(r"'([^']+ recorded)'", query)
    source = (ROOT / "layers/shared/orderbridge/webhooks/report.py").read_text()
    assert 'f"{what} recorded"' in source
    callers = "".join(p.read_text() for p in (ROOT / "layers/shared/orderbridge/webhooks").glob("*.py"))
    for message in messages:
        assert f'"{message.removesuffix(" recorded")}"' in callers, message


# --- logs -----------------------------------------------------------------------------------------------


def test_log_retention_is_a_parameter_of_30_days_by_default() -> None:
    assert PARAMETERS["LogRetentionDays"]["Default"] == 30


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_its_log_group_with_the_retention_parameter(function: str) -> None:
    expected = {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    groups = [g["Properties"] for g in LOG_GROUPS.values() if g["Properties"]["LogGroupName"] == expected]
    assert len(groups) == 1, f"{function}: add {function}LogGroup (the section 'alerts and logs' of template.yaml)"
    (props,) = groups
    assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert props["KmsKeyId"] == {"Fn::GetAtt": ["MonitoringKey", "Arn"]}


def test_every_log_group_keeps_logs_for_the_retention_parameter() -> None:
    for name, group in LOG_GROUPS.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_the_workflow_logs_errors_to_its_own_log_group_without_execution_data() -> None:
    props = resources("AWS::Serverless::StateMachine")["OrderWorkflow"]["Properties"]
    logging = props["Logging"]
    assert logging["Level"] == "ERROR"
    assert logging["IncludeExecutionData"] is False
    (destination,) = logging["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert LOG_GROUPS[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # And its role may set up the log delivery (SAM does not add it)
    actions = {
        action
        for policy in props["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
        for action in statement["Action"]
    }
    assert {"logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeLogGroups"} <= actions


def test_the_monitoring_key_lets_cloudwatch_logs_use_it_for_this_accounts_log_groups_only() -> None:
    statements = resources("AWS::KMS::Key")["MonitoringKey"]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in statements if s["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}]
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    assert resources("AWS::KMS::Key")["MonitoringKey"]["Properties"]["EnableKeyRotation"] is True
