"""The configuration file (docs/configuration.md): the format's models, errors at their lines, the
diff, the record ids, the schema kept current, the demo configuration, and the ``orderbridge``
command's own behaviour (its HTTP calls answered by a fake transport)."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from orderbridge.domain.config_changes import (
    KINDS,
    Change,
    check_references,
    diff,
    document_of,
    id_fields,
    key_of,
    record_id,
    records_of,
)
from orderbridge.models.config import Branch, ConfigDocument, ItemMapping, Merchant, Partner, PartnerBranch
from orderbridge_cli import config_file
from orderbridge_cli.api import ApiProblem, ConfigApi, Target
from orderbridge_cli.main import change_lines, main, schema_text
from orderbridge_local import seed

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
version: 1
merchants:
  - merchant_id: m-x
    name: X Grill
branches:
  - branch_id: 0123
    merchant_id: m-x
    name: Centre
    latitude: 38.7100
    longitude: -9.137
    blink_id: 50221
"""


def errors_of(text: str) -> list[str]:
    return [error.show("f.yaml") for error in config_file.parse(text, "f.yaml").errors]


# -- reading a file -------------------------------------------------------------------------------


def test_a_valid_file_reads_exact_numbers_and_ids_as_text():
    loaded = config_file.parse(GOOD)
    assert loaded.errors == [] and loaded.document is not None
    branch = loaded.document.branches[0]
    # a leading-zero id stays as written (YAML 1.1 would read 0123 as the octal 83), numbers are ids' digits
    assert (branch.branch_id, branch.blink_id) == ("0123", "50221")
    # coordinates are exact decimals, never floats
    assert (branch.latitude, branch.longitude) == (Decimal("38.7100"), Decimal("-9.137"))


def test_each_error_is_reported_at_its_line_with_the_field_and_the_reason():
    text = GOOD + "    courier: pigeon\n    colour: red\n    blink_address:\n      house_num: '1'\n      street: S\n"
    assert errors_of(text) == [
        "f.yaml:12: branches.0.courier: Input should be 'dispatchninja' or 'blink_logistics'",
        "f.yaml:13: branches.0.colour: not a field of this record (a typo?)",
        "f.yaml:14: branches.0.blink_address.area: required",
        "f.yaml:14: branches.0.blink_address.city: required",
    ]


def test_a_secret_written_in_the_file_is_refused_as_such():
    text = "version: 1\npartners:\n  - partner_id: p\n    name: P\n    api_key: abc123\n"
    [error] = errors_of(text)
    assert error.startswith("f.yaml:5: partners.0.api_key: a secret is never written in the configuration")
    # and a token where the secret's name belongs
    text = "version: 1\npartners:\n  - partner_id: p\n    name: P\n    tokens_secret: tok-abc123\n"
    [error] = errors_of(text)
    assert error.startswith("f.yaml:5: partners.0.tokens_secret: the NAME of a Secrets Manager secret")


def test_a_key_given_twice_and_a_record_given_twice_are_errors_at_the_second():
    assert errors_of("version: 1\nmerchants: []\nmerchants: []\n") == [
        "f.yaml:3: merchants: the key 'merchants' is given twice (first at line 2)"
    ]
    twice = "version: 1\nmerchants:\n  - {merchant_id: m, name: A}\n  - {merchant_id: m, name: B}\n"
    assert errors_of(twice) == ["f.yaml:4: merchants.1: the same merchant (m) as merchants.0: each record once"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "f.yaml:1: the file is empty: it starts with version: 1"),
        ("- a\n", "f.yaml:1: a configuration is a mapping that starts with version: 1"),
        ("version: 1\nmerchants: [\n", "f.yaml:3: not YAML: expected the node content, but found '<stream end>'"),
        ("version: 2\n", "f.yaml:1: version: Input should be 1"),
        ("merchants: []\n", "f.yaml:1: version: required"),
    ],
)
def test_a_file_that_is_not_a_configuration_says_why(text, expected):
    assert errors_of(text) == [expected]


def test_an_exported_document_reads_back_as_the_same_records():
    document = seed.demo_document()
    text = config_file.dump(document, "# exported\n")
    again = config_file.parse(text)
    assert again.errors == [] and again.document == document
    assert "branch_id: '12345'" in text and "latitude: 27.4654584" in text  # ids quoted, numbers exact


