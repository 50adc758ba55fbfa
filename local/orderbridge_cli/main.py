"""``orderbridge config validate|diff|apply|export|schema`` (docs/configuration.md).

- ``validate FILE``: the file against the format, offline; every error with its line.
- ``diff FILE``: what applying it would change on the stack (the config API's dry run, which also
  checks that every merchant, partner and branch it names exists).
- ``apply FILE``: apply it in one go (one transaction; above 50 changes the documented fallback).
- ``export [-o FILE]``: the stack's configuration as a file.
- ``schema [-o FILE]``: the format's JSON Schema (``docs/config.schema.json``).

Which stack: ``--api URL --api-key KEY``, else ``ORDERBRIDGE_API`` / ``ORDERBRIDGE_API_KEY``, else
the local stack's ``.local/stack.json``. Exit status: 0 done, 1 the file or the stack refused it,
2 the stack could not be reached or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from orderbridge.errors import FieldError
from orderbridge.models.config import ConfigDocument

from orderbridge_cli import config_file
from orderbridge_cli.api import ApiProblem, ConfigApi, Target

OK, REFUSED, FAILED = 0, 1, 2
_KIND_WORDS = {
    "merchants": "merchant",
    "branches": "branch",
    "partners": "partner",
    "routes": "route",
    "mappings": "mapping",
}


def main(argv: list[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    if args.area != "config" or not getattr(args, "command", None):
        _parser().print_help(err)
        return FAILED
    try:
        return int(_COMMANDS[args.command](args, out, err))
    except ApiProblem as problem:
        print(f"error: {problem.message}", file=err)
        return FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orderbridge", description="Orderbridge: the configuration of a stack")
    areas = parser.add_subparsers(dest="area", metavar="config")
    config = areas.add_parser("config", help="validate, diff, apply, export the configuration (docs/configuration.md)")
    commands = config.add_subparsers(dest="command", metavar="COMMAND")

    def stack_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--api", help="the stack's API base URL (env ORDERBRIDGE_API; default: the local stack)")
        command.add_argument("--api-key", help="the ops API key (env ORDERBRIDGE_API_KEY)")
        command.add_argument("--stack", type=Path, help="the local stack's stack.json (default .local/stack.json)")

    validate = commands.add_parser("validate", help="check a file against the format, offline")
    validate.add_argument("file", type=Path)
    diff = commands.add_parser("diff", help="what applying a file would change on the stack (nothing is written)")
    diff.add_argument("file", type=Path)
    stack_options(diff)
    apply = commands.add_parser("apply", help="apply a file to the stack in one go")
    apply.add_argument("file", type=Path)
    stack_options(apply)
    export = commands.add_parser("export", help="write the stack's configuration as a file")
    export.add_argument("-o", "--output", type=Path, help="the file to write (default: standard output)")
    stack_options(export)
    schema = commands.add_parser("schema", help="write the format's JSON Schema")
    schema.add_argument("-o", "--output", type=Path, help="the file to write (default: standard output)")
    return parser


# -- the commands ---------------------------------------------------------------------------------


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    loaded = _read(args.file, err)
    if loaded is None:
        return REFUSED
    assert loaded.document is not None
    counts = ", ".join(_counted(kind, len(getattr(loaded.document, kind))) for kind in _KIND_WORDS)
    print(f"{args.file}: valid (version 1: {counts})", file=out)
    return OK


def _diff(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _send(args, out, err, dry_run=True)


def _apply(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _send(args, out, err, dry_run=False)


def _export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    target = Target.find(args.api, args.api_key, args.stack)
    document = ConfigDocument.model_validate(ConfigApi(target).document())
    header = f"# Orderbridge configuration, exported from {target.url} at {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n"
    text = config_file.dump(document, header)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        total = sum(len(getattr(document, kind)) for kind in _KIND_WORDS)
        print(f"wrote {args.output}: {total} records", file=err)
    else:
        out.write(text)
    return OK


def _schema(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    text = schema_text()
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        out.write(text)
    return OK


def schema_text() -> str:
    return json.dumps(config_file.schema(), indent=2, ensure_ascii=False) + "\n"


_COMMANDS = {"validate": _validate, "diff": _diff, "apply": _apply, "export": _export, "schema": _schema}


# -- helpers --------------------------------------------------------------------------------------


def _read(path: Path, err: TextIO) -> config_file.ConfigFile | None:
    loaded = config_file.read(path)
    if loaded.errors:
        for error in loaded.errors:
            print(error.show(str(path)), file=err)
        print(f"{path}: {len(loaded.errors)} error(s); nothing was sent", file=err)
        return None
    return loaded


def _send(args: argparse.Namespace, out: TextIO, err: TextIO, *, dry_run: bool) -> int:
    loaded = _read(args.file, err)
    if loaded is None:
        return REFUSED
    target = Target.find(args.api, args.api_key, args.stack)
    began = time.monotonic()
    try:
        report = ConfigApi(target).apply(loaded.as_json(), dry_run=dry_run)
    except ApiProblem as problem:
        if problem.status is not None and 400 <= problem.status < 500 and problem.field_errors:
            for error in loaded.refused(
                [FieldError(e.get("field", ""), e.get("reason", "")) for e in problem.field_errors]
            ):
                print(error.show(str(args.file)), file=err)
            print(f"{args.file}: refused by {target.url}: {problem.message}", file=err)
            return REFUSED
        raise
    elapsed = round((time.monotonic() - began) * 1000)
    for line in change_lines(report, loaded):
        print(line, file=out)
    counts = report.get("counts", {})
    summary = (
        f"{counts.get('add', 0)} to add, {counts.get('change', 0)} to change, {counts.get('unchanged', 0)} unchanged"
    )
    if dry_run:
        print(f"{summary} (dry run on {target.url}: nothing was written)", file=out)
    elif report.get("apply_id"):
        transactions = report.get("transactions", 0)
        print(
            f"applied: {summary.replace('to add', 'added').replace('to change', 'changed')} in {transactions} "
            f"transaction(s), apply {report['apply_id']} ({elapsed} ms)",
            file=out,
        )
    else:
        print(f"nothing to apply: {summary}", file=out)
    return OK


def change_lines(report: dict[str, Any], loaded: config_file.ConfigFile) -> list[str]:
    """``+`` an added record, ``~`` a changed one with each field's before → after (with the line)."""
    lines: list[str] = []
    for change in report.get("changes", []):
        action = change.get("action")
        if action == "unchanged":
            continue
        line = loaded.line_of(change.get("where", ""))
        where = f"  (line {line})" if line else ""
        name = f"{_KIND_WORDS.get(change['kind'], change['kind'])} {change['id']}"
        if action == "add":
            lines.append(f"+ {name}{where}")
            continue
        lines.append(f"~ {name}{where}")
        before, after = change.get("before") or {}, change.get("after") or {}
        for field in change.get("changed", []):
            lines.append(f"    {field}: {_shown(before.get(field))} → {_shown(after.get(field))}")
    return lines


def _shown(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _counted(kind: str, n: int) -> str:
    word = _KIND_WORDS[kind]
    return f"{n} {word if n == 1 else kind}"


if __name__ == "__main__":
    raise SystemExit(main())
