"""Reading the template: functions, routes and the emulator's part come from template.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from orderbridge_local import openapi
from orderbridge_local import template as tpl
from orderbridge_local.stack import output_path

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def local() -> tpl.LocalTemplate:
    return tpl.load(ROOT / "template.yaml", overrides={"Stage": "local", "BlinkBaseUrl": "http://127.0.0.1:1"})


def test_every_function_runs_from_its_code_uri_with_the_shared_layer(local):
    sam = tpl.yaml_parse((ROOT / "template.yaml").read_text())
    declared = {n for n, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(local.functions) == declared
    for name, spec in local.functions.items():
        assert spec.code_dir == (ROOT / sam["Resources"][name]["Properties"]["CodeUri"]).resolve()
        assert (spec.code_dir / "app.py").is_file()
        assert spec.handler == sam["Resources"][name]["Properties"]["Handler"]
        own = sam["Resources"][name]["Properties"]
        assert spec.timeout == own.get("Timeout", sam["Globals"]["Function"]["Timeout"])  # Globals applied
        assert spec.layer_dirs == ((ROOT / "layers" / "shared").resolve(),)


def test_routes_come_from_the_api_definition_with_their_api_key_requirement(local):
    # Given every Api event of the template, read on its own (the OpenAPI generator's reading)
    declared = {(method.upper(), path) for method, path in openapi.template_routes()}
    console = {("GET", "/console"), ("GET", "/console/{proxy+}")}
    routes = {(r.method, r.resource): r for r in local.routes}
    # Then the local stack serves each, and only the ops API (not the webhooks, not the console's
    # public assets) asks for the API key (or the authorizer's key for a signed-in person)
    assert set(routes) == declared | console
    assert {k for k, r in routes.items() if r.api_key_required} == {k for k in declared if k[1].startswith("/ops/")}
    assert ("POST", "/webhooks/blink/orders") in routes and ("GET", "/ops/orders") in routes


def test_the_emulator_gets_everything_but_api_gateway(local):
    template, left_out = local.for_emulator()
    types = {r["Type"] for r in template["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::ApiGateway")}
    principals = {
        r["Properties"].get("Principal")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
    }
    assert "apigateway.amazonaws.com" not in principals  # those only let API Gateway invoke
    assert {"AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::IAM::Role"} <= types
    assert "Api" in left_out
    assert "ApiUrl" not in template["Outputs"] and "OrdersTableName" in template["Outputs"]
    for resource in template["Resources"].values():  # nothing refers to what was left out
        assert not tpl.references(resource) & set(left_out)


def test_parameters_are_the_defaults_with_the_overrides(local):
    assert local.parameters["Stage"] == "local"
    assert local.parameters["BlinkBaseUrl"] == "http://127.0.0.1:1"
    assert local.parameters["BloqitBaseUrl"] == "https://api.bloq.it"
    assert local.overrides == {"Stage": "local", "BlinkBaseUrl": "http://127.0.0.1:1"}


def test_unknown_overrides_are_ignored():
    local = tpl.load(ROOT / "template.yaml", overrides={"NotAParameter": "x"})
    assert "NotAParameter" not in local.overrides


def test_definition_substitutions_become_a_join_the_emulator_resolves():
    props = tpl.state_machine_properties(
        {
            "DefinitionString": {"Fn::Join": ["\n", ['{"Resource": "${Fn}",', '"Other": "${NotASubstitution}"}']]},
            "DefinitionSubstitutions": {"Fn": {"Fn::GetAtt": ["MyFunction", "Arn"]}},
        }
    )
    assert "DefinitionSubstitutions" not in props
    assert props["DefinitionString"] == {
        "Fn::Join": [
            "",
            [
                '{"Resource": "',
                {"Fn::GetAtt": ["MyFunction", "Arn"]},
                '",\n"Other": "${NotASubstitution}"}',
            ],
        ]
    }


def test_an_inline_definition_becomes_a_string():
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    props = tpl.state_machine_properties({"Definition": definition})
    assert json.loads(props["DefinitionString"])["StartAt"] == "A"


@pytest.mark.parametrize(
    ("uri", "function"),
    [
        ({"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}, "Fn"),
        ({"Fn::Sub": ["arn:...:functions/${F}/invocations", {"F": {"Fn::GetAtt": ["Other", "Arn"]}}]}, "Other"),
        ({"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:s3:path/bucket"}, None),
    ],
)
def test_the_integrated_function(uri, function):
    assert tpl.integrated_function(uri) == function


def test_webhook_urls_come_from_the_outputs():
    value = {"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}/webhooks/bloq"}
    assert output_path(value) == "/webhooks/bloq"
    assert output_path({"Ref": "X"}) is None


def test_a_function_without_local_code_is_refused(tmp_path):
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: missing/\n      Handler: app.handler\n      Runtime: python3.11\n"
    )
    with pytest.raises(tpl.TemplateError, match="not a folder"):
        tpl.load(tmp_path / "template.yaml")
