"""``python -m orderbridge_local invoke`` next to a running stack: by default it runs on a fresh
stack of its own and leaves the running one's data alone; ``--stack`` runs on the running one."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from orderbridge.domain.ids import order_id_for

from tests.e2e.support import ROOT, RunningStack

pytestmark = pytest.mark.e2e
INVOKE_TIMEOUT_SECONDS = 240  # a fresh stack: deploy, seed, sandboxes, a cold start


def _partner_order_event(folder: Path) -> tuple[Path, str]:
    """The Blend sample's event with an order id of this test's own; its path and our order id."""
    event = json.loads((ROOT / "events" / "partner_order_webhook.json").read_text())
    body = json.loads(base64.b64decode(event["body"]))
    body["payload"]["id"] = f"e2e-invoke-{uuid.uuid4().hex[:12]}"
    event["body"] = base64.b64encode(json.dumps(body).encode()).decode()
    path = folder / "partner_order_webhook.json"
    path.write_text(json.dumps(event))
    return path, order_id_for("partner:demo-partner", body["payload"]["id"])


def _invoke(folder: Path, event: Path, *extra: str) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "orderbridge_local", "invoke", "PartnerOrderWebhookFunction", "-e", str(event), *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=INVOKE_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def _ops_status(http: Any, stack: dict[str, Any], order_id: str) -> int:
    return http.get(f"{stack['api']}/ops/orders/{order_id}", headers={"X-Api-Key": stack["ops_api_key"]}).status_code


def test_a_default_invoke_leaves_the_running_stack_alone_and_stack_uses_it(running_stack: RunningStack, tmp_path, http):
    # Given a running stack whose stack.json is where invoke looks (.local/stack.json of the folder)
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "stack.json").write_text(json.dumps(running_stack.info))
    # and a partner order nobody has sent
    event, order_id = _partner_order_event(tmp_path)

    # When invoke runs it without --stack
    answer, log = _invoke(tmp_path, event)

    # Then it was recorded, on a fresh stack of its own
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"]) == {"order_id": order_id, "status": "success"}
    assert "fresh stack" in log
    # And the running stack has no such order
    assert _ops_status(http, running_stack.info, order_id) == 404

    # When the same event is invoked with --stack
    answer, log = _invoke(tmp_path, event, "--stack")
    # Then the running stack has it
    assert answer["statusCode"] == 200, answer
    assert "against the running stack" in log
    assert _ops_status(http, running_stack.info, order_id) == 200
