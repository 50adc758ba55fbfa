"""The ops console driven as a person uses it: Playwright for Python drives Debian's Chromium
(``/usr/bin/chromium``, or ``CHROMIUM=/path``) — no browser is downloaded, ever (never run
``playwright install``) — against a local stack started as the e2e suite starts its own
(``tests/e2e/conftest.py``), once for the package (torn down when the browser tests end, so it
does not stay beside the e2e stack); the browser tests are one xdist group, so they share it.

Without a Chromium (or without the ``playwright`` package) the tests are skipped with the reason
shown, and ``make test`` prints it loudly; in CI (``CI=true``) they fail instead: CI installs the
browser (``.ci/run``).

``CONSOLE_SCREENSHOTS=1`` saves the main screens under ``docs/screenshots/`` (the README shows them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.e2e.conftest import SCHEDULE_SPEED
from tests.e2e.flow import STATE_MACHINE, Flow
from tests.e2e.support import SYNCS, RunningStack, start_stack, write_test_template

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 860}


def chromium_path() -> str | None:
    """Debian's Chromium (or ``CHROMIUM``), if it is installed."""
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def missing() -> str | None:
    """Why the browser tests cannot run here; None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make setup; it is in the dev extra)"
    if chromium_path() is None:
        return "no Chromium (apt-get install chromium; or CHROMIUM=/path/to/chromium)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    why = missing()
    for item in items:
        if "/tests/browser/" not in str(item.fspath):
            continue
        # run with the e2e suite (they need a local stack), all in one group: they share one stack
        item.add_marker(pytest.mark.e2e)
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.xdist_group("e2e-browser"))
        if why and os.environ.get("CI", "").lower() != "true":
            item.add_marker(pytest.mark.skip(reason=f"BROWSER TESTS SKIPPED: {why}"))


@pytest.fixture(scope="package")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("browser-stack")
    running = start_stack(
        write_test_template(folder),
        folder / "state",
        "--schedule-speed",
        SCHEDULE_SPEED,
        "--max-workers",
        "3",
        "--parameter-overrides",
        "VendorMaxAttempts=2",  # a vendor outage reaches the workflow's Retry sooner
        *(f"{sync}Schedule=rate(1 day)" for sync in SYNCS),  # the syncs run when a test fires them
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def stack(running_stack: RunningStack) -> dict[str, Any]:
    return running_stack.info


@pytest.fixture(scope="package")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20.0, trust_env=False) as client:
        yield client


@pytest.fixture(scope="package")
def flow(stack: dict[str, Any], http: httpx.Client) -> Flow:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=stack["emulator"]["region"]
    )
    config = Config(connect_timeout=3, read_timeout=20, retries={"max_attempts": 2})

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=stack["emulator"]["endpoint_url"], config=config)

    machines = client("stepfunctions").list_state_machines()["stateMachines"]
    arn = next(m["stateMachineArn"] for m in machines if m["name"] == STATE_MACHINE)
    return Flow(stack, http, client, arn)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    why = missing()
    if why:  # only in CI (elsewhere the tests were skipped at collection)
        pytest.fail(f"CI must run the browser tests: {why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(20_000)
    opened = context.new_page()
    opened.on("dialog", lambda dialog: dialog.accept())  # "Resume this order?" — yes
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the console's script failed: {errors}"


def screenshot(page: Any, name: str) -> None:
    """Save the screen as docs/screenshots/<name>.png when CONSOLE_SCREENSHOTS=1."""
    if os.environ.get("CONSOLE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
