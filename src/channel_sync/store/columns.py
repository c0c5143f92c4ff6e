"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.sql.type_api import _BindProcessorType, _ResultProcessorType

from channel_sync.store.errors import UnstorableValueError


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the back-end keeps.

    SQLite has no time-zone type and hands back naive values; PostgreSQL's ``timestamptz``
    hands back the session's zone. Both come out as UTC here, and naive values are refused on
    the way in so a local-time bug cannot be written silently. On SQLite every value is stored
    as naive UTC text of fixed width, so ``<``/``>`` in SQL compare instants correctly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002  (fixed signature)
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # SQLite keeps the text ``YYYY-MM-DD HH:MM:SS.ffffff``. SQLAlchemy's own processors parse it
    # with a regular expression and then hand it to the methods above; every link, outbox and
    # deal row carries a few of these, so on SQLite the text is written and read in one step.

    def bind_processor(self, dialect: Dialect) -> _BindProcessorType[datetime] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(
        self, dialect: Dialect, coltype: Any
    ) -> _ResultProcessorType[datetime] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            return datetime.fromisoformat(value).replace(tzinfo=UTC)

        return process


#: JSON on SQLite, JSONB on PostgreSQL (binary, comparable, indexable).
JSONDocument = JSON().with_variant(JSONB(), "postgresql")

#: 64-bit surrogate keys; SQLite only auto-increments an ``INTEGER PRIMARY KEY``.
BigId = BigInteger().with_variant(Integer(), "sqlite")

JSONObject = dict[str, Any]


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; naive datetimes are refused (their instant is unknown)."""
    if value.tzinfo is None or value.utcoffset() is None:
        msg = "the store only accepts time-zone aware datetimes"
        raise UnstorableValueError(msg)
    return value.astimezone(UTC)


def as_utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)
