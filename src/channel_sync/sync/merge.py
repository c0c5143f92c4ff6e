"""Per-field three-way merge between one connection and the hub.

The hub (the canonical store) keeps, for every link, the **base**: the value of each field that the
hub and that remote record last agreed on. When a remote record is read, each inbound field is
judged against its base and the hub's current value:

============================  =========================================================
remote vs base / hub vs base  outcome
============================  =========================================================
remote == base                nothing changed on the remote (this also drops echoes of
                              the engine's own writes, which become the base on confirm)
remote != base, hub == base   the remote changed it: take it
remote == hub  (both moved)   identical edits: take it, no conflict
remote != hub  (both moved)   a true conflict: the field's authority decides, or for
                              ``shared`` + ``on_conflict: review`` a conflict is queued
                              and neither side is overwritten
============================  =========================================================

Clocks are never compared: which edit is "newer" is meaningless across two CRMs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from channel_sync.mapping.spec import Authority, OnConflict

__all__ = [
    "Authority",
    "FieldDecision",
    "FieldPolicy",
    "OnConflict",
    "Outcome",
    "Side",
    "merge_fields",
]


class Side(StrEnum):
    VENDOR = "vendor"
    PARTNER = "partner"


class Outcome(StrEnum):
    UNCHANGED = "unchanged"  # the remote did not change the field
    TAKE_REMOTE = "take_remote"  # the remote changed it and nobody else did
    IDENTICAL = "identical"  # both changed it to the same value
    REMOTE_WINS = "remote_wins"  # true conflict, decided for the remote by authority
    HUB_WINS = "hub_wins"  # true conflict, decided for the hub by authority
    REVIEW = "review"  # true conflict queued for a person


@dataclass(frozen=True, slots=True)
class FieldPolicy:
    authority: Authority = Authority.SHARED
    on_conflict: OnConflict = OnConflict.REVIEW

    @classmethod
    def of(cls, authority: Authority, on_conflict: OnConflict | None) -> FieldPolicy:
        """The policy a mapping field declares (``shared`` without ``on_conflict`` is review)."""
        return cls(authority, on_conflict or OnConflict.REVIEW)

    def winner(self) -> Side | None:
        """The side that wins a true conflict on this field; ``None`` means a person decides."""
        if self.authority is Authority.VENDOR:
            return Side.VENDOR
        if self.authority is Authority.PARTNER:
            return Side.PARTNER
        if self.on_conflict is OnConflict.VENDOR:
            return Side.VENDOR
        if self.on_conflict is OnConflict.PARTNER:
            return Side.PARTNER
        return None


@dataclass(frozen=True, slots=True)
class FieldDecision:
    path: str
    outcome: Outcome
    base: Any
    hub: Any
    remote: Any

    @property
    def hub_changes(self) -> bool:
        """Whether the hub's value becomes the remote's value."""
        return self.outcome in (Outcome.TAKE_REMOTE, Outcome.REMOTE_WINS)

    @property
    def agreed(self) -> bool:
        """Whether hub and remote now hold the same value (so the base can move to it)."""
        return self.outcome in (
            Outcome.TAKE_REMOTE,
            Outcome.IDENTICAL,
            Outcome.REMOTE_WINS,
        )

    @property
    def is_conflict(self) -> bool:
        return self.outcome in (Outcome.REMOTE_WINS, Outcome.HUB_WINS, Outcome.REVIEW)


def merge_fields(
    *,
    side: Side,
    remote: Mapping[str, Any],
    base: Mapping[str, Any],
    hub: Mapping[str, Any],
    policies: Mapping[str, FieldPolicy],
) -> list[FieldDecision]:
    """Judge every field in ``remote`` (the inbound values just read from one connection).

    ``base`` and ``hub`` are flat ``{canonical path: value}`` maps; a path missing from ``base``
    means the link has never agreed on that field (a new link), and is treated as ``None``.
    Values must already be normalised (the mapping's inbound functions do that), so ``==`` is
    the right equality.
    """
    decisions: list[FieldDecision] = []
    for path, value in remote.items():
        b = base.get(path)
        h = hub.get(path)
        if value == b:
            outcome = Outcome.UNCHANGED
        elif h == b:
            outcome = Outcome.TAKE_REMOTE
        elif value == h:
            outcome = Outcome.IDENTICAL
        else:
            winner = policies.get(path, FieldPolicy()).winner()
            if winner is None:
                outcome = Outcome.REVIEW
            elif winner is side:
                outcome = Outcome.REMOTE_WINS
            else:
                outcome = Outcome.HUB_WINS
        decisions.append(FieldDecision(path=path, outcome=outcome, base=b, hub=h, remote=value))
    return decisions
