"""Workflow policy an admin tunes per installation (``CHANNEL_SYNC_*`` environment variables).

These are programme rules (how long an approval protects a deal, what happens to a later
duplicate registration), not connection details, so they live outside the connection files and
apply to every partner alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConflictPolicy(StrEnum):
    #: Flag the later registration (``under_review``) and let the channel manager decide.
    FLAG = "flag"
    #: First come, first served: reject a registration when another partner's open
    #: registration already claims the same customer; vendor-direct overlaps are still flagged.
    AUTO_REJECT = "auto_reject"


class WorkflowSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHANNEL_SYNC_", extra="ignore")

    #: How long an approval protects a deal when the vendor does not set an expiry itself.
    registration_protection_days: int = Field(default=90, ge=1, le=3650)
    #: Registration numbers read ``{prefix}-{year}-{sequence:06d}``.
    registration_number_prefix: str = Field(default="REG", pattern=r"^[A-Z][A-Z0-9]{0,15}$")
    conflict_policy: ConflictPolicy = ConflictPolicy.FLAG
    #: How often the scheduler looks for approved registrations past their expiry.
    expiry_sweep_seconds: float = Field(default=3600.0, ge=1.0)
    #: How often the scheduler runs a full reconciliation of each connection.
    reconcile_seconds: float = Field(default=86400.0, ge=10.0)
    #: A run that could not start on time still starts if it is at most this late; later
    #: ones coalesce into the next run.
    misfire_grace_seconds: float = Field(default=300.0, ge=1.0)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkflowSettings:
        """Settings from ``env`` (the process environment merged with an ``--env-file``)."""
        prefix = cls.model_config.get("env_prefix", "")
        given = {
            name: env[key]
            for name in cls.model_fields
            if (key := f"{prefix}{name}".upper()) in env
        }
        return cls.model_validate(given)

    @property
    def protection_window(self) -> timedelta:
        return timedelta(days=self.registration_protection_days)
