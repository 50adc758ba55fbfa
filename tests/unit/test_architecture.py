"""The house's rooms and what each may import (docs/architecture.md, "Who may import whom").

Given every module of the shared package, when its imports are read (statically, without running
it), then each room imports only the rooms and libraries its row allows: the domain stays pure,
the AWS edge stays in ``store/``, vendor HTTP stays in ``vendors/``, and only the wiring
(``deps``, ``entry``) sees everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "orderbridge"

# Our modules that are foundations every room may use.
FOUNDATION = {"errors", "config", "observability"}
USE_CASES = {"webhooks", "actions", "workflow", "ops", "syncs", "ops_records", "ops_catalog", "ops_config"}
# room -> the rooms of ours it may import (besides itself and FOUNDATION)
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "config": set(),
    "observability": set(),
    "models": set(),
    "domain": {"models"},
    "store": {"models", "domain"},
    "vendors": {"models"},
    "web": {"models"},
    "webhooks": {"models", "domain", "store", "web", "deps"},
    "actions": {"models", "domain", "store", "vendors", "deps"},
    "workflow": {"models", "domain", "store", "vendors", "actions", "deps"},
    "ops": {"models", "domain", "store", "web", "deps"},
    "ops_records": {"models", "domain", "store", "web", "deps"},
    "ops_catalog": {"models", "store", "web", "deps"},
    "ops_config": {"models", "domain", "store", "web", "deps"},
    "syncs": {"models", "domain", "store", "vendors", "web", "webhooks", "actions", "workflow", "deps"},
    "aws": set(),
    "deps": {"aws", "models", "domain", "store", "vendors", "web"},
    "entry": {"aws", "models", "domain", "store", "vendors", "web", "deps", "ops_api"} | USE_CASES,
    "ops_api": {"aws", "models", "domain", "store", "vendors", "web", "deps"} | USE_CASES,
}
# Libraries that speak to AWS or to vendors over HTTP, and the rooms that may use them.
EDGE_LIBRARIES = {
    "boto3": {"store", "aws", "deps"},
    "botocore": {"store", "aws", "deps", "entry", "web"},
    "httpx": {"vendors", "deps"},
}


def _room(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "orderbridge":
                names.update(f"orderbridge.{alias.name}" for alias in node.names)
            else:
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_room_of_the_package_has_a_row():
    rooms = {_room(p) for p in MODULES}
    assert rooms <= set(MAY_IMPORT), f"rooms without a row in MAY_IMPORT: {sorted(rooms - set(MAY_IMPORT))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_what_its_room_may(path: Path):
    room = _room(path)
    allowed = MAY_IMPORT[room] | FOUNDATION | {room}
    wrong = []
    for name in sorted(_imports(path)):
        top, _, rest = name.partition(".")
        if top == "orderbridge":
            target = rest.split(".")[0]
            if target and target not in allowed:
                wrong.append(f"{name} (room {target!r})")
        elif top in EDGE_LIBRARIES and room not in EDGE_LIBRARIES[top]:
            wrong.append(f"{name} (only {sorted(EDGE_LIBRARIES[top])} speak {top})")
    assert not wrong, f"{path.relative_to(PACKAGE)} in room {room!r} imports: {wrong}"
