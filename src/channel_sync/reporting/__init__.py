"""Pipeline reporting from the hub: registered deals, decisions, and expiring protection."""

from channel_sync.reporting.pipeline import (
    ExpiringRegistration,
    GroupBy,
    GroupFigures,
    PipelineReport,
    build_report,
    is_registered,
)
from channel_sync.reporting.render import print_report, to_csv, to_json

__all__ = [
    "ExpiringRegistration",
    "GroupBy",
    "GroupFigures",
    "PipelineReport",
    "build_report",
    "is_registered",
    "print_report",
    "to_csv",
    "to_json",
]
