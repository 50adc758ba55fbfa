"""Onboarding from one file (issue 11, "Done when"): a new merchant with two branches and a delivery
partner with its routes and item mappings, onboarded on the local stack from one configuration file
with one ``orderbridge config apply`` — then an order from that partner is delivered.

The secrets are not in the file (docs/configuration.md): as a merchant's engineer would, the test
first puts the partner's webhook token and the merchant's vendor credentials into Secrets Manager
(the stack's emulator); the branches are added in Blink (its sandbox) as Blink's onboarding would."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from orderbridge.domain.ids import order_id_for
from orderbridge.web.request import parse_json
from orderbridge_local.seed import DEMO_BLOQ_IDS, DEMO_MERCHANT, DEV_VENDOR_CREDENTIALS

from tests.e2e.flow import Flow, Placed
from tests.support import samples

pytestmark = pytest.mark.e2e

ORDERBRIDGE = Path(sys.executable).with_name("orderbridge")  # the package's console script


def onboarding_file(merchant: str, partner: str, branches: tuple[str, str], blink_ids: tuple[str, str]) -> str:
    locker, home = branches
    mappings = "".join(
        f"  - {{partner_id: {partner}, merchant_id: {merchant}, kind: {kind}, partner_item_id: '{item}',"
        f" product_id: {product}, blink_id: '{blink}', name: {product}}}\n"
        for kind, item, product, blink in (
            ("item", "1", "burger", "257327"),
            ("item", "2", "fries", "257328"),
            ("option", "1", "cheese", "596996"),
        )
    )
    return f"""\
version: 1
merchants:
  - merchant_id: {merchant}
    name: Onboarded Bistro
branches:
  - branch_id: "{locker}"
    merchant_id: {merchant}
    name: Bistro Baixa
    blink_id: "{blink_ids[0]}"
    delivery_mode: locker
    courier: blink_logistics
    bloq_ids: [{", ".join(DEMO_BLOQ_IDS)}]
    blink_address: {{house_num: "100", street: Rua Augusta, area: Baixa, city: Lisboa}}
  - branch_id: "{home}"
    merchant_id: {merchant}
    name: Bistro Alfama
    blink_id: "{blink_ids[1]}"
    delivery_mode: home
    courier: dispatchninja
    blink_address: {{house_num: "7", street: Rua dos Remedios, area: Alfama, city: Lisboa}}
partners:
  - partner_id: {partner}
    name: Onboard Eats
    display_name: OnboardEats
    contact_phone: "+351219999999"
    delivered_by: platform
    tokens_secret: orderbridge/partners/{partner}
routes:
  - {{partner_id: {partner}, partner_branch_id: P-{locker}, merchant_id: {merchant}, branch_id: "{locker}"}}
  - {{partner_id: {partner}, partner_branch_id: P-{home}, merchant_id: {merchant}, branch_id: "{home}"}}
mappings:
{mappings}"""


def orderbridge(*args: str, stack: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    command = [str(ORDERBRIDGE), "config", *args, "--api", stack["api"], "--api-key", stack["ops_api_key"]]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def send_partner_order(flow: Flow, partner: str, token: str, partner_branch_id: str) -> Placed:
    """The partner sends the Blend doc's sample (a fresh order id) to its webhook URL."""
    body: dict[str, Any] = parse_json(samples.text("blend_order_created.jsonc"))
    partner_order_id = f"onb-{uuid.uuid4().hex[:10]}"
    body = {**body, "branch_id": partner_branch_id, "payload": {**body["payload"], "id": partner_order_id}}
    answer = flow.http.post(
        f"{flow.stack['api']}/webhooks/partners/{partner}/orders",
        content=json.dumps(body, default=str),
        headers={"X-Webhook-Token": token, "Content-Type": "application/json"},
    )
    order_id = order_id_for(f"partner:{partner}", partner_order_id)
    assert answer.status_code == 200 and answer.json() == {"order_id": order_id, "status": "success"}, answer.text
    return Placed("", order_id)


