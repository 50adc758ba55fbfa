"""Bloq.It account set-up: register our webhook with its signing secret; issue courier tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from orderbridge import aws as aws_clients
from orderbridge.actions.common import ActionRefused
from orderbridge.actions.runtime import InvalidActionInput
from orderbridge.models.bloqit_webhooks import EVENT_TYPES
from orderbridge.models.config import Branch
from orderbridge.vendors.http import VendorAuthError

from tests.conftest import SECRET_NAME, SECRETS
from tests.integration.actions.conftest import event, page, sent_json
from tests.unit.vendors import bloqit_samples as bloq_docs
from tests.unit.vendors.support import json_response

REGISTER = "RegisterBloqWebhookFunction"
TOKEN = "IssueCourierTokenFunction"
SIGNING_SECRET = SECRETS["bloq"][0]  # the secret the Bloq.It webhook verifies with, first of its list


def test_register_creates_the_webhook_with_the_rent_events_we_act_on_and_the_webhook_secret(
    act, vendors, action_deps, capsys
):
    out = act(REGISTER, event("register_bloq_webhook"))

    body = sent_json(vendors.create_webhook)
    assert body["url"] == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/webhooks/bloq"
    assert body["secret"] == SIGNING_SECRET
    assert body["description"] == "Orderbridge: the rent events it acts on"
    # Only the rent events that move a rent to a state some decision reads, or its expiry: a
    # drop-off, a pickup, an expiry, a cancellation, an extension (domain.rent_events)
    assert body["enabledEvents"] == [
        "rent.started",
        "rent.in_progress",
        "rent.locker_opened",
        "rent.collect_item",
        "rent.finished",
        "rent.cancelled",
        "rent.expired",
        "rent.extended",
        "rent.in_transit",
        "rent.ready_for_pickup",
        "rent.offline_dropoff",
    ]
    assert set(body["enabledEvents"]) <= set(EVENT_TYPES)
    assert vendors.create_webhook.calls.last.request.headers["X-API-KEY"] == "dev-bloqit-api-key"
    assert out == {
        "merchant_id": "m-demo",
        "webhook_id": "23d4bcebd23c54bba647df6a",
        "url": body["url"],
        "enabled_events": body["enabledEvents"],
        "created": True,
    }
    # The signing secret is sent to Bloq.It only: in no output and no log line
    assert SIGNING_SECRET not in json.dumps(out) + capsys.readouterr().out


def test_register_again_updates_the_webhook_of_that_url_instead_of_adding_one(act, vendors, action_deps):
    url = event("register_bloq_webhook")["url"]
    registered = json.loads(bloq_docs.WEBHOOK_CREATED) | {"url": url}
    vendors.list_webhooks.mock(return_value=json_response(page([registered])))
    out = act(REGISTER, event("register_bloq_webhook", events=["rent.in_progress", "rent.expired"]))
    assert vendors.create_webhook.call_count == 0
    assert vendors.update_webhook.calls.last.request.url.path.endswith("/webhooks/23d4bcebd23c54bba647df6a")
    assert sent_json(vendors.update_webhook) | {"secret": "-"} == {
        "url": url,
        "enabledEvents": ["rent.in_progress", "rent.expired"],
        "description": "Orderbridge: the rent events it acts on",
        "secret": "-",
    }
    assert sent_json(vendors.update_webhook)["secret"] == SIGNING_SECRET
    assert (out["created"], out["webhook_id"]) == (False, "23d4bcebd23c54bba647df6a")


def test_register_twice_is_one_registration(act, vendors, action_deps):
    assert act(REGISTER, event("register_bloq_webhook")) == act(REGISTER, event("register_bloq_webhook"))
    assert vendors.create_webhook.call_count == 1


def test_register_refuses_unknown_events_and_a_missing_secret(act, vendors, action_deps):
    with pytest.raises(InvalidActionInput, match="not Bloq.It event types: rent.teleported"):
        act(REGISTER, event("register_bloq_webhook", events=["rent.teleported"]))
    aws_clients.client("secretsmanager").put_secret_value(
        SecretId=SECRET_NAME, SecretString=json.dumps(SECRETS | {"bloq": []})
    )
    with pytest.raises(ActionRefused, match="no bloq signing secret"):
        act(REGISTER, event("register_bloq_webhook", description="fresh input"))
    assert vendors.create_webhook.call_count == 0


def test_a_refused_api_key_is_an_auth_error(act, vendors, action_deps):
    vendors.list_webhooks.mock(return_value=json_response({"code": "401", "message": "Invalid API key"}, 401))
    with pytest.raises(VendorAuthError):
        act(REGISTER, event("register_bloq_webhook"))


def test_a_courier_token_is_issued_for_its_expiry(act, vendors, action_deps):
    out = act(TOKEN, event("issue_courier_token"))
    params = vendors.courier_token.calls.last.request.url.params
    assert (params["courierID"], params["expirationDate"]) == ("DRIVERID1", str(168 * 3600 * 1000))
    assert "bloqIDs" not in params
    token = json.loads(bloq_docs.COURIER_TOKEN)["token"]
    assert out == {
        "merchant_id": "m-demo",
        "courier_id": "DRIVERID1",
        "token": token,
        "expires_at": datetime.fromtimestamp(1701194027, UTC).isoformat().replace("+00:00", "Z"),
        "bloq_ids": None,
    }


def test_a_courier_token_for_a_branch_is_valid_on_its_bloqs_only(act, vendors, action_deps):
    action_deps.config.put(Branch(branch_id="12345", merchant_id="m-demo", name="XYZ road", bloq_ids=["b1", "b2"]))
    out = act(TOKEN, event("issue_courier_token", branch_id="12345"))
    assert vendors.courier_token.calls.last.request.url.params.get_list("bloqIDs") == ["b1", "b2"]
    assert out["bloq_ids"] == ["b1", "b2"]
    with pytest.raises(ActionRefused, match="is not a branch of merchant"):
        act(TOKEN, event("issue_courier_token", branch_id="63", merchant_id="m-other"))


def test_courier_tokens_are_issued_anew_each_time(act, vendors, action_deps):
    act(TOKEN, event("issue_courier_token"))
    act(TOKEN, event("issue_courier_token"))
    assert vendors.courier_token.call_count == 2  # not idempotent: a token is not kept anywhere
