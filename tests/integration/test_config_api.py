"""The config API (``ops_config``): the configuration as one document or record by record, validated
by the file's models, every change in the audit trail, nothing half-written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import table_items
from tests.support.apigw import invoke, proxy_event

NEW_MERCHANT = {"merchant_id": "m-new", "name": "New Bistro"}
NEW_BRANCH = {
    "branch_id": "7001",
    "merchant_id": "m-new",
    "name": "Baixa",
    "blink_id": "70010",
    "delivery_mode": "home",
    "courier": "dispatchninja",
    "blink_address": {"house_num": "1", "street": "Rua Augusta", "area": "Baixa", "city": "Lisboa"},
}


def call(
    method: str,
    path: str,
    *,
    resource: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
    username: str | None = None,
    api_key_id: str | None = "key-123",
) -> Any:
    event = proxy_event(
        method,
        path,
        resource=resource,
        body=json.dumps(body) if body is not None and not isinstance(body, str) else body,
        query=query,
        path_params=path_params,
    )
    event["requestContext"]["identity"]["apiKeyId"] = api_key_id
    if username:
        event["requestContext"]["authorizer"] = {"username": username}
    return invoke("OpsApiFunction", event)


def put_document(document: dict[str, Any], **kw: Any) -> Any:
    return call("PUT", "/ops/config", resource="/ops/config", body=document, **kw)


def put_record(kind: str, id_: str, record: Any, **kw: Any) -> Any:
    path_params = {"kind": kind, "id": id_}
    return call(
        "PUT",
        f"/ops/config/{kind}/{id_}",
        resource="/ops/config/{kind}/{id}",
        body=record,
        path_params=path_params,
        **kw,
    )


def get_record(kind: str, id_: str) -> Any:
    path_params = {"kind": kind, "id": id_}
    return call("GET", f"/ops/config/{kind}/{id_}", resource="/ops/config/{kind}/{id}", path_params=path_params)


def audit(**query: str) -> Any:
    return call("GET", "/ops/config/audit", resource="/ops/config/audit", query=query or None)


def config_items(deps: Any) -> list[dict[str, Any]]:
    return sorted(table_items(deps.settings.config_table), key=lambda i: (i["pk"], i["sk"]))


def test_a_new_merchant_is_put_record_by_record_and_read_back_with_its_audit_trail(seeded):
    # Given the demo configuration
    # When a person adds a merchant and then its branch
    first = put_record("merchants", "m-new", NEW_MERCHANT, username="ana@example.com")
    second = put_record("branches", "7001", NEW_BRANCH, username="ana@example.com")

    # Then both are added and read back as they were put
    assert first.status == 200 and first.body["counts"] == {"add": 1, "change": 0, "unchanged": 0}, first.body
    assert second.status == 200 and second.body["changes"][0]["action"] == "add", second.body
    got = get_record("branches", "7001")
    assert (
        got.status == 200 and got.body["courier"] == "dispatchninja" and got.body["blink_address"]["city"] == "Lisboa"
    )
    listed = call("GET", "/ops/config/branches", resource="/ops/config/{kind}", path_params={"kind": "branches"})
    assert {r["branch_id"] for r in listed.body["records"]} == {"12345", "63", "7001"}

    # And the audit trail says who added what, newest first
    entries = audit().body["entries"]
    assert [(e["kind"], e["id"], e["action"], e["who"]) for e in entries] == [
        ("branches", "7001", "add", "ana@example.com"),
        ("merchants", "m-new", "add", "ana@example.com"),
    ]
    assert entries[0]["before"] is None and entries[0]["after"]["delivery_mode"] == "home"
    assert entries[0]["when"].endswith("Z")  # UTC


def test_a_change_is_audited_with_before_and_after_and_a_machine_is_named_by_its_api_key(seeded):
    # Given branch 63 as seeded (no delivery mode given: locker)
    before = get_record("branches", "63").body
    # When a machine client changes its delivery mode
    changed = {**before, "delivery_mode": "home", "courier": "dispatchninja"}
    answer = put_record("branches", "63", changed)
    # Then the change is reported field by field and audited as the API key's
    assert answer.status == 200, answer.body
    assert answer.body["changes"][0]["changed"] == ["courier", "delivery_mode"]
    entry = audit().body["entries"][0]
    assert entry["who"] == "api-key:key-123" and entry["action"] == "change"
    assert (entry["before"]["delivery_mode"], entry["after"]["delivery_mode"]) == ("locker", "home")
    # And putting the same record again changes nothing and adds no entry
    again = put_record("branches", "63", changed)
    assert again.body["counts"] == {"add": 0, "change": 0, "unchanged": 1} and "apply_id" not in again.body
    assert len(audit().body["entries"]) == 1


def test_a_document_is_applied_in_one_transaction_and_a_dry_run_only_tells_the_diff(seeded, aws_calls):
    document = {
        "version": 1,
        "merchants": [NEW_MERCHANT],
        "branches": [NEW_BRANCH],
        "partners": [{"partner_id": "new-app", "name": "New App", "tokens_secret": "orderbridge/partners/new-app"}],
        "routes": [{"partner_id": "new-app", "partner_branch_id": "B1", "merchant_id": "m-new", "branch_id": "7001"}],
        "mappings": [
            {"partner_id": "new-app", "merchant_id": "m-new", "kind": "item", "partner_item_id": 1, "product_id": "p1"}
        ],
    }
    # When it is applied as a dry run
    dry = put_document(document, query={"dry_run": "true"})
    # Then the diff is told and nothing is written
    assert dry.status == 200 and dry.body["dry_run"] is True
    assert dry.body["counts"] == {"add": 5, "change": 0, "unchanged": 0}
    assert [c["id"] for c in dry.body["changes"]][-1] == "new-app:m-new:item:1"
    assert not [c for c in aws_calls if c[1] == "TransactWriteItems"] and audit().body["entries"] == []

    # When it is applied
    applied = put_document(document)
    # Then it is written in one transaction (five records, five audit entries)
    assert applied.status == 200 and applied.body["transactions"] == 1, applied.body
    assert [c for c in aws_calls if c[1] == "TransactWriteItems"] == [("dynamodb", "TransactWriteItems")]
    assert len(audit().body["entries"]) == 5
    # And GET /ops/config gives it back among the rest, in the file's shape
    whole = call("GET", "/ops/config", resource="/ops/config").body
    assert whole["version"] == 1 and NEW_MERCHANT in whole["merchants"]
    assert {
        "partner_id": "new-app",
        "merchant_id": "m-new",
        "kind": "item",
        "partner_item_id": "1",
        "product_id": "p1",
    } in whole["mappings"]


def test_a_bad_document_is_422_with_every_field_and_nothing_is_written(seeded):
    items_before = config_items(seeded)
    document = {
        "version": 1,
        "merchants": [NEW_MERCHANT],
        "branches": [{**NEW_BRANCH, "courier": "pigeon"}, {**NEW_BRANCH, "branch_id": "7002", "colour": "red"}],
        "partners": [{"partner_id": "new-app", "name": "New App", "token": "s3cr3t"}],
    }
    answer = put_document(document)
    assert answer.status == 422, answer.body
    reasons = {e["field"]: e["reason"] for e in answer.body["errors"]}
    assert set(reasons) == {"branches.0.courier", "branches.1.colour", "partners.0.token"}
    assert "never written in the configuration" in reasons["partners.0.token"]
    assert "a typo" in reasons["branches.1.colour"]
    assert config_items(seeded) == items_before


def test_a_token_in_place_of_a_secret_reference_is_refused_with_its_reason(seeded):
    answer = put_record("partners", "new-app", {"partner_id": "new-app", "name": "New App", "tokens_secret": "tok-abc"})
    assert answer.status == 422
    [error] = answer.body["errors"]
    assert error["field"] == "tokens_secret" and "never a token" in error["reason"]


def test_references_to_records_that_are_nowhere_are_422_and_nothing_is_written(seeded):
    items_before = config_items(seeded)
    document = {
        "version": 1,
        "merchants": [NEW_MERCHANT],
        "branches": [{**NEW_BRANCH, "merchant_id": "m-nowhere"}],
        # branch 12345 is m-demo's, not m-new's
        "routes": [
            {"partner_id": "demo-partner", "partner_branch_id": "X", "merchant_id": "m-new", "branch_id": "12345"}
        ],
    }
    answer = put_document(document)
    assert answer.status == 422, answer.body
    assert {(e["field"]) for e in answer.body["errors"]} == {"branches.0.merchant_id", "routes.0.branch_id"}
    assert config_items(seeded) == items_before


def test_a_record_twice_and_a_wrong_version_are_refused(seeded):
    twice = put_document({"version": 1, "merchants": [NEW_MERCHANT, NEW_MERCHANT]})
    assert twice.status == 422 and twice.body["errors"][0]["field"] == "merchants.1"
    version = put_document({"version": 2, "merchants": []})
    assert version.status == 422 and version.body["errors"][0]["field"] == "version"


def test_a_record_put_under_another_id_or_kind_is_refused(seeded):
    wrong_id = put_record("merchants", "m-other", NEW_MERCHANT)
    assert wrong_id.status == 400 and wrong_id.body["errors"][0]["field"] == "merchant_id"
    wrong_kind = put_record("lockers", "x", {})
    assert wrong_kind.status == 404 and wrong_kind.body["errors"][0]["field"] == "kind"
    bad_id = get_record("routes", "no-colon")
    assert bad_id.status == 400 and "<partner_id>:<partner_branch_id>" in bad_id.body["errors"][0]["reason"]
    assert get_record("merchants", "m-none").status == 404
    mapping = get_record("mappings", "demo-partner:m-demo:option:1")
    assert mapping.status == 200 and mapping.body["product_id"] == "prod-cheese"
    assert get_record("routes", "demo-partner:14589").body["branch_id"] == "12345"


def test_a_record_changed_meanwhile_is_a_conflict_and_nothing_is_written(seeded, monkeypatch):
    # Given a person read the configuration, then someone else changed branch 63 before the write
    from orderbridge.store import config as store

    real = store.ConfigChanges.snapshot
    meanwhile = {"branch_id": "63", "merchant_id": "m-demo", "name": "Renamed meanwhile"}

    def snapshot_then_someone_writes(self: Any) -> Any:
        seen = real(self)
        monkeypatch.setattr(store.ConfigChanges, "snapshot", real)
        assert put_record("branches", "63", meanwhile, username="bob").status == 200
        return seen

    monkeypatch.setattr(store.ConfigChanges, "snapshot", snapshot_then_someone_writes)
    branch = {"branch_id": "63", "merchant_id": "m-demo", "name": "X"}
    answer = put_document({"version": 1, "merchants": [NEW_MERCHANT], "branches": [branch]}, username="ana")
    # Then it is a 409 naming the record, and not even the new merchant is written
    assert answer.status == 409, answer.body
    assert answer.body["errors"] == [{"field": "branches.0", "reason": "branch '63' was changed meanwhile"}]
    assert get_record("merchants", "m-new").status == 404
    assert [(e["who"], e["id"]) for e in audit().body["entries"]] == [("bob", "63")]
    assert get_record("branches", "63").body["name"] == "Renamed meanwhile"


def test_above_fifty_changes_the_fallback_applies_in_several_transactions_with_a_journal(seeded, aws_calls):
    mappings = [
        {
            "partner_id": "demo-partner",
            "merchant_id": "m-demo",
            "kind": "item",
            "partner_item_id": f"bulk-{n}",
            "product_id": "p",
        }
        for n in range(120)
    ]
    answer = put_document({"version": 1, "mappings": mappings})
    assert answer.status == 200 and answer.body["transactions"] == 3, answer.body
    journal = [i for i in table_items(seeded.settings.config_table) if i["pk"] == "CONFIG_APPLY"]
    assert [(j["status"], j["written"], j["changes"]) for j in journal] == [("complete", 120, 120)]
    stored = [i for i in table_items(seeded.settings.config_table) if i["pk"] == "ITEMMAP#demo-partner#m-demo"]
    assert len(stored) == 3 + 120 and len(audit(limit="200").body["entries"]) == 120


def test_a_fallback_apply_that_fails_part_way_says_so_and_the_journal_keeps_it(seeded, monkeypatch):
    from orderbridge.errors import ServiceUnavailable
    from orderbridge.store import config as store

    real = store.ConfigChanges._transact
    calls = {"n": 0}

    def second_fails(self: Any, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ServiceUnavailable("could not apply the configuration (ThrottlingException); please retry")
        real(self, *args, **kwargs)

    monkeypatch.setattr(store.ConfigChanges, "_transact", second_fails)
    mappings = [
        {
            "partner_id": "demo-partner",
            "merchant_id": "m-demo",
            "kind": "item",
            "partner_item_id": f"bulk-{n}",
            "product_id": "p",
        }
        for n in range(120)
    ]
    answer = put_document({"version": 1, "mappings": mappings})
    assert answer.status == 503 and answer.body["error"] == "config_partly_applied", answer.body
    assert answer.body["message"].startswith("50 of 120 changes were applied")
    journal = [i for i in table_items(seeded.settings.config_table) if i["pk"] == "CONFIG_APPLY"]
    assert [(j["status"], j["written"]) for j in journal] == [("partial", 50)]

    # And applying the same document again writes only the rest
    monkeypatch.setattr(store.ConfigChanges, "_transact", real)
    again = put_document({"version": 1, "mappings": mappings})
    assert again.status == 200 and again.body["counts"] == {"add": 70, "change": 0, "unchanged": 50}


@pytest.mark.parametrize(
    ("query", "field"),
    [({"dry_run": "maybe"}, "dry_run")],
)
def test_bad_query_values_are_400(seeded, query, field):
    answer = put_document({"version": 1}, query=query)
    assert answer.status == 400 and answer.body["errors"][0]["field"] == field


def test_the_audit_trail_pages_with_a_cursor(seeded):
    for n in range(3):
        put_record("merchants", f"m-{n}", {"merchant_id": f"m-{n}", "name": f"M {n}"})
    first = audit(limit="2").body
    assert [e["id"] for e in first["entries"]] == ["m-2", "m-1"] and first["next_cursor"]
    rest = audit(limit="2", cursor=first["next_cursor"]).body
    assert [e["id"] for e in rest["entries"]] == ["m-0"]
    assert audit(cursor="bm9wZQ").status == 400


def test_a_partner_with_a_tokens_secret_of_its_own_is_authenticated_by_that_secret(hub, seeded):
    from orderbridge import aws as aws_clients

    from tests.support import samples

    # Given a partner whose tokens are in a secret of its own, routed to branch 12345 and mapped
    secret = {"tokens": ["dev-new-app-token"]}
    aws_clients.client("secretsmanager").create_secret(
        Name="orderbridge/partners/new-app", SecretString=json.dumps(secret)
    )
    mapping = {"partner_id": "new-app", "merchant_id": "m-demo", "product_id": "p"}
    document = {
        "version": 1,
        "partners": [{"partner_id": "new-app", "name": "New App", "tokens_secret": "orderbridge/partners/new-app"}],
        "routes": [
            {"partner_id": "new-app", "partner_branch_id": "14589", "merchant_id": "m-demo", "branch_id": "12345"}
        ],
        "mappings": [
            {**mapping, "kind": "item", "partner_item_id": "1"},
            {**mapping, "kind": "item", "partner_item_id": "2"},
            {**mapping, "kind": "option", "partner_item_id": "1"},
        ],
    }
    assert put_document(document).status == 200
    order = samples.text("blend_order_created.jsonc")

    # When it sends the Blend sample with its token, then the order is taken
    taken = hub.partner_order(order, partner="new-app", token="dev-new-app-token")
    assert taken.status == 200 and taken.body["status"] == "success", taken.body
    # And another partner's token is refused
    assert hub.partner_order(order, partner="new-app", token="dev-partner-token").status == 401
