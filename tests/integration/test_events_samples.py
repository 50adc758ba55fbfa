"""Every API function's events/ sample (made with `sam local generate-event`) is accepted by its
function, in the order a real day would bring them. (Action samples: tests/integration/actions.)"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.apigw import LambdaContext, handler_module, invoke
from tests.support.hub import bloq_headers
from tests.support.template import function_routes

EVENTS = Path(__file__).resolve().parents[2] / "events"
FUNCTION_EVENTS = {
    "BlinkOrderWebhookFunction": "blink_order_webhook.json",
    "PartnerOrderWebhookFunction": "partner_order_webhook.json",
    "BlinkOrderStatusWebhookFunction": "blink_order_status_webhook.json",
    "BlinkTaskStatusWebhookFunction": "blink_task_status_webhook.json",
    "BloqWebhookFunction": "bloq_webhook.json",
    "OpsApiFunction": "ops_api_get_order.json",
    "ConsoleFunction": "ops_console_asset.json",
}


@dataclass
class _Status:
    status: int


def console_asset(event: dict) -> _Status:
    """The console's sample asks for its script: answered as JavaScript."""
    result = handler_module("ConsoleFunction").lambda_handler(event, LambdaContext(function_name="ConsoleFunction"))
    headers = result.get("headers") or {k: v[-1] for k, v in result["multiValueHeaders"].items()}
    assert headers["Content-Type"].startswith("text/javascript")
    assert 'addEventListener("hashchange"' in result["body"]
    return _Status(result["statusCode"])


def test_every_api_function_has_a_sample_event():
    assert set(FUNCTION_EVENTS) == set(function_routes())
    for name in FUNCTION_EVENTS.values():
        assert (EVENTS / name).exists()


def test_every_sample_event_is_accepted(hub):
    answers = {}
    for function, name in FUNCTION_EVENTS.items():
        event = json.loads((EVENTS / name).read_text())
        if function == "BloqWebhookFunction":  # signatures expire: sign it now, as Bloq.It would
            import base64

            body = base64.b64decode(event["body"]).decode()
            event["headers"].update(bloq_headers(body, timestamp=str(int(time.time() * 1000))))
        if function == "ConsoleFunction":  # JavaScript, not JSON
            answers[function] = console_asset(event)
            continue
        answers[function] = invoke(function, event)
    assert {f: a.status for f, a in answers.items()} == {
        "BlinkOrderWebhookFunction": 200,
        "PartnerOrderWebhookFunction": 200,
        "BlinkOrderStatusWebhookFunction": 200,
        "BlinkTaskStatusWebhookFunction": 202,  # no task of ours has that id yet
        "BloqWebhookFunction": 200,
        "OpsApiFunction": 200,
        "ConsoleFunction": 200,
    }
    assert answers["OpsApiFunction"].body["status"] == "rejected"  # the status sample rejected it
    assert invoke("OpsApiFunction", json.loads((EVENTS / "ops_api_list_orders.json").read_text())).status == 200
