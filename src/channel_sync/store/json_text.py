"""How the store writes and reads its JSON columns.

SQLAlchemy's JSON types encode with the standard library by default; pydantic-core (already
the model layer's engine) does the same in compiled code at a quarter of the cost, and the
store encodes and decodes a few JSON values for every deal it touches (documents, link bases,
outbox fields, audit values). Only plain JSON values reach it: ``values`` turns decimals and
timestamps into their stored text first, and refuses anything else.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import from_json, to_json


def dumps(value: Any) -> str:
    """Compact JSON text of ``value`` (UTF-8 kept as is, not escaped)."""
    return to_json(value).decode()


def loads(text: str | bytes) -> Any:
    """The value of a JSON text, as ``json.loads`` reads it."""
    return from_json(text, allow_inf_nan=True)
