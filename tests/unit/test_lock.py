"""The lock: one set of versions for the dev environment, the tests and the layer `sam build` ships.

pyproject.toml says which ranges the code supports; `make lock` (pip-tools) compiles them into
requirements/dev.txt (everything the dev environment and the tests install, exact) and
layers/shared/requirements.txt (the layer's roots in requirements/layer.in, constrained by the dev
lock). Given those files, when they are read side by side, then they agree with each other, with
pyproject.toml and with what this interpreter has installed.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEV_LOCK = ROOT / "requirements" / "dev.txt"
LAYER_ROOTS = ROOT / "requirements" / "layer.in"
LAYER_LOCK = ROOT / "layers" / "shared" / "requirements.txt"
# The Lambda runtime ships boto3: the layer leaves it out.
RUNTIME_PROVIDED = {canonicalize_name("boto3")}
# `name==version`, then pip-tools' `# via ...` annotation.
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)")
HOW_TO_FIX = "run `make lock` (then `make setup`)"


def _pins(path: Path) -> dict[NormalizedName, str]:
    pins: dict[NormalizedName, str] = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def _pyproject_requirements() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(text) for text in project["dependencies"]]
    dev = [Requirement(text) for text in project["optional-dependencies"]["dev"]]
    return runtime, dev


def _layer_roots() -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in LAYER_ROOTS.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def test_every_file_of_the_lock_pins_exact_versions() -> None:
    """Given the two lock files, when their requirement lines are read, then each is `name==version`."""
    for path in (DEV_LOCK, LAYER_LOCK):
        lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith(("#", " "))]
        assert lines, f"{path.relative_to(ROOT)} is empty"
        loose = [line for line in lines if not _PIN.match(line)]
        assert not loose, f"{path.relative_to(ROOT)} has unpinned lines {loose}: {HOW_TO_FIX}"


def test_the_layer_ships_the_versions_the_tests_run() -> None:
    """Given the layer's lock and the dev lock, when a package is in both, then at the same version."""
    dev, layer = _pins(DEV_LOCK), _pins(LAYER_LOCK)
    assert canonicalize_name("pydantic") in layer
    missing = sorted(name for name in layer if name not in dev)
    assert not missing, f"the layer pins {missing}, which the dev lock does not: {HOW_TO_FIX}"
    differ = {name: (version, dev[name]) for name, version in layer.items() if dev[name] != version}
    assert not differ, f"layer vs dev lock (layer, dev): {differ}: {HOW_TO_FIX}"


@pytest.mark.parametrize("group", ["runtime", "dev"])
def test_pyproject_admits_every_locked_version(group: str) -> None:
    """Given pyproject.toml's ranges, when each is held against the dev lock, then it is locked and
    its range admits the locked version."""
    runtime, dev = _pyproject_requirements()
    locked = _pins(DEV_LOCK)
    for requirement in runtime if group == "runtime" else dev:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements/dev.txt: {HOW_TO_FIX}"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"pyproject.toml asks for {requirement}, the lock has {locked[name]}: {HOW_TO_FIX}"
        )


def test_moto_is_pinned_to_the_release_the_local_stack_patches() -> None:
    """Given moto in the dev extra, when its specifier is read, then it is one exact `==` and the lock's
    version (the local stack patches moto's internals: a new release is a deliberate change)."""
    _, dev = _pyproject_requirements()
    (moto,) = [requirement for requirement in dev if canonicalize_name(requirement.name) == "moto"]
    specifiers = list(moto.specifier)
    assert [spec.operator for spec in specifiers] == ["=="], f"{moto}: moto must be pinned with one `==`"
    assert _pins(DEV_LOCK)[canonicalize_name("moto")] == specifiers[0].version


def test_the_layer_roots_are_the_runtime_dependencies_the_lambda_runtime_does_not_ship() -> None:
    """Given pyproject.toml's runtime dependencies, when the layer's roots are compared, then they are
    the same packages with the same extras, boto3 left out (and not pinned in the layer either)."""
    runtime, _ = _pyproject_requirements()
    expected = {
        (canonicalize_name(r.name), frozenset(r.extras))
        for r in runtime
        if canonicalize_name(r.name) not in RUNTIME_PROVIDED
    }
    actual = {(canonicalize_name(r.name), frozenset(r.extras)) for r in _layer_roots()}
    assert actual == expected
    assert not RUNTIME_PROVIDED & _pins(LAYER_LOCK).keys()


def test_the_tests_run_the_locked_versions() -> None:
    """Given the dev lock, when each package's installed version is read, then it is the locked one
    (a stale environment fails here, not as a puzzle elsewhere)."""
    stale = {}
    for name, version in _pins(DEV_LOCK).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            stale[name] = (installed, version)
    assert not stale, f"installed vs locked: {stale}: run `make setup`"


def test_the_layer_lock_holds_everything_its_roots_pull_in() -> None:
    """Given the layer's roots, when their dependencies are followed through the installed packages'
    metadata (the locked versions, see above), then the layer's lock pins exactly that closure: `sam
    build` resolves nothing of its own and adds nothing unpinned."""
    closure: set[NormalizedName] = set()
    pending = [(canonicalize_name(r.name), set(r.extras)) for r in _layer_roots()]
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    while pending:
        name, extras = pending.pop()
        if (name, frozenset(extras)) in seen:
            continue
        seen.add((name, frozenset(extras)))
        closure.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""}):
                pending.append((canonicalize_name(requirement.name), set(requirement.extras)))
    assert closure == set(_pins(LAYER_LOCK))


def test_the_layer_build_leaves_out_exactly_what_only_the_runtimes_botocore_needs() -> None:
    """Given layers/shared/Makefile's RUNTIME_PROVIDED (left out of the layer at build time), when the
    layer's lock is walked from its roots without entering botocore, then the packages left out are
    boto3's own (boto3, s3transfer) and exactly those the lock holds only for botocore, which the
    Lambda runtime ships with its boto3 — nothing the layer's own code needs is left out."""
    makefile = (ROOT / "layers" / "shared" / "Makefile").read_text()
    match = re.search(r"^RUNTIME_PROVIDED := (.+)$", makefile, re.MULTILINE)
    assert match, "layers/shared/Makefile: no RUNTIME_PROVIDED line"
    left_out = {canonicalize_name(name) for name in match[1].split()}

    shipped = ("boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six")
    runtime_ships = {canonicalize_name(name) for name in shipped}
    reachable: set[NormalizedName] = set()
    pending = [(canonicalize_name(r.name), set(r.extras)) for r in _layer_roots()]
    while pending:
        name, extras = pending.pop()
        if name in reachable or name == canonicalize_name("botocore"):
            continue
        reachable.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""}):
                pending.append((canonicalize_name(requirement.name), set(requirement.extras)))
    only_for_botocore = set(_pins(LAYER_LOCK)) - reachable

    assert left_out <= runtime_ships, f"{left_out - runtime_ships} are not the runtime's to provide"
    assert left_out & set(_pins(LAYER_LOCK)) == only_for_botocore