def test_a_merchant_two_branches_and_a_partner_onboarded_from_one_file_deliver_an_order(flow, stack, aws, tmp_path):
    run = uuid.uuid4().hex[:6]
    merchant, partner = f"m-onboard-{run}", f"onboard-eats-{run}"
    serial = int(run, 16) % 90_000 + 10_000
    branches, blink_ids = (f"8{serial}1", f"8{serial}2"), (f"7{serial}1", f"7{serial}2")

    # Given the secrets a merchant's engineer keeps out of the file: the partner's webhook token in
    # a secret of its own, the merchant's vendor credentials (the sandboxes' DEV-ONLY ones)
    token = f"dev-onboard-{secrets.token_urlsafe(18)}"
    secretsmanager = aws("secretsmanager")
    secretsmanager.create_secret(Name=f"orderbridge/partners/{partner}", SecretString=json.dumps({"tokens": [token]}))
    prefix = stack["seeded"]["vendor_credentials_secret"].removesuffix(DEMO_MERCHANT)
    secretsmanager.create_secret(Name=prefix + merchant, SecretString=json.dumps(DEV_VENDOR_CREDENTIALS))
    # And the branches exist in Blink (Blink's side of onboarding: their codes and Blink ids)
    for code, blink_id in zip(branches, blink_ids, strict=True):
        flow.admin("blink", "POST", "/_admin/branches", json={"id": int(code), "blink_id": int(blink_id)})
    # And the configuration in one file
    config = tmp_path / "onboarding.yaml"
    config.write_text(onboarding_file(merchant, partner, branches, blink_ids))

    # When it is applied with one command
    applied = orderbridge("apply", str(config), stack=stack)

    # Then the merchant, two branches, the partner, two routes and three mappings are added in one go
    assert applied.returncode == 0, applied.stderr + applied.stdout
    assert "9 added, 0 changed, 0 unchanged in 1 transaction(s)" in applied.stdout, applied.stdout
    assert f"+ branch {branches[1]}  (line 14)" in applied.stdout, applied.stdout
    # And the audit trail names the machine client that did it
    entries = flow.ops("GET", "/config/audit", params={"limit": "9"}).json()["entries"]
    ours = [e for e in entries if e["apply_id"] == entries[0]["apply_id"]]
    assert {e["id"] for e in ours} >= {merchant, partner, *branches} and len(ours) == 9, entries
    assert len({e["who"] for e in ours}) == 1 and ours[0]["who"].startswith("api-key:"), ours[0]["who"]
    # And applying the same file again changes nothing
    again = orderbridge("diff", str(config), stack=stack)
    assert again.returncode == 0 and "0 to add, 0 to change, 9 unchanged" in again.stdout, again.stdout

    # When the partner sends an order to the first branch
    placed = send_partner_order(flow, partner, token, f"P-{branches[0]}")

    # Then it reaches Blink under the partner's identity at the new branch, with the mapped items
    blink_id = flow.blink_order_of(placed)
    sent = flow.admin("blink", "GET", f"/_admin/orders/{blink_id}")["request"]
    assert sent["blink_branch_id"] == blink_ids[0] and sent["customer_name"].startswith("OnboardEats ")
    assert sent["customer_phone"] == "+351219999999" and sent["delivery"]["city"] == "Lisboa"
    assert [i["blink_item_id"] for i in sent["items"]] == ["257327", "257328"]
    # And once the kitchen has it ready and the platform's rider has taken it, it is delivered
    flow.wait_order(placed, lambda o: o["step"] == "blink_completed", "accepted, waiting for the kitchen")
    flow.kitchen(blink_id, 6)
    flow.kitchen(blink_id, 3)
    order = flow.wait_order(placed, lambda o: o["state"] == "delivered", "the order delivered", timeout=40)
    assert order["order"]["merchant_id"] == merchant and order["order"]["branch_id"] == branches[0], flow.report(placed)
    assert flow.blink_statuses(blink_id) == [1], flow.report(placed)


def test_a_wrong_file_is_refused_with_its_lines_and_nothing_reaches_the_stack(stack, tmp_path):
    config = tmp_path / "wrong.yaml"
    config.write_text(
        "version: 1\n"
        "partners:\n"
        "  - partner_id: leaky-app\n"
        "    name: Leaky\n"
        "    token: do-not-put-me-here\n"
        "branches:\n"
        "  - {branch_id: '1', merchant_id: m-nowhere, name: X, courier: pigeon}\n"
    )
    refused = orderbridge("apply", str(config), stack=stack)
    assert refused.returncode == 1, refused.stdout
    assert f"{config}:5: partners.0.token: a secret is never written in the configuration" in refused.stderr
    assert f"{config}:7: branches.0.courier:" in refused.stderr and "nothing was sent" in refused.stderr

    # And a file valid in itself that names a merchant the stack does not have is refused by the stack
    config.write_text("version: 1\nbranches:\n  - {branch_id: '1', merchant_id: m-nowhere, name: X}\n")
    nowhere = orderbridge("apply", str(config), stack=stack)
    assert nowhere.returncode == 1, nowhere.stdout
    assert f"{config}:3: branches.0.merchant_id: no merchant 'm-nowhere' is configured" in nowhere.stderr
