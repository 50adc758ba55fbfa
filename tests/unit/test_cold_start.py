"""The shared layer as `sam build` leaves it (layers/shared/Makefile; issue 12): within its 15 MB
budget, without a second botocore, precompiled for Lambda's Python 3.11 so that a cold start loads
bytecode instead of compiling on a read-only /opt. Counted, not timed.

`make test` builds before pytest; without a build (`.aws-sam/build/SharedLayer`) the layer's checks
are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / ".aws-sam" / "build" / "SharedLayer" / "python"
LAYER_BUDGET_BYTES = 15 * 1000 * 1000
# What the Lambda Python runtime ships: the layer must not shadow it with copies of its own.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil", "six")
# CPython 3.11's bytecode magic (importlib.util.MAGIC_NUMBER of 3.11: 3495), and the pyc flags of
# an unchecked hash-based pyc (PEP 552: bit 0 hash-based, bit 1 check_source off).
MAGIC_311 = (3495).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = 0b01

built = pytest.mark.skipif(not LAYER.is_dir(), reason="no `sam build` output (make build)")


def _files() -> list[Path]:
    return [path for path in LAYER.rglob("*") if path.is_file()]


def _header(pyc: Path) -> tuple[bytes, int]:
    head = pyc.read_bytes()[:8]
    return head[:4], int.from_bytes(head[4:8], "little")


@built
def test_the_layer_is_within_its_budget_unzipped() -> None:
    # Given the built layer, when its files' sizes are added up
    size = sum(path.stat().st_size for path in _files())

    # Then they fit the budget
    assert size <= LAYER_BUDGET_BYTES, f"the layer is {size / 1e6:.1f} MB unzipped, over {LAYER_BUDGET_BYTES / 1e6} MB"


@built
def test_the_layer_carries_nothing_the_lambda_runtime_ships() -> None:
    # Given the built layer's top-level packages and modules
    names = {path.name.removesuffix(".pyc").removesuffix(".py") for path in LAYER.iterdir()}
    dists = {path.name.split("-")[0].lower() for path in LAYER.glob("*.dist-info")}

    # Then none is one of the runtime's own (a second botocore would shadow the runtime's)
    assert not names & set(RUNTIME_PACKAGES)
    assert not dists & {"boto3", "botocore", "s3transfer", "urllib3", "python_dateutil", "six"}


@built
def test_every_module_of_the_layer_is_bytecode_lambda_loads_as_it_is() -> None:
    # Given the built layer's sources and bytecode
    sources = [path for path in _files() if path.suffix == ".py"]
    sourceless = [path for path in _files() if path.suffix == ".pyc" and path.parent.name != "__pycache__"]
    assert sources and sourceless

    # Then each source has its 3.11 bytecode in __pycache__, a hash-based pyc that is not checked
    # against the source (whose mtime the layer's zip does not keep), and each dependency's module
    # is 3.11 bytecode where its source would be
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-311.pyc"
        assert pyc.is_file(), f"{source.relative_to(LAYER)} has no precompiled {pyc.name}"
        assert _header(pyc) == (MAGIC_311, UNCHECKED_HASH), f"{pyc.relative_to(LAYER)}: not unchecked-hash 3.11"
    for pyc in sourceless:
        assert _header(pyc)[0] == MAGIC_311, f"{pyc.relative_to(LAYER)} is not Python 3.11 bytecode"


def test_nothing_we_ship_uses_what_the_layer_build_prunes() -> None:
    # Given the shared package's sources and what layers/shared/Makefile prunes from the layer
    # (Powertools' Swagger UI bundle, pydantic's pydantic.v1)
    sources = "\n".join(path.read_text() for path in (ROOT / "layers" / "shared" / "orderbridge").rglob("*.py"))
    makefile = (ROOT / "layers" / "shared" / "Makefile").read_text()
    assert "swagger_ui/swagger-ui-bundle.min.js" in makefile and "pydantic/v1" in makefile

    # Then no module of ours serves the Swagger UI or imports pydantic 1
    assert "enable_swagger" not in sources
    assert not re.search(r"pydantic\.v1|from pydantic import v1", sources)
