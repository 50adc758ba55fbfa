"""Calls the real webhook and ops handlers with API Gateway events, like a vendor would."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt

from tests.support.apigw import Answer, invoke, proxy_event

BLINK_TOKEN = "dev-blink-token"
LOGISTICS_TOKEN = "dev-logistics-token"
PARTNER_TOKEN = "dev-partner-token"
BLOQ_SECRET = "dev-bloq-secret-0123456789abcdef0123"


def _body(body: str | dict) -> str:
    return body if isinstance(body, str) else json.dumps(body)


def bloq_headers(body: str, *, secret: str = BLOQ_SECRET, timestamp: str | None = None) -> dict[str, str]:
    """Signed as Bloq.It signs (jsonwebtoken over ``<timestamp>.<body>``), default header names."""
    ts = timestamp or str(int(time.time() * 1000))
    token = jwt.api_jws.encode(f"{ts}.{body}".encode(), secret, algorithm="HS256", headers={"typ": None})
    return {"x-bloq-signature": token, "x-bloq-timestamp": ts}


class Hub:
    def blink_order(self, body: str | dict, *, token: str | None = BLINK_TOKEN, **kw: Any) -> Answer:
        return self._post("BlinkOrderWebhookFunction", "/webhooks/blink/orders", body, token, **kw)

    def blink_status(self, body: str | dict, *, token: str | None = BLINK_TOKEN, **kw: Any) -> Answer:
        return self._post("BlinkOrderStatusWebhookFunction", "/webhooks/blink/order-status", body, token, **kw)

    def task_status(self, body: str | dict, *, token: str | None = LOGISTICS_TOKEN, **kw: Any) -> Answer:
        return self._post("BlinkTaskStatusWebhookFunction", "/webhooks/blink/logistics/task-status", body, token, **kw)

    def partner_order(
        self, body: str | dict, *, partner: str = "demo-partner", token: str | None = PARTNER_TOKEN, **kw: Any
    ) -> Answer:
        return self._post(
            "PartnerOrderWebhookFunction",
            f"/webhooks/partners/{partner}/orders",
            body,
            token,
            resource="/webhooks/partners/{partner}/orders",
            path_params={"partner": partner},
            **kw,
        )

    def bloq(self, body: str | dict, *, headers: dict[str, str] | None = None, **kw: Any) -> Answer:
        text = _body(body)
        event = proxy_event("POST", "/webhooks/bloq", body=text, headers=headers or bloq_headers(text), **kw)
        return invoke("BloqWebhookFunction", event)

    def ops_order(self, order_id: str, **query: str) -> Answer:
        event = proxy_event(
            "GET",
            f"/ops/orders/{order_id}",
            resource="/ops/orders/{order_id}",
            path_params={"order_id": order_id},
            query=query or None,
        )
        return invoke("OpsApiFunction", event)

    def ops_list(self, **query: str) -> Answer:
        return invoke("OpsApiFunction", proxy_event("GET", "/ops/orders", query=query or None))

    def _post(
        self, function: str, path: str, body: str | dict, token: str | None, *, header_token: bool = True, **kw: Any
    ) -> Answer:
        headers = dict(kw.pop("headers", None) or {})
        if token is not None and header_token:
            headers["X-Webhook-Token"] = token
        elif token is not None:
            kw["query"] = {**(kw.get("query") or {}), "token": token}
        return invoke(function, proxy_event("POST", path, body=_body(body), headers=headers, **kw))
