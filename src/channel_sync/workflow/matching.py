"""Channel-conflict customer matching: is a newly registered customer already being sold to?

When a partner registers a deal, the vendor wants to know whether another partner's open
registration, or the vendor's own open opportunity, already names the same end customer with an
overlapping product. The check runs in three layers:

* :mod:`~channel_sync.workflow.match_names` and :mod:`~channel_sync.workflow.match_domains`
  read names and domains the way a person would;
* :class:`CustomerMatcher` decides for one pair (same registrable domain, same customer-alias
  family, or names scoring at or above a configurable threshold) and says why in an evidence
  sentence; :class:`AliasTable` holds the corporate families it knows, built from the built-in
  list of well-known companies and a project's ``customers/aliases.yaml``
  (:func:`project_alias_table`);
* :class:`CustomerIndex` finds the matching deals among many without comparing each one.

What the two audiences see differs on purpose. :func:`conflict_evidence` is for the vendor's
channel manager and names the deals involved; :func:`partner_safe_summary` is for the partner
who registered and says only that the registration is under review, so no partner ever learns
another partner's customer or identity. Which deals are open, and what happens to a flagged
registration (flag only, or reject the later duplicate), is the workflow's decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from channel_sync.workflow.match_alias_file import (
    alias_table,
    builtin_aliases,
    project_alias_table,
    project_aliases_path,
    read_alias_file,
)
from channel_sync.workflow.match_aliases import EMPTY_ALIASES, AliasFamily, AliasTable
from channel_sync.workflow.match_compare import (
    DEFAULT_THRESHOLD,
    CustomerKey,
    CustomerMatcher,
    MatchReason,
    MatchResult,
)
from channel_sync.workflow.match_index import ChannelConflict, CustomerIndex, CustomerRecord

__all__ = [
    "DEFAULT_THRESHOLD",
    "EMPTY_ALIASES",
    "EVIDENCE_LIMIT",
    "PARTNER_REVIEW_MESSAGE",
    "AliasFamily",
    "AliasTable",
    "ChannelConflict",
    "CustomerIndex",
    "CustomerKey",
    "CustomerMatcher",
    "CustomerRecord",
    "MatchReason",
    "MatchResult",
    "alias_table",
    "builtin_aliases",
    "conflict_evidence",
    "find_conflicts",
    "partner_safe_summary",
    "project_alias_table",
    "project_aliases_path",
    "read_alias_file",
]

#: Salesforce's ``Channel_Conflict_Evidence__c`` is a 4,000-character text area.
EVIDENCE_LIMIT = 4000
#: The only thing a partner is told about a conflict check, whatever it found.
PARTNER_REVIEW_MESSAGE = "Under review by the vendor's channel team."


def find_conflicts(
    candidate: CustomerRecord,
    existing: Iterable[CustomerRecord],
    products_overlap_required: bool = True,
    *,
    matcher: CustomerMatcher | None = None,
) -> list[ChannelConflict]:
    """The open deals of other owners that claim the candidate's customer, best first.

    ``existing`` must hold only open deals (open registrations and open vendor-direct
    opportunities). This builds a throw-away :class:`CustomerIndex`; a caller checking many
    registrations against the same deals should build one index and query it repeatedly.
    """
    index = CustomerIndex(existing, matcher)
    return index.find_conflicts(candidate, products_overlap_required=products_overlap_required)


def _owner(conflict: ChannelConflict) -> str:
    record = conflict.existing
    if record.partner_id is None:
        return f"vendor-direct opportunity {record.canonical_id}"
    return f"registration {record.canonical_id} of partner {record.partner_id}"


def _products(conflict: ChannelConflict) -> str:
    if not conflict.products_known:
        return "products not listed on both deals"
    return "products in common: " + ", ".join(sorted(conflict.shared_products))


def conflict_evidence(conflicts: Sequence[ChannelConflict], limit: int = EVIDENCE_LIMIT) -> str:
    """The channel manager's account of the conflicts, cut to fit ``limit`` characters."""
    if not conflicts:
        return ""
    noun = "deal" if len(conflicts) == 1 else "deals"
    lines = [f"Possible channel conflict with {len(conflicts)} open {noun}:"]
    used = len(lines[0])
    for shown_count, conflict in enumerate(conflicts):
        line = (
            f"- {_owner(conflict)}: {conflict.result.evidence} "
            f"[score {conflict.result.score:.2f}]; {_products(conflict)}"
        )
        rest = len(conflicts) - shown_count
        tail = f"- and {rest} more"
        if used + 1 + len(line) + 1 + len(tail) > limit and rest > 1:
            lines.append(tail)
            break
        lines.append(line)
        used += 1 + len(line)
    return "\n".join(lines)[:limit]


def partner_safe_summary(conflicts: Sequence[ChannelConflict]) -> str | None:
    """What the registering partner may see: a fixed "under review", or nothing.

    Deliberately independent of the conflicts' content (how many, vendor-direct or not, whose)
    so nothing about another partner or the vendor's own pipeline can be inferred from it.
    """
    return PARTNER_REVIEW_MESSAGE if conflicts else None
