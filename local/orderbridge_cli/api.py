"""The config API as the ``orderbridge`` command calls it (docs/configuration.md): where it is (flags,
environment, the local stack's ``.local/stack.json``) and what it answers."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEFAULT_STACK_FILE = Path(".local/stack.json")
TIMEOUT_SECONDS = 60.0  # a large document's fallback apply writes several transactions


class ApiProblem(Exception):
    """The API could not be reached, or answered with an error (``status``, ``body``)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body

    @property
    def field_errors(self) -> list[dict[str, str]]:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return [e for e in errors or [] if isinstance(e, dict)]


@dataclass(frozen=True)
class Target:
    """Which stack: the API's base URL (``.../ops`` is under it) and the ops API key."""

    url: str
    api_key: str
    source: str  # where they came from, for messages

    @classmethod
    def find(cls, url: str | None, api_key: str | None, stack_file: Path | None) -> Target:
        """``--api``/``--api-key``, else ``ORDERBRIDGE_API``/``ORDERBRIDGE_API_KEY``, else the local
        stack's ``stack.json`` (``--stack``, default ``.local/stack.json``)."""
        url = url or os.environ.get("ORDERBRIDGE_API")
        api_key = api_key or os.environ.get("ORDERBRIDGE_API_KEY")
        source = "--api/--api-key or ORDERBRIDGE_API/ORDERBRIDGE_API_KEY"
        path = stack_file or DEFAULT_STACK_FILE
        if (not url or not api_key) and path.is_file():
            try:
                info = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise ApiProblem(f"cannot read {path}: {error}") from None
            url, api_key = url or info.get("api"), api_key or info.get("ops_api_key")
            source = f"the local stack ({path})"
        if not url or not api_key:
            raise ApiProblem(
                "which stack? give --api URL --api-key KEY (or ORDERBRIDGE_API, ORDERBRIDGE_API_KEY), "
                f"or start the local stack (it writes {DEFAULT_STACK_FILE})"
            )
        return cls(url.rstrip("/"), api_key, source)


class ConfigApi:
    def __init__(self, target: Target, *, transport: httpx.BaseTransport | None = None) -> None:
        self.target = target
        self.http = httpx.Client(
            base_url=target.url,
            headers={"X-Api-Key": target.api_key, "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
            trust_env=False,
            transport=transport,
        )

    def document(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("GET", "/ops/config")
        return answer

    def apply(self, body: str, *, dry_run: bool) -> dict[str, Any]:
        params = {"dry_run": "true"} if dry_run else None
        answer: dict[str, Any] = self._call(
            "PUT", "/ops/config", content=body, params=params, headers={"Content-Type": "application/json"}
        )
        return answer

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            answer = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ApiProblem(f"cannot reach {self.target.url} ({type(error).__name__}: {error})") from None
        try:
            body = answer.json()
        except ValueError:
            body = answer.text
        if answer.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            raise ApiProblem(
                f"{method} {path}: {answer.status_code} {message or str(body)[:300]}",
                status=answer.status_code,
                body=body,
            )
        return body
