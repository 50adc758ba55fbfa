"""The configuration file (docs/configuration.md): YAML read into ``models.config.ConfigDocument``
with every error at its line.

PyYAML's compose API gives the document's node tree (each node knows its line); the data is
constructed from that same tree, so a pydantic error's location (``branches.1.courier``) is walked
down the tree to the line of the key or value at fault. Numbers with a fraction are read as
``Decimal`` (never float); an integer written with a leading zero (``0123``) stays text (an id),
where YAML 1.1 would have read it as octal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from orderbridge.domain.config_changes import duplicates, records_of, validation_errors
from orderbridge.errors import FieldError
from orderbridge.models.config import ConfigDocument
from pydantic import ValidationError

_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")


class _Loader(yaml.SafeLoader):
    """YAML with exact numbers: ``Decimal`` fractions, ids with leading zeros kept as text."""


def _fraction(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    try:
        number = Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


def _integer(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    return int(text) if _PLAIN_INT.match(text) else text


_Loader.add_constructor("tag:yaml.org,2002:float", _fraction)
_Loader.add_constructor("tag:yaml.org,2002:int", _integer)


@dataclass(frozen=True)
class LineError:
    """One reason the file is refused: its line (None: not tied to one), the field's path, why."""

    line: int | None
    field: str
    reason: str

    def show(self, path: str) -> str:
        where = f"{path}:{self.line}" if self.line else path
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass
class ConfigFile:
    """A configuration file read: its data, its node tree (for lines) and what is wrong with it."""

    path: str
    data: Any = None
    root: yaml.Node | None = None
    errors: list[LineError] = field(default_factory=list)
    document: ConfigDocument | None = None

    def line_of(self, field_path: str) -> int | None:
        """The line of ``field_path`` (``branches.1.courier``): the key of the deepest field the path
        reaches (a missing field: the key of the record it is missing from)."""
        node = self.root
        if node is None:
            return None
        at: yaml.Node = node
        for part in [p for p in field_path.split(".") if p]:
            if isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
                if found is None:
                    break
                at, node = found
            elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
                node = at = node.value[int(part)]
            else:
                break
        return int(at.start_mark.line) + 1

    def refused(self, errors: list[FieldError]) -> list[LineError]:
        found = [LineError(self.line_of(e.field), e.field, e.reason) for e in errors]
        return sorted(found, key=lambda e: e.line or 0)

    def as_json(self) -> str:
        """The file's data as the config API's body (exact numbers as strings)."""
        return json.dumps(self.data, default=str)


def read(path: Path | str) -> ConfigFile:
    """Read and validate a configuration file; ``errors`` holds every problem with its line."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return ConfigFile(shown, errors=[LineError(None, "", f"cannot read the file: {error}")])
    return parse(text, shown)


def parse(text: str, shown: str = "<config>") -> ConfigFile:
    loaded = ConfigFile(shown)
    loader = _Loader(text)
    try:
        loaded.root = loader.get_single_node()
        if loaded.root is None:
            loaded.errors.append(LineError(1, "", "the file is empty: it starts with version: 1"))
            return loaded
        loaded.data = loader.construct_document(loaded.root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        loaded.errors.append(LineError(line, "", f"not YAML: {error.problem or error.context}"))
        return loaded
    finally:
        loader.dispose()
    loaded.errors.extend(_duplicate_keys(loaded.root))
    if not isinstance(loaded.data, dict):
        loaded.errors.append(LineError(1, "", "a configuration is a mapping that starts with version: 1"))
        return loaded
    try:
        document = ConfigDocument.model_validate(loaded.data)
    except ValidationError as error:
        loaded.errors.extend(loaded.refused(validation_errors(error)))
        return loaded
    loaded.errors.extend(loaded.refused(duplicates(records_of(document))))
    if not loaded.errors:
        loaded.document = document
    return loaded


def _duplicate_keys(root: yaml.Node) -> list[LineError]:
    """YAML keeps the last of two equal keys without a word: here it is an error at the second."""
    errors: list[LineError] = []
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in node.value:
                name = getattr(key, "value", None)
                line = int(key.start_mark.line) + 1
                if isinstance(name, str) and name in seen:
                    errors.append(
                        LineError(line, name, f"the key {name!r} is given twice (first at line {seen[name]})")
                    )
                elif isinstance(name, str):
                    seen[name] = line
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(errors, key=lambda e: e.line or 0)


# -- writing (config export) ------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:float", str(value))


_Dumper.add_representer(Decimal, _decimal)


def dump(document: ConfigDocument, header: str = "") -> str:
    """A configuration as YAML, fields in the models' order, absent values left out; numbers exact,
    ids that look like numbers quoted (they stay text when read back)."""
    data = _plain(document.model_dump(exclude_none=True))
    body: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return header + body


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def schema() -> dict[str, Any]:
    """The JSON Schema of the configuration file (``docs/config.schema.json``)."""
    generated = ConfigDocument.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **generated,
        "title": "Orderbridge configuration, version 1 (docs/configuration.md)",
    }
