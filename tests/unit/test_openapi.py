"""docs/openapi.json is the inbound API as the handlers validate it (issue 13 point 8)."""

from __future__ import annotations

import json

from orderbridge_local import openapi


def test_the_committed_document_is_the_generators_output():
    # Given the document generated from the handlers' models now
    # Then docs/openapi.json is it (run `.venv/bin/python -m orderbridge_local.openapi` after a change)
    assert openapi.OUTPUT.read_text() == openapi.render()


def test_every_route_of_the_template_is_in_the_document_and_nothing_else():
    declared = {(method, path) for path, item in json.loads(openapi.render())["paths"].items() for method in item}
    assert declared == openapi.template_routes()


def test_each_body_is_the_model_its_handler_validates_with():
    document = openapi.document()
    body = document["paths"]["/webhooks/blink/orders"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/BlinkOrderWebhook"}
    schema = document["components"]["schemas"]["BlinkOrderWebhook"]
    assert {"blink_order_id", "branch_id"} <= set(schema["properties"])
    patch = document["paths"]["/ops/orders/{order_id}"]["patch"]["requestBody"]["content"]["application/json"]
    assert (
        "checked_at_vendor"
        in document["components"]["schemas"][patch["schema"]["$ref"].rsplit("/", 1)[1]]["properties"]
    )
