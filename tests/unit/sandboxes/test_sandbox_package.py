"""build_sandboxes / serve_sandboxes: the local stack's entry points."""

from __future__ import annotations

import httpx
from orderbridge_local.sandboxes import SandboxesConfig, build_sandboxes, serve_sandboxes
from orderbridge_local.sandboxes.blink import BlinkSandbox
from orderbridge_local.sandboxes.bloqit import BloqitSandbox


def test_build_sandboxes_configures_one_sandbox_per_vendor() -> None:
    # Given a config as the local stack would write it
    config = {
        "blink": {"order_webhook_url": "http://127.0.0.1:9/orders", "webhook_token": "t"},
        "bloqit": {"webhooks": [{"url": "http://127.0.0.1:9/bloqit", "secret": "s"}]},
        "partner": {"webhook_url": "http://127.0.0.1:9/partners?token=x", "max_retries": 1},
    }

    # When the sandboxes are built
    sandboxes = build_sandboxes(config)

    # Then each is configured from its part
    assert set(sandboxes) == {"blink", "blink_logistics", "dispatchninja", "bloqit", "partner"}
    assert isinstance(sandboxes["blink"], BlinkSandbox)
    assert sandboxes["blink"].settings.webhook_token == "t"
    bloqit = sandboxes["bloqit"]
    assert isinstance(bloqit, BloqitSandbox)
    (webhook,) = bloqit.webhooks.values()
    assert webhook["secret"] == "s" and "rent.finished" in webhook["enabledEvents"]
    assert sandboxes["partner"].settings.max_retries == 1
    assert SandboxesConfig().blink.username == "orderbridge"


def test_serve_sandboxes_serves_all_and_stops_all() -> None:
    with serve_sandboxes(build_sandboxes()) as served, httpx.Client(timeout=5, trust_env=False) as http:
        health = {name: http.get(f"{handle.url}/_admin/health").json()["name"] for name, handle in served.items()}
        ports = {handle.port for handle in served.values()}

    assert health == {name: name for name in served}
    assert len(ports) == 5