# -- ids, diff, references ------------------------------------------------------------------------

MAPPING = ItemMapping(
    partner_id="p", merchant_id="m", kind="option", partner_item_id="x:1", product_id="prod", blink_id="9"
)


@pytest.mark.parametrize(
    "record",
    [
        Merchant(merchant_id="m", name="M"),
        Branch(branch_id="b:1", merchant_id="m", name="B"),
        Partner(partner_id="p", name="P"),
        PartnerBranch(partner_id="p", partner_branch_id="pb:1", merchant_id="m", branch_id="b"),
        MAPPING,
    ],
)
def test_a_records_id_names_its_key_fields(record):
    kind, id_ = key_of(record)
    assert id_ == record_id(record)
    assert all(getattr(record, field) == value for field, value in (id_fields(kind, id_) or {}).items())


def test_ids_that_name_no_record_are_none():
    assert id_fields("routes", "no-colon") is None
    assert id_fields("mappings", "p:m:dish:1") is None and id_fields("mappings", "p:m:item") is None


def test_the_diff_says_add_change_or_unchanged_with_the_fields_that_differ():
    before = Branch(branch_id="1", merchant_id="m", name="B")
    current = {key_of(before): before}
    wanted = [
        ("branches.0", before.model_copy(update={"name": "B2", "latitude": Decimal("1.5")})),
        ("branches.1", Branch(branch_id="2", merchant_id="m", name="C")),
        ("merchants.0", Merchant(merchant_id="m", name="M")),
    ]
    changes = diff(current | {("merchants", "m"): Merchant(merchant_id="m", name="M")}, wanted)
    assert [(c.id, c.action) for c in changes] == [("1", "change"), ("2", "add"), ("m", "unchanged")]
    assert changes[0].fields_changed() == {"name": ("B", "B2"), "latitude": (None, "1.5")}


def test_references_name_the_field_whose_record_is_nowhere():
    merchant = Merchant(merchant_id="m", name="M")
    other_branch = Branch(branch_id="b", merchant_id="other", name="B")
    wanted = [
        ("branches.0", Branch(branch_id="c", merchant_id="none", name="C")),
        ("routes.0", PartnerBranch(partner_id="p", partner_branch_id="1", merchant_id="m", branch_id="b")),
        ("mappings.0", MAPPING),
    ]
    current = {key_of(merchant): merchant, key_of(other_branch): other_branch}
    errors = {(e.field, e.reason) for e in check_references(current, wanted)}
    assert errors == {
        ("branches.0.merchant_id", "no merchant 'none' is configured or in this document"),
        ("routes.0.partner_id", "no partner 'p' is configured or in this document"),
        ("routes.0.branch_id", "branch 'b' is merchant 'other''s, not 'm''s"),
        ("mappings.0.partner_id", "no partner 'p' is configured or in this document"),
    }


def test_a_document_of_records_is_sorted_by_kind_then_id():
    records = [
        Merchant(merchant_id="b", name="B"),
        Partner(partner_id="p", name="P"),
        Merchant(merchant_id="a", name="A"),
    ]
    document = document_of(records)
    assert [m.merchant_id for m in document.merchants] == ["a", "b"] and len(document.partners) == 1
    assert [where for where, _ in records_of(document)] == ["merchants.0", "merchants.1", "partners.0"]


# -- the schema and the demo configuration ---------------------------------------------------------


def test_the_committed_json_schema_is_the_one_the_models_generate():
    committed = (REPO / "docs" / "config.schema.json").read_text()
    assert committed == schema_text(), "run: .venv/bin/orderbridge config schema -o docs/config.schema.json"
    assert set(json.loads(committed)["properties"]) == {"version", *KINDS}


def test_the_demo_configuration_holds_the_ids_the_tests_and_samples_name():
    document = seed.demo_document()
    assert [m.merchant_id for m in document.merchants] == [seed.DEMO_MERCHANT]
    assert [p.partner_id for p in document.partners] == [seed.DEMO_PARTNER]
    branches = {b.branch_id: b for b in document.branches}
    assert {k: b.blink_id for k, b in branches.items()} == {"12345": "50220", "63": "60001", "64": "60002"}
    assert branches["12345"].bloq_ids == list(seed.DEMO_BLOQ_IDS)
    assert branches["64"].pickup_bloq_id == seed.DEMO_PICKUP_BLOQ_ID
    assert [(r.partner_branch_id, r.branch_id) for r in document.routes] == [("14589", "12345")]
    assert {(m.kind, m.partner_item_id, m.blink_id) for m in document.mappings} == {
        ("item", "1", "257327"),
        ("item", "2", "257328"),
        ("option", "1", "596996"),
    }


