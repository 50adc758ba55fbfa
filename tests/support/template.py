"""The real template.yaml, read once, as tests and the local stack need it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


@cache
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE_PATH))


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template()["Resources"].items() if res["Type"] == kind}


def table_definitions() -> dict[str, dict[str, Any]]:
    """CreateTable arguments for every DynamoDB table in the template, by logical id."""
    out = {}
    for name, res in resources("AWS::DynamoDB::Table").items():
        props = res["Properties"]
        spec: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            spec["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            spec["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        out[name] = spec
    return out


def function_routes() -> dict[str, list[tuple[str, str]]]:
    """Function logical id → its API events as (METHOD, path)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, res in resources("AWS::Serverless::Function").items():
        for event in (res["Properties"].get("Events") or {}).values():
            if event["Type"] == "Api":
                out.setdefault(name, []).append((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return out


def function_code_dir(logical_id: str) -> Path:
    return ROOT / template()["Resources"][logical_id]["Properties"]["CodeUri"]
