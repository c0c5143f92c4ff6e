"""Canonical enumerations shared by every CRM mapping."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Canonical sales stage. Each CRM's own stage values are mapped onto these."""

    PROSPECTING = "prospecting"
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"

    @property
    def is_closed(self) -> bool:
        return self in (Stage.CLOSED_WON, Stage.CLOSED_LOST)


class RegistrationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class CoSellStatus(StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    ENGAGED = "engaged"
    DECLINED = "declined"