# -- the command -----------------------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_validate_says_valid_or_lists_every_error_and_exits_1(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert run("config", "validate", str(good)) == (
        0,
        f"{good}: valid (version 1: 1 merchant, 1 branch, 0 partners, 0 routes, 0 mappings)\n",
        "",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD + "    courier: pigeon\n")
    code, _, err = run("config", "validate", str(bad))
    assert code == 1 and f"{bad}:12: branches.0.courier:" in err and "1 error(s); nothing was sent" in err


def test_the_stack_is_found_from_flags_then_environment_then_the_local_stack_file(tmp_path, monkeypatch):
    monkeypatch.delenv("ORDERBRIDGE_API", raising=False)
    monkeypatch.delenv("ORDERBRIDGE_API_KEY", raising=False)
    stack = tmp_path / "stack.json"
    stack.write_text(json.dumps({"api": "http://127.0.0.1:3000/", "ops_api_key": "dev-key"}))
    assert Target.find(None, None, stack) == Target("http://127.0.0.1:3000", "dev-key", f"the local stack ({stack})")
    monkeypatch.setenv("ORDERBRIDGE_API", "https://api.example.test/prod")
    monkeypatch.setenv("ORDERBRIDGE_API_KEY", "k")
    assert Target.find(None, None, stack).url == "https://api.example.test/prod"
    assert Target.find("https://other.test", None, stack).url == "https://other.test"
    monkeypatch.delenv("ORDERBRIDGE_API")
    with pytest.raises(ApiProblem, match="which stack"):
        Target.find(None, None, tmp_path / "absent.json")


def test_the_stacks_field_errors_are_shown_at_the_files_lines(tmp_path):
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        body = {"error": "invalid_payload", "message": "the configuration names records that are nowhere"}
        body["errors"] = [{"field": "branches.0.merchant_id", "reason": "no merchant 'm-x' is configured"}]
        return httpx.Response(422, json=body)

    file = tmp_path / "f.yaml"
    file.write_text(GOOD.replace("merchants:\n  - merchant_id: m-x\n    name: X Grill\n", ""))
    loaded = config_file.read(file)
    api = ConfigApi(Target("http://stack.test", "k", "test"), transport=httpx.MockTransport(answer))
    with pytest.raises(ApiProblem) as problem:
        api.apply(loaded.as_json(), dry_run=True)
    assert problem.value.status == 422 and sent[0].url.params["dry_run"] == "true"
    assert sent[0].headers["X-Api-Key"] == "k" and json.loads(sent[0].content)["branches"][0]["latitude"] == "38.7100"
    [error] = loaded.refused([_field(e) for e in problem.value.field_errors])
    assert error.show("f.yaml") == "f.yaml:4: branches.0.merchant_id: no merchant 'm-x' is configured"


def _field(error: dict[str, str]) -> Any:
    from orderbridge.errors import FieldError

    return FieldError(error["field"], error["reason"])


def test_the_diff_shows_each_added_and_changed_record_with_its_line_and_fields():
    loaded = config_file.parse(GOOD)
    report = {
        "changes": [
            {"kind": "merchants", "id": "m-x", "where": "merchants.0", "action": "unchanged", "after": {}},
            {
                "kind": "branches",
                "id": "0123",
                "where": "branches.0",
                "action": "change",
                "changed": ["latitude", "name"],
                "before": {"name": "Old", "latitude": "1"},
                "after": {"name": "Centre", "latitude": "38.7100"},
            },
        ]
    }
    assert change_lines(report, loaded) == [
        "~ branch 0123  (line 6)",
        '    latitude: "1" → "38.7100"',
        '    name: "Old" → "Centre"',
    ]


def test_a_change_of_nothing_is_unchanged():
    merchant = Merchant(merchant_id="m", name="M")
    assert Change("merchants", "m", "", merchant, merchant.model_copy()).action == "unchanged"
    assert ConfigDocument(version=1).merchants == []
