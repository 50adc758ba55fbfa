"""The ops console's assets (``orderbridge/console/``: one page, one JS module, one stylesheet),
served by the ``ConsoleFunction`` at ``/console/`` on the stack's own API.

The page is public (it holds no data: the data comes from the ops API with the person's token).
``index.html`` is answered for ``/console`` and ``/console/`` with the asset URLs written in: the
API's base path (``/<stage>`` on API Gateway's own ``execute-api`` host, nothing on a custom
domain or the local stack) and each asset's content digest (``?v=``), so the page is never cached
(``no-cache``) while an asset named with its digest is cached for a year (``immutable``); an asset
asked for without its current digest is revalidated (``no-cache``, ``ETag``, ``304``).

Written here rather than taken from a library: Powertools serves JSON, and a static file server
would be a second web framework in the layer for three files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent.parent / "console"
CONTENT_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The page runs only its own script and style; it talks to its own API and to Cognito.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' https://*.amazonaws.com http://127.0.0.1:* http://localhost:*; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Asset:
    name: str
    body: str
    digest: str  # the first 16 hex digits of the content's SHA-256

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.name]

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


@dataclass(frozen=True)
class ConsoleAnswer:
    status_code: int
    content_type: str
    body: str
    headers: dict[str, str]


@cache
def asset(name: str) -> Asset | None:
    """A console asset, read once per container; None for a name that is not one."""
    if name not in CONTENT_TYPES:
        return None
    body = (ASSETS / name).read_text(encoding="utf-8")
    return Asset(name, body, hashlib.sha256(body.encode()).hexdigest()[:16])


def base_path(event: dict[str, Any]) -> str:
    """The path the API is served under, as the browser sees it: ``/<stage>`` on API Gateway's
    ``execute-api`` host (its URLs carry the stage), else nothing (a custom domain, the local
    stack)."""
    context = event.get("requestContext") or {}
    domain = str(context.get("domainName") or "")
    stage = str(context.get("stage") or "")
    if domain.endswith(".amazonaws.com") and stage and stage != "$default":
        return f"/{stage}"
    return ""


def page(event: dict[str, Any]) -> ConsoleAnswer:
    """``index.html`` with its assets' URLs (base path and digests) written in."""
    index = asset("index.html")
    assert index is not None
    base = base_path(event)
    body = index.body.replace("{{base}}", base)
    for name in ("app.js", "app.css"):
        found = asset(name)
        assert found is not None
        body = body.replace("{{" + name + "}}", f"{base}/console/{name}?v={found.digest}")
    headers = {"Cache-Control": REVALIDATE, **SECURITY_HEADERS}
    return ConsoleAnswer(200, CONTENT_TYPES["index.html"], body, headers)


def file(name: str, *, version: str | None, if_none_match: str | None) -> ConsoleAnswer:
    """A script or stylesheet (``/console/{name}``): cached for good when asked for by its digest
    (``?v=``), else revalidated by its ``ETag``; 404 for anything else (``config.json`` has a
    route of its own: ``web.console_config``)."""
    found = asset(name) if name != "index.html" else None
    if found is None:
        return ConsoleAnswer(
            404,
            "application/json",
            '{"error":"not_found","message":"no such console file","errors":[]}',
            {"Cache-Control": REVALIDATE},
        )
    cache_control = IMMUTABLE if version == found.digest else REVALIDATE
    headers = {"Cache-Control": cache_control, "ETag": found.etag, "X-Content-Type-Options": "nosniff"}
    if if_none_match and found.etag in [tag.strip() for tag in if_none_match.split(",")]:
        return ConsoleAnswer(304, found.content_type, "", headers)
    return ConsoleAnswer(200, found.content_type, found.body, headers)
