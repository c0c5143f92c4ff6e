"""YAML scalars by the YAML 1.2 core schema, and the tags a file may use.

PyYAML resolves plain scalars by YAML 1.1, where ``NO`` is false, ``0755`` is octal and ``1:30``
is ninety; an admin writing a country code or a time would be surprised, so files here resolve
only ``true``/``false``, ``null``/``~``, integers and floats, and everything else stays text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

TAG_PREFIX = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (f"{TAG_PREFIX}{t}" for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ = f"{TAG_PREFIX}map", f"{TAG_PREFIX}seq"
SCALAR_TAGS = {STR, INT, FLOAT, BOOL, NULL}

_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def short_tag(tag: str) -> str:
    return "!!" + tag[len(TAG_PREFIX) :] if tag.startswith(TAG_PREFIX) else tag


def resolve_plain(value: str) -> str:
    if _NULL_RE.match(value):
        return NULL
    if _BOOL_RE.match(value):
        return BOOL
    if _INT_RE.match(value):
        return INT
    if _FLOAT_RE.match(value):
        return FLOAT
    return STR


def _null(value: str) -> None:
    if not _NULL_RE.match(value):
        raise ValueError(value)


def _bool(value: str) -> bool:
    if not _BOOL_RE.match(value):
        raise ValueError(value)
    return value.lower() == "true"


def _int(value: str) -> int:
    if value.startswith("0o"):
        return int(value[2:], 8)
    return int(value, 16) if value.startswith("0x") else int(value, 10)


_SPECIAL_FLOATS = {".inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}


def _float(value: str) -> float:
    lowered = value.lower().lstrip("+")
    return _SPECIAL_FLOATS[lowered] if lowered in _SPECIAL_FLOATS else float(value)


def _str(value: str) -> str:
    return value


CONSTRUCTORS: dict[str, Callable[[str], Any]] = {
    STR: _str,
    NULL: _null,
    BOOL: _bool,
    INT: _int,
    FLOAT: _float,
}
