"""Flat canonical values (``{"customer.domain": "acme.com"}``) to and from :class:`Opportunity`.

Compiled mappings speak flat dotted paths because the merge works field by field; the nested
model is what the store keeps and validates. ``None`` at a path that cannot be empty (``stage``,
``registration.channel_conflict``) means "not given" and leaves the model's value alone, so a
remote record with an empty checkbox never fails validation for it.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from channel_sync.model import Opportunity, canonical_path_parts, value_at


def _allows_none(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _allows_none(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return type(None) in typing.get_args(annotation)
    return annotation is None or annotation is type(None)


def _submodel(annotation: object) -> type[BaseModel] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _submodel(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _walk(model: type[BaseModel], prefix: str, leaves: set[str], optional: set[str]) -> None:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        sub = _submodel(info.annotation)
        if sub is not None:
            if _allows_none(info.annotation):
                optional.add(path)
            _walk(sub, f"{path}.", leaves, optional)
        elif _allows_none(info.annotation):
            leaves.add(path)


@cache
def _shape() -> tuple[frozenset[str], tuple[str, ...]]:
    leaves: set[str] = set()
    optional: set[str] = set()
    _walk(Opportunity, "", leaves, optional)
    # Deepest first, so an empty co_sell.vendor_rep collapses before co_sell is looked at.
    return frozenset(leaves), tuple(sorted(optional, key=lambda p: -p.count(".")))


def nullable_paths() -> frozenset[str]:
    """Leaf paths whose value may be ``None`` (cleared), as opposed to taking a default."""
    return _shape()[0]


def _get(data: Mapping[str, Any], path: str) -> Any:
    return value_at(data, path.split("."))


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    current = data
    for part in parents:
        nxt = current.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            current[part] = nxt
        current = nxt
    current[leaf] = value


#: Recently flattened deals. Canonical models are immutable, so a deal flattened once (the merge,
#: the rules, the outbox and the audit trail all ask) is answered from here; the entry holds the
#: deal itself, so its ``id()`` can not be reused while the entry lives.
_FLAT: dict[int, tuple[Opportunity, dict[str, Any]]] = {}
_FLAT_MAX = 4096


def flatten(opportunity: Opportunity) -> dict[str, Any]:
    """Every canonical path with its value (leaves under an absent contact are ``None``)."""
    hit = _FLAT.get(id(opportunity))
    if hit is not None and hit[0] is opportunity:
        return dict(hit[1])
    data = opportunity.model_dump()
    flat = {path: value_at(data, parts) for path, parts in canonical_path_parts()}
    if len(_FLAT) >= _FLAT_MAX:
        _FLAT.clear()
    _FLAT[id(opportunity)] = (opportunity, flat)
    return dict(flat)


def to_nested(
    flat: Mapping[str, Any], base: Mapping[str, Any] | None = None, *, own_base: bool = False
) -> dict[str, Any]:
    """The nested dict :meth:`Opportunity.model_validate` takes, from flat values over ``base``.

    ``base`` is copied first unless ``own_base`` says the caller handed over a fresh one.
    """
    nullable, optional_models = _shape()
    data: dict[str, Any] = {}
    if base:
        data = dict(base) if own_base else copy.deepcopy(dict(base))
    for path, value in flat.items():
        if value is None and path not in nullable:
            continue
        _set(data, path, value)
    for path in optional_models:
        sub = _get(data, path)
        if isinstance(sub, dict) and all(v is None for v in sub.values()):
            _set(data, path, None)
    return data


def build_opportunity(flat: Mapping[str, Any], base: Opportunity | None = None) -> Opportunity:
    """An :class:`Opportunity` from flat values, on top of ``base`` when given.

    Raises pydantic's ``ValidationError`` when the values do not make a valid opportunity; the
    caller decides whether that quarantines a record or reports a file problem.
    """
    nested = to_nested(flat) if base is None else to_nested(flat, base.model_dump(), own_base=True)
    return Opportunity.model_validate(nested)


_PLACEHOLDER = {"id": "placeholder", "name": "placeholder"}


def canonical_value(path: str, value: Any) -> Any:
    """``value`` as the canonical model holds it at ``path`` (typed and normalized).

    Raises ``ValueError`` with the model's reason when the value is not valid there; used to
    check values written in mapping files and to compare values the way the store would.
    """
    if value is None:
        if path in nullable_paths():
            return None
        msg = f"{path} cannot be empty"
        raise ValueError(msg)
    data = dict(_PLACEHOLDER)
    _set(data, path, value)
    try:
        opportunity = Opportunity.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        reason = str(error["msg"]).removeprefix("Value error, ")
        raise ValueError(reason) from None
    return _get(opportunity.model_dump(), path)
