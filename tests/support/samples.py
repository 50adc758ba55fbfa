"""The vendor docs' sample payloads (copied verbatim into tests/samples/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def text(name: str) -> str:
    return (SAMPLES / name).read_text()


def load(name: str) -> dict[str, Any]:
    return json.loads(text(name))
