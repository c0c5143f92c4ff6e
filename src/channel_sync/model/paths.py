"""The catalogue of canonical field paths (``customer.domain``, ``registration.status``...).

Mappings name canonical fields by dotted path. The catalogue is derived from the pydantic models
so it can never drift from them.
"""

from __future__ import annotations

import builtins
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import AwareDatetime, BaseModel

from channel_sync.model.opportunity import Opportunity


@dataclass(frozen=True, slots=True)
class CanonicalField:
    """One leaf of the canonical model."""

    path: str
    #: The leaf's value type with ``None`` stripped (``str``, ``Decimal``, ``list`` ...).
    type: builtins.type[object]
    #: For list leaves, the element type.
    item_type: builtins.type[object] | None
    optional: bool
    frozen: bool


def _strip(annotation: object) -> tuple[object, bool]:
    if annotation is AwareDatetime:
        return datetime, False
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner, _ = _strip(args[0]) if len(args) == 1 else (annotation, False)
        return inner, True
    return annotation, False


def _walk(model: type[BaseModel], prefix: str, out: dict[str, CanonicalField]) -> None:
    for name, info in model.model_fields.items():
        annotation, optional = _strip(info.annotation)
        path = f"{prefix}{name}"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _walk(annotation, f"{path}.", out)
            continue
        item_type: type | None = None
        leaf: type
        if typing.get_origin(annotation) is list:
            item, _ = _strip(typing.get_args(annotation)[0])
            item_type = item if isinstance(item, type) else str
            leaf = list
        else:
            leaf = annotation if isinstance(annotation, type) else str
        out[path] = CanonicalField(
            path=path,
            type=leaf,
            item_type=item_type,
            optional=optional or not info.is_required(),
            frozen=bool(info.frozen),
        )


@cache
def canonical_fields() -> dict[str, CanonicalField]:
    """Every leaf path of :class:`Opportunity`, in declaration order."""
    out: dict[str, CanonicalField] = {}
    _walk(Opportunity, "", out)
    return out


@cache
def canonical_path_parts() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every leaf path with its dotted parts, split once (walking a nested deal per path)."""
    return tuple((path, tuple(path.split("."))) for path in canonical_fields())


def value_at(data: Mapping[str, Any], parts: Sequence[str]) -> Any:
    """The value at ``parts`` of a nested dict (a dumped or stored deal); ``None`` when a part
    on the way is absent or ``None`` (a contact the deal does not have)."""
    node: Any = data
    for part in parts:
        node = node.get(part)
        if node is None:
            return None
    return node
