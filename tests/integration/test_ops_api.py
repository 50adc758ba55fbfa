"""GET /ops/orders/{order_id} and GET /ops/orders."""

from __future__ import annotations

import json

from orderbridge.domain.ids import order_id_for

from tests.support import samples
from tests.support.template import template

BLINK_ORDER = order_id_for("blink", "1236589")
PARTNER_ORDER = order_id_for("partner:demo-partner", "order_id")


def test_order_detail_has_status_order_and_timeline_without_raw_by_default(hub):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    answer = hub.ops_order(BLINK_ORDER)
    assert answer.status == 200
    assert answer.body["status"] == "pending" and answer.body["order"]["order_id"] == BLINK_ORDER
    assert [e["kind"] for e in answer.body["timeline"]] == ["order_received"]
    assert "raw" not in answer.body["timeline"][0]
    raw = hub.ops_order(BLINK_ORDER, include="raw").body["timeline"][0]["raw"]
    assert json.loads(raw)["blink_order_id"] == "1236589"


def test_unknown_order_is_404(hub):
    answer = hub.ops_order("nope")
    assert answer.status == 404 and answer.body["error"] == "not_found"


def test_list_by_status_by_branch_and_by_day(hub, fixed_now):
    hub.blink_order(samples.text("blink_order_webhook.json"))
    hub.partner_order(samples.text("blend_order_created.jsonc"))
    hub.blink_status({"blink_order_id": "1236589", "status": 1})
    by_status = hub.ops_list(status="accepted").body["orders"]
    assert [o["order_id"] for o in by_status] == [BLINK_ORDER]
    by_branch = hub.ops_list(branch="12345").body["orders"]
    assert {o["order_id"] for o in by_branch} == {BLINK_ORDER, PARTNER_ORDER}
    both = hub.ops_list(branch="12345", status="pending").body["orders"]
    assert [o["order_id"] for o in both] == [PARTNER_ORDER]
    today = hub.ops_list().body
    assert today["filters"] == {"date": "2026-11-22"} and len(today["orders"]) == 2
    assert hub.ops_list(date="2026-11-21").body["orders"] == []


def test_list_pages_with_a_cursor(hub, seeded):
    for n in range(5):
        hub.blink_order(samples.load("blink_order_webhook.json") | {"blink_order_id": str(1000 + n)})
    seen, cursor = [], None
    for _ in range(5):
        body = hub.ops_list(branch="12345", limit="2", **({"cursor": cursor} if cursor else {})).body
        seen += [o["order_id"] for o in body["orders"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 == len(set(seen))


def test_bad_query_is_400_with_reasons(hub):
    answer = hub.ops_list(status="lost", limit="0", date="yesterday", cursor="%%%")
    assert answer.status == 400
    assert {e["field"] for e in answer.body["errors"]} == {"status", "limit", "date", "cursor"}


def test_ops_routes_require_an_api_key_in_api_gateway():
    events = template()["Resources"]["OpsApiFunction"]["Properties"]["Events"]
    assert {
        (e["Properties"]["Method"], e["Properties"]["Path"], e["Properties"]["Auth"]["ApiKeyRequired"])
        for e in events.values()
    } == {
        ("get", "/ops/orders/{order_id}", True),
        ("patch", "/ops/orders/{order_id}", True),
        ("get", "/ops/orders", True),
        ("get", "/ops/orders/counts", True),
        ("post", "/ops/orders/{order_id}/resume", True),
        ("post", "/ops/orders/{order_id}/retry", True),
        ("post", "/ops/orders/{order_id}/cancel", True),
        ("get", "/ops/catalog/{merchant_id}", True),
        ("get", "/ops/catalog/{merchant_id}/history", True),
        ("get", "/ops/catalog/{merchant_id}/flags", True),
        ("delete", "/ops/catalog/{merchant_id}/flags/{flag_id}", True),
        ("put", "/ops/catalog/{merchant_id}/items/{item_id}", True),
        ("get", "/ops/branches", True),
        ("get", "/ops/abandoned-carts", True),
        ("get", "/ops/abandoned-carts.csv", True),
        ("get", "/ops/config", True),
        ("put", "/ops/config", True),
        ("get", "/ops/config/audit", True),
        ("get", "/ops/config/{kind}", True),
        ("get", "/ops/config/{kind}/{id}", True),
        ("put", "/ops/config/{kind}/{id}", True),
    }
    usage_plan = template()["Resources"]["Api"]["Properties"]["Auth"]["UsagePlan"]
    assert usage_plan["CreateUsagePlan"] == "PER_API"


def test_resume_refuses_while_running_then_starts_a_named_execution(hub, seeded, monkeypatch):
    from orderbridge import aws
    from orderbridge.config import get_settings
    from orderbridge.deps import get_deps

    from tests.support.apigw import invoke, proxy_event

    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="orders",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    monkeypatch.setenv("ORDER_WORKFLOW_ARN", machine)
    get_settings.cache_clear()
    get_deps.cache_clear()
    hub.blink_order(samples.text("blink_order_webhook.json"))
    first = sfn.start_execution(stateMachineArn=machine, name=BLINK_ORDER, input="{}")["executionArn"]

    def resume():
        event = proxy_event(
            "POST",
            f"/ops/orders/{BLINK_ORDER}/resume",
            resource="/ops/orders/{order_id}/resume",
            path_params={"order_id": BLINK_ORDER},
        )
        return invoke("OpsApiFunction", event)

    if sfn.describe_execution(executionArn=first)["status"] == "RUNNING":
        running = resume()
        assert running.status == 409 and running.body["error"] == "conflict"
        sfn.stop_execution(executionArn=first)
    answer = resume()
    assert (answer.status, answer.body) == (202, {"order_id": BLINK_ORDER, "execution": f"{BLINK_ORDER}-r1"})
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]]
    assert sorted(names) == sorted([BLINK_ORDER, f"{BLINK_ORDER}-r1"])
    second_arn = first.replace(f":{BLINK_ORDER}", f":{BLINK_ORDER}-r1")
    r1_running = sfn.describe_execution(executionArn=second_arn)["status"] == "RUNNING"
    again = resume()
    assert again.status == (409 if r1_running else 202)
    if not r1_running:
        assert again.body["execution"] == f"{BLINK_ORDER}-r2"


def test_resume_of_an_unknown_order_is_404(hub):
    from tests.support.apigw import invoke, proxy_event

    event = proxy_event(
        "POST", "/ops/orders/nope/resume", resource="/ops/orders/{order_id}/resume", path_params={"order_id": "nope"}
    )
    assert invoke("OpsApiFunction", event).status == 404
