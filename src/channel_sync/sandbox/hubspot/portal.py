"""The emulated portal's rules for reading and writing deals, shared by single and batch calls.

Both the single-object and the batch endpoints check values, resolve ids (the record id or a
unique ``idProperty``) and honour record locks the same way; keeping those rules here means the
two paths cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channel_sync.clock import Clock
from channel_sync.sandbox.core import FaultBook
from channel_sync.sandbox.hubspot.errors import (
    HubSpotError,
    PropertyProblem,
    locked,
    property_values_invalid,
)
from channel_sync.sandbox.hubspot.properties import (
    ALWAYS_PROPERTIES,
    PROPERTIES_BY_NAME,
    UNIQUE_PROPERTIES,
)
from channel_sync.sandbox.hubspot.search import SearchEngine
from channel_sync.sandbox.hubspot.search_request import SearchLimits
from channel_sync.sandbox.hubspot.store import Deal, DealStore
from channel_sync.sandbox.hubspot.values import format_ms, normalize, to_ms

Values = dict[str, str | None]


class Portal:
    def __init__(
        self,
        *,
        clock: Clock,
        faults: FaultBook,
        portal_id: int,
        batch_limit: int,
        search_limits: SearchLimits,
    ) -> None:
        self.clock = clock
        self.faults = faults
        self.portal_id = portal_id
        self.batch_limit = batch_limit
        self.store = DealStore()
        self.search = SearchEngine(self.store, search_limits)

    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    def now_iso(self) -> str:
        return format_ms(self.now_ms())

    # -- values --------------------------------------------------------------------------------

    def check_values(self, raw: Mapping[str, Any]) -> tuple[Values, list[PropertyProblem]]:
        """Normalized values to store, and every problem found (HubSpot reports them all)."""
        values: Values = {}
        problems: list[PropertyProblem] = []
        for name, value in raw.items():
            prop = PROPERTIES_BY_NAME.get(name)
            if prop is None:
                message = f'Property "{name}" does not exist'
                problems.append(PropertyProblem(name, "PROPERTY_DOESNT_EXIST", message))
                continue
            if prop.read_only:
                problems.append(
                    PropertyProblem(
                        name,
                        "READ_ONLY_VALUE",
                        f'"{name}" is a read only property; its value cannot be set.',
                    )
                )
                continue
            wire, problem = normalize(prop, value)
            if problem is not None:
                problems.append(problem)
            else:
                values[name] = wire
        return values, problems

    def values_or_raise(self, raw: Mapping[str, Any]) -> Values:
        values, problems = self.check_values(raw)
        if problems:
            raise property_values_invalid(problems)
        return values

    # -- ids -----------------------------------------------------------------------------------

    def id_property(self, name: object, *, for_write: bool = False) -> str | None:
        """The unique property ids refer to (None: the record id); refuse any other property."""
        if name is not None and not isinstance(name, str):
            raise HubSpotError(
                status=400, category="VALIDATION_ERROR", message="idProperty must be a string"
            )
        if name is None or name in ("", "hs_object_id"):
            if for_write and name == "hs_object_id":
                raise self._non_unique(name)
            return None
        if name not in PROPERTIES_BY_NAME:
            raise HubSpotError(
                status=400,
                category="VALIDATION_ERROR",
                message=f"Property {name} does not exist for object type 0-3",
                context={"propertyName": [name]},
            )
        if name not in UNIQUE_PROPERTIES:
            raise self._non_unique(name)
        return name

    def _non_unique(self, name: str) -> HubSpotError:
        return HubSpotError(
            status=400,
            category="VALIDATION_ERROR",
            message=(
                f"Unable to perform update/upsert by non-unique 0-3 property {name} in portal "
                f"ID {self.portal_id}"
            ),
            context={"propertyName": [name]},
        )

    def find(self, key: str, id_property: str | None, *, archived: bool = False) -> Deal | None:
        """The deal ``key`` names; ``archived`` selects the recycle bin instead of live deals."""
        store = self.store
        if id_property is not None:
            if not archived:
                return store.by_unique(id_property, key)
            matches = [d for d in store.all() if d.archived and d.values.get(id_property) == key]
            return max(matches, key=lambda d: d.archived_ms or 0) if matches else None
        if not key.isdigit():
            return None
        deal = store.get(int(key))
        if deal is None or deal.archived != archived:
            return None
        return deal

    # -- locks ---------------------------------------------------------------------------------

    def is_locked(self, deal: Deal | None, *keys: str | None) -> bool:
        held = list(keys)
        if deal is not None:
            held += [str(deal.id), deal.values.get("channel_sync_id")]
        return self.faults.is_locked(*held)

    def check_lock(self, deal: Deal | None, *keys: str | None) -> None:
        if self.is_locked(deal, *keys):
            name = str(deal.id) if deal is not None else next((k for k in keys if k), "")
            raise locked(name)


def written_view(deal: Deal, written: Mapping[str, Any]) -> dict[str, Any]:
    """What a write returns: the properties just written plus the always-present ones."""
    names = list(written)
    names += [n for n in ALWAYS_PROPERTIES if n not in written]
    return deal.to_wire(names)
