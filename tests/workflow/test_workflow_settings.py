"""Workflow settings come from CHANNEL_SYNC_* variables, the process's or an env file's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from channel_sync.workflow.settings import ConflictPolicy, WorkflowSettings


def test_defaults() -> None:
    settings = WorkflowSettings.from_env({})
    assert settings.protection_window == timedelta(days=90)
    assert settings.conflict_policy is ConflictPolicy.FLAG
    assert settings.registration_number_prefix == "REG"


def test_values_are_read_by_their_variable_names() -> None:
    settings = WorkflowSettings.from_env(
        {
            "CHANNEL_SYNC_REGISTRATION_PROTECTION_DAYS": "30",
            "CHANNEL_SYNC_CONFLICT_POLICY": "auto_reject",
            "CHANNEL_SYNC_REGISTRATION_NUMBER_PREFIX": "DR",
            "CHANNEL_SYNC_EXPIRY_SWEEP_SECONDS": "600",
            "UNRELATED": "ignored",
        }
    )
    assert settings.protection_window == timedelta(days=30)
    assert settings.conflict_policy is ConflictPolicy.AUTO_REJECT
    assert settings.registration_number_prefix == "DR"
    assert settings.expiry_sweep_seconds == 600


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHANNEL_SYNC_CONFLICT_POLICY", "sometimes"),
        ("CHANNEL_SYNC_REGISTRATION_PROTECTION_DAYS", "0"),
        ("CHANNEL_SYNC_REGISTRATION_NUMBER_PREFIX", "reg-"),
    ],
)
def test_bad_values_are_refused(variable: str, value: str) -> None:
    with pytest.raises(ValidationError):
        WorkflowSettings.from_env({variable: value})
