"""The README's quick start works as written: its marked shell block (``<!-- quickstart``), run
command by command with bash against the session's local stack, does what the README says.

How the block runs here:

* in a temporary folder holding what its commands read: ``.local/stack.json`` (the session
  stack's) and ``tests/samples/blink_order_webhook.json`` — Blink's doc sample with a Blink order
  id of this run's own (the one liberty: the session stack is shared, and another test may
  already have sent the sample's own id);
* each command in a ``bash -euo pipefail`` of its own, with the variables the commands before it
  assigned; ``curl`` reports each answer's HTTP status, which must be 2xx; a variable a command
  assigns must not be empty;
* a command followed by a ``#=>`` line must print that (compared as JSON);
* the README says "a moment later": a command that only reads is run again until all that holds,
  for up to :data:`SETTLE_SECONDS`. A command that sends something runs once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from orderbridge.domain.ids import order_id_for

from tests.e2e.support import ROOT, RunningStack
from tests.support import samples

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
MARKER = "<!-- quickstart"
SETTLE_SECONDS = 60.0
COMMAND_TIMEOUT_SECONDS = 30.0
# Each curl answer's status, on stderr, whatever the command does with its output.
CURL_STATUS = "curl() { command curl --write-out '%{stderr}HTTP %{http_code}\\n' \"$@\"; }"
SENDS = re.compile(r"-X\s*(POST|PUT|PATCH|DELETE)\b|\s(-d|--data\S*)\s")
ASSIGNS = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")


@dataclass
class Command:
    text: str
    expected: str | None = None

    @property
    def sends(self) -> bool:
        return bool(SENDS.search(self.text))

    @property
    def assigns(self) -> str | None:
        match = ASSIGNS.match(self.text)
        return match.group(1) if match else None


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str
    statuses: list[int] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)


def quickstart_commands(readme: str) -> list[Command]:
    """The commands of the fenced block after the marker (a command's continuation lines with
    it), comments dropped, ``#=>`` lines kept as the expected output of the command before them."""
    lines = readme.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    fence = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    commands: list[Command] = []
    pending = ""
    for line in lines[fence + 1 : end]:
        stripped = line.strip()
        if stripped.startswith("#=>"):
            assert commands and commands[-1].expected is None, f"a #=> line without its command: {line!r}"
            commands[-1].expected = stripped[3:].strip()
        elif pending or (stripped and not stripped.startswith("#")):
            pending += line.rstrip()
            if pending.endswith("\\"):  # continued: bash reads the backslash-newline as it is
                pending += "\n"
            else:
                commands.append(Command(pending))
                pending = ""
    assert not pending, f"the block ends inside a command: {pending!r}"
    return commands


def run(command: Command, folder: Path, names: list[str]) -> Ran:
    """One command in bash, in ``folder``, with the variables ``names`` of the commands before."""
    saved = folder / "variables.sh"
    script = "\n".join(
        [
            "set -euo pipefail",
            f"[ -f {saved} ] && source {saved}",
            CURL_STATUS,
            command.text,
            f"declare -p {' '.join(names)} > {saved} 2>/dev/null || true" if names else "",
            f'for name in {" ".join(names)}; do printf \'%s=%s\\n\' "$name" "${{!name-}}"; done >&2' if names else "",
        ]
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=folder, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS
    )
    ran = Ran(done.returncode, done.stdout, done.stderr)
    for line in done.stderr.splitlines():
        if match := re.fullmatch(r"HTTP (\d{3})", line):
            ran.statuses.append(int(match.group(1)))
        elif (name := line.partition("=")[0]) in names:
            ran.variables[name] = line.partition("=")[2]
    return ran


def problems(command: Command, ran: Ran) -> list[str]:
    found = []
    if ran.returncode != 0:
        found.append(f"exit status {ran.returncode}")
    if "curl " in command.text and not ran.statuses:
        found.append("no HTTP answer")
    found += [f"HTTP {status}" for status in ran.statuses if not 200 <= status < 300]
    if command.assigns and not ran.variables.get(command.assigns):
        found.append(f"{command.assigns} is empty")
    if command.expected is not None and _parsed(ran.stdout) != _parsed(command.expected):
        found.append(f"printed {ran.stdout.strip()!r}, the README says {command.expected!r}")
    return found


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()


@pytest.fixture
def folder(tmp_path: Path, running_stack: RunningStack) -> Path:
    """Where the README's commands run: the session stack's stack.json, and the doc sample with a
    Blink order id no other test of this session uses."""
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "stack.json").write_text(json.dumps(running_stack.info))
    sample = json.loads(samples.text("blink_order_webhook.json"))
    sample["blink_order_id"] = str(8_000_000 + uuid.uuid4().int % 1_000_000)
    (tmp_path / "tests" / "samples").mkdir(parents=True)
    (tmp_path / "tests" / "samples" / "blink_order_webhook.json").write_text(json.dumps(sample))
    return tmp_path


JQ_MISSING = "jq is missing: the README's quick start needs it (apt-get install -y jq); its test did not run"


def require_jq() -> None:
    """CI installs jq (.ci/run): there its absence fails. A developer's machine without it skips the
    quick-start test, loudly (the README lists jq for the quick start)."""
    if shutil.which("jq"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(JQ_MISSING)
    print(f"\n*** {JQ_MISSING} ***")
    pytest.skip(JQ_MISSING)


def test_jq_is_installed():
    require_jq()
    assert shutil.which("jq")


def test_the_readme_block_is_found_and_names_the_blink_sandbox():
    commands = quickstart_commands(README.read_text())
    assert any("_admin/place-order" in c.text and "tests/samples/blink_order_webhook.json" in c.text for c in commands)
    assert [c.expected for c in commands if c.expected][-2:] == ['{"state":"collected","status":"delivered"}', "true"]


def test_the_quick_start_does_what_the_readme_says(folder, running_stack, http):
    # Given the README's quick-start commands and a running local stack (jq installed)
    require_jq()
    commands = quickstart_commands(README.read_text())
    names = list(dict.fromkeys(c.assigns for c in commands if c.assigns))
    variables: dict[str, str] = {}
    # When each runs as the README shows it (a read again until it holds: "a moment later")
    for command in commands:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            ran = run(command, folder, names)
            found = problems(command, ran)
            if not found or command.sends or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        # Then it answered 2xx and printed what the README says
        assert not found, (
            f"README quick start: {command.text!r}: {'; '.join(found)}\nstdout: {ran.stdout}\nstderr: {ran.stderr}"
        )
        variables.update(ran.variables)

    # And the order went in the way Blink sends one: the Blink sandbox's Order Webhook, answered 200
    blink_order_id = variables["ORDER"]
    sent = http.get(
        f"{running_stack.info['sandboxes']['blink']}/_admin/webhooks", params={"label": "order", "flush": "1"}
    ).json()
    deliveries = [w for w in sent if (w.get("body") or {}).get("blink_order_id") == blink_order_id]
    assert [w["status"] for w in deliveries] == [200]
    assert deliveries[0]["url"].startswith(running_stack.info["webhooks"]["blink_orders"].split("?")[0])
    # And the order the README followed is that Blink order's
    assert variables["ID"] == order_id_for("blink", blink_order_id)
    detail = http.get(
        f"{running_stack.info['api']}/ops/orders/{variables['ID']}",
        headers={"X-Api-Key": running_stack.info["ops_api_key"]},
    ).json()
    assert (detail["order"]["order_type"], detail["order"]["branch_id"]) == ("PICK-UP", "12345")
