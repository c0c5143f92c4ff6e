"""The base every canonical model shares: how blank text and timestamps are normalised.

CRMs cannot tell an empty text field from an unset one, and they keep timestamps to the
millisecond. Normalising both on the way in means a value read back from a CRM compares equal to
the value written, so the engine never mistakes its own write for a change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def to_millisecond(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class CanonicalModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, datetime):
            return to_millisecond(value)
        return value


class StrippedModel(CanonicalModel):
    """For names and identifiers, where surrounding blanks never carry meaning."""

    model_config = ConfigDict(str_strip_whitespace=True)
