"""Deal registration: its status, the allowed moves between statuses, and the data it carries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

from channel_sync.model.base import CanonicalModel
from channel_sync.model.enums import RegistrationStatus

S = RegistrationStatus

#: Every status a registration may move to from each status. A status is always allowed to stay
#: as it is (an unchanged value is not a move). Terminal decisions can only be left by the
#: partner registering the deal again.
ALLOWED_TRANSITIONS: dict[RegistrationStatus, frozenset[RegistrationStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.EXPIRED, S.WITHDRAWN}),
    S.REJECTED: frozenset({S.SUBMITTED}),
    S.EXPIRED: frozenset({S.SUBMITTED}),
    S.WITHDRAWN: frozenset({S.SUBMITTED}),
}

#: Statuses in which a registration still claims its customer (used by channel-conflict checks).
OPEN_STATUSES: frozenset[RegistrationStatus] = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED})


class IllegalTransitionError(ValueError):
    """A registration was asked to move along a path the lifecycle does not allow."""

    def __init__(self, old: RegistrationStatus, new: RegistrationStatus) -> None:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[old])) or "none"
        super().__init__(
            f"registration status cannot move from {old.value!r} to {new.value!r} "
            f"(allowed from {old.value!r}: {allowed})"
        )
        self.old = old
        self.new = new


def can_transition(old: RegistrationStatus, new: RegistrationStatus) -> bool:
    return old == new or new in ALLOWED_TRANSITIONS[old]


def check_transition(old: RegistrationStatus, new: RegistrationStatus) -> None:
    """Raise :class:`IllegalTransitionError` unless ``old -> new`` is allowed."""
    if not can_transition(old, new):
        raise IllegalTransitionError(old, new)


class Registration(CanonicalModel):
    """A partner's claim on a deal, and the vendor's decision on it.

    Field names follow the registration vocabulary of co-sell programmes (AWS Partner Central's
    ``LifeCycle.ReviewStatus``/``ReviewComments``, Microsoft referrals' ``status``/``substatus``).
    """

    status: RegistrationStatus = RegistrationStatus.DRAFT
    registration_number: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    submitted_at: AwareDatetime | None = None
    decided_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    decision_reason: Annotated[str, Field(max_length=2000)] | None = None
    channel_conflict: bool = False
    conflict_evidence: Annotated[str, Field(max_length=4000)] | None = None

    def moved_to(
        self, status: RegistrationStatus, **changes: object
    ) -> Registration:
        """Return a copy in ``status`` with ``changes`` applied; refuses illegal moves."""
        check_transition(self.status, status)
        return self.model_validate({**self.model_dump(), **changes, "status": status})

    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_expired_at(self, when: datetime) -> bool:
        return (
            self.status is RegistrationStatus.APPROVED
            and self.expires_at is not None
            and self.expires_at <= when
        )
