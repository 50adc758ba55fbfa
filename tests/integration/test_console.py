"""The ops console's page and assets, served by the ConsoleFunction at ``/console/``: the right
content types, the page never cached and its assets cached by content digest, the API's base path
on API Gateway's own host, no API key (the page holds no data), nothing fetched from elsewhere."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.apigw import LambdaContext, handler_module, proxy_event
from tests.support.template import template

ASSETS = Path(__file__).resolve().parents[2] / "layers" / "shared" / "orderbridge" / "console"


@dataclass
class Served:
    status: int
    headers: dict[str, str]
    body: str


def _get(path: str, *, host: str = "127.0.0.1:3000", stage: str = "local", **kw: Any) -> Served:
    resource = "/console" if path.rstrip("/") == "/console" else "/console/{proxy+}"
    event = proxy_event("GET", path, resource=resource, **kw)
    event["headers"]["Host"] = host
    event["multiValueHeaders"]["Host"] = [host]
    event["requestContext"].update({"domainName": host.split(":")[0], "stage": stage})
    result = handler_module("ConsoleFunction").lambda_handler(event, LambdaContext(function_name="ConsoleFunction"))
    headers = result.get("headers") or {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()}
    return Served(result["statusCode"], headers, result.get("body") or "")


def _digest(name: str) -> str:
    return hashlib.sha256((ASSETS / name).read_bytes()).hexdigest()[:16]


@pytest.mark.parametrize("path", ["/console", "/console/"])
def test_the_page_is_html_never_cached_and_names_its_assets_by_digest(aws, path):
    page = _get(path)
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert f'src="/console/app.js?v={_digest("app.js")}"' in page.body
    assert f'href="/console/app.css?v={_digest("app.css")}"' in page.body
    assert "{{" not in page.body


def test_on_api_gateways_own_host_the_stage_is_the_base_path(aws):
    page = _get("/console/", host="abc123.execute-api.eu-west-1.amazonaws.com", stage="prod")
    assert f'src="/prod/console/app.js?v={_digest("app.js")}"' in page.body
    assert '<meta name="orderbridge-base" content="/prod">' in page.body
    custom = _get("/console/", host="ops.example.com", stage="prod")  # a custom domain: no stage in its URLs
    assert '<meta name="orderbridge-base" content="">' in custom.body


@pytest.mark.parametrize(("name", "content_type"), [("app.js", "text/javascript"), ("app.css", "text/css")])
def test_an_asset_by_its_digest_is_cached_for_good_else_revalidated(aws, name, content_type):
    versioned = _get(f"/console/{name}", query={"v": _digest(name)})
    assert versioned.status == 200 and versioned.headers["Content-Type"] == f"{content_type}; charset=utf-8"
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.body == (ASSETS / name).read_text()
    stale = _get(f"/console/{name}", query={"v": "0000000000000000"})
    assert stale.headers["Cache-Control"] == "no-cache" and stale.headers["ETag"] == f'"{_digest(name)}"'
    again = _get(f"/console/{name}", headers={"If-None-Match": f'"{_digest(name)}"'})
    assert again.status == 304 and again.body == ""


@pytest.mark.parametrize("name", ["index.html", "secrets.txt", "..%2Fentry.py"])
def test_anything_else_under_console_is_404(aws, name):
    answer = _get(f"/console/{name}")
    assert answer.status == 404 and answer.headers["Content-Type"] == "application/json"


def test_the_console_routes_are_public_in_api_gateway():
    function = template()["Resources"]["ConsoleFunction"]["Properties"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in function["Events"].values()}
    assert routes == {("get", "/console"), ("get", "/console/{proxy+}")}
    assert all("Auth" not in e["Properties"] for e in function["Events"].values())
    assert function["CodeUri"] == "functions/ops_console"
    # the assets ship in the shared layer, beside the code that serves them
    layer = template()["Resources"]["SharedLayer"]["Properties"]["ContentUri"]
    assert ASSETS.is_relative_to(Path(__file__).resolve().parents[2] / layer)
    assert {p.name for p in ASSETS.iterdir()} >= {"index.html", "app.js", "app.css"}


def test_the_assets_fetch_nothing_from_elsewhere():
    # no CDN, no web font, no remote script: the only absolute URL is Cognito's API endpoint
    for name in ("index.html", "app.js", "app.css"):
        text = (ASSETS / name).read_text()
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text))
        assert urls <= {"https://cognito-idp.${auth.region}.amazonaws.com/"}, (name, urls)
        assert "@import" not in text and "<iframe" not in text
