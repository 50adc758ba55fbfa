"""Where moto spends the local stack's one process per request, done cheaper with the same answer.

Every AWS call of every function, and every Step Functions state, runs in the stack's one Python
process (one interpreter lock, at most one of the machine's cores). Profiled under a burst of Blink
order webhooks (``py-spy record --gil`` on the stack process), that process was busy ~86 % of the
wall time, and the function workers far less: the stack process, not the handlers, set the pace.
:func:`patchers` (started with the emulator's other patches) takes the largest costs that do
not change what a client receives:

* **DynamoDB items in answers**: moto 5 writes every answer through a generic serializer that walks
  the output shape member by member, trying name aliases for each — for an item, once per attribute
  value and per each of its ten possible type members. That was ~30 % of the process's CPU under
  the burst. Here an ``AttributeValue`` (a dict such as ``{"S": "x"}`` or ``{"M": {...}}``) is
  written directly, with the serializer's own rules: strings as ``str``, binary as base64, maps and
  lists recursively, members outside the shape left out. The bytes are the same
  (``tests/unit/local/test_fastpath.py`` compares both ways over every attribute type).
* **DynamoDB items in requests**: the same walk the other way, ~10 % of the process under the
  burst: an ``AttributeValue`` in a request is read member by member only for the members it has
  (its maps, lists and sets still through moto's parser, whose each value comes back here).
* **JSONPath in Step Functions**: moto's engine parses each path (``$.order_id``, ``ResultPath``,
  a Choice's ``Variable``) anew for every state of every execution — a new LALR parser and lexer
  each time, ~1 ms of CPU per path, ~15 % of the process's CPU while the workflows ran. A parsed
  path is an immutable expression, so here each distinct path is parsed once
  (:data:`PARSED_PATHS_KEPT` kept).
* **DynamoDB items as moto builds them**: moto keeps an item's attributes in a dict that checks
  the item's 400 KB limit on every attribute put into it by summing the sizes of all the attributes
  already there — every item moto builds (each write, and each copy a read, a query, a stream
  record or a transaction makes of it) is quadratic in its attributes, ~7 % of the process under a
  burst. An item is built here with one sum, and refused (``ItemSizeTooLarge``) exactly when moto's
  check would refuse it: the sizes only add up, so a running total over the limit at some
  attribute is a final total over it. An attribute set later (an update) still goes through moto's
  check.
* **The handler of each request**: moto finds the method for an action by listing the response
  class's methods (``inspect.getmembers``) on every request, ~5 % of the process under a burst;
  here each class is listed once, as a set.
"""

from __future__ import annotations

import base64
import functools
from typing import Any
from unittest import mock

PARSED_PATHS_KEPT = 1024
# moto's item size limit (``LimitedSizeDict``: DynamoDB's 400 KB, measured by moto at 405,000).
ITEM_SIZE_LIMIT = 405_000

# The members of DynamoDB's (and DynamoDB Streams') AttributeValue shape, in the shape's order,
# and how each is typed there.
_MEMBERS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
_STRINGS = ("S", "N")
_BOOLEANS = ("NULL", "BOOL")
_BLOB = "B"
_STRING_SETS = ("SS", "NS")
_BLOB_SET = "BS"


def _base64(value: str | bytes) -> str:
    # as moto's serializer (``ResponseSerializer._base64``): a str is encoded first
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return base64.b64encode(raw).strip().decode("utf-8")


def _string(value: Any) -> Any:
    # as ``BaseJSONSerializer._serialize_type_string``
    return str(value) if value not in [None, {}, []] else value


def attribute_value(value: dict[str, Any]) -> dict[str, Any]:
    """One AttributeValue as moto's JSON serializer writes it (see the module docstring)."""
    out: dict[str, Any] = {}
    for member in _MEMBERS:
        if member not in value:
            continue
        inner = value[member]
        if inner is None:
            continue
        if member in _STRINGS:
            out[member] = _string(inner)
        elif member == _BLOB:
            out[member] = _base64(inner)
        elif member in _STRING_SETS:
            out[member] = [_string(v) for v in inner]
        elif member == _BLOB_SET:
            out[member] = [_base64(v) if v is not None else v for v in inner]
        elif member == "M":
            out[member] = {k: attribute_value(v) for k, v in inner.items() if v is not None}
        elif member == "L":
            out[member] = [attribute_value(v) if v is not None else v for v in inner]
        else:  # _BOOLEANS: as they are
            out[member] = inner
    return out


def _serialize_type_structure(original: Any) -> Any:
    def serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and type(value) is dict:
            serialized[self.get_serialized_name(shape, key)] = attribute_value(value)
            return
        original(self, serialized, value, shape, key)

    return serialize_type_structure


def _parse_structure(original: Any) -> Any:
    from moto.core.parse import JSONParser

    def parse_structure(self: Any, shape: Any, value: Any) -> Any:
        if type(value) is dict and shape.name == "AttributeValue" and type(self) is JSONParser:
            parsed = self.MAP_TYPE()
            for member in _MEMBERS:
                raw = value.get(member)
                if raw is None:
                    continue
                if member == _BLOB:
                    parsed[member] = self._blob_parser(raw)
                elif member in _STRINGS or member in _BOOLEANS:  # moto's default: as they came
                    parsed[member] = raw
                else:  # sets, M, L: moto's own list and map walk
                    parsed[member] = self._parse_shape(shape.members[member], raw)
            return parsed
        return original(self, shape, value)

    return parse_structure


def _item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    """``moto.dynamodb.models.dynamo_type.Item.__init__`` with its size check done once (see the
    module docstring)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    self.hash_key = hash_key
    self.range_key = range_key
    typed = LimitedSizeDict()
    size = 0
    for key, value in attrs.items():
        attribute = DynamoType(value)
        size += bytesize(key) + attribute.size()
        dict.__setitem__(typed, key, attribute)  # past LimitedSizeDict's per-attribute check
    if size > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = typed


def _listed_once(method_names_from_class: Any) -> Any:
    """moto's ``method_names_from_class`` (a list, used only for ``action in names``) as a set,
    listed once per class."""

    @functools.cache
    def listed(clazz: object) -> frozenset[str]:
        return frozenset(method_names_from_class(clazz))

    return listed


def _parsed_once(parse: Any) -> Any:
    return functools.lru_cache(maxsize=PARSED_PATHS_KEPT)(parse)


def patchers() -> list[Any]:
    """The patches of this module (started and stopped with the emulator's other patches)."""
    from moto.core import responses
    from moto.core.parse import BaseJSONParser
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.dynamo_type import Item
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    return [
        mock.patch.object(
            BaseJSONSerializer,
            "_serialize_type_structure",
            _serialize_type_structure(BaseJSONSerializer._serialize_type_structure),
        ),
        mock.patch.object(BaseJSONParser, "_parse_structure", _parse_structure(BaseJSONParser._parse_structure)),
        mock.patch.object(Item, "__init__", _item_init),
        # imported into ``responses`` from moto's utilities and looked up there (hence the ignore)
        mock.patch.object(
            responses,
            "method_names_from_class",
            _listed_once(responses.method_names_from_class),  # type: ignore[attr-defined]
        ),
        # both modules import jsonpath_ng's ``parse`` (re-exported, hence the ignores)
        mock.patch.object(json_path, "parse", _parsed_once(json_path.parse)),  # type: ignore[attr-defined]
        mock.patch.object(result_path, "parse", _parsed_once(result_path.parse)),  # type: ignore[attr-defined]
    ]
