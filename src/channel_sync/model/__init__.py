"""The canonical opportunity model."""

from channel_sync.model.cosell import CoSell
from channel_sync.model.enums import CoSellStatus, RegistrationStatus, Stage
from channel_sync.model.opportunity import Opportunity
from channel_sync.model.parties import Contact, Customer, normalize_domain
from channel_sync.model.paths import (
    CanonicalField,
    canonical_fields,
    canonical_path_parts,
    value_at,
)
from channel_sync.model.registration import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    IllegalTransitionError,
    Registration,
    can_transition,
    check_transition,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "OPEN_STATUSES",
    "CanonicalField",
    "CoSell",
    "CoSellStatus",
    "Contact",
    "Customer",
    "IllegalTransitionError",
    "Opportunity",
    "Registration",
    "RegistrationStatus",
    "Stage",
    "can_transition",
    "canonical_fields",
    "canonical_path_parts",
    "check_transition",
    "normalize_domain",
    "value_at",
]
