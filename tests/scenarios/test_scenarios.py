"""Every scenario file, against each partner connector (HubSpot and Salesforce), on each store."""

from __future__ import annotations

from typing import Any

import pytest

from scenarios.runner import ScenarioRun, load_cases
from sync.conftest import BACKENDS
from sync.world import PARTNER_A, PARTNER_B, World

CASES = load_cases()


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("partner", [PARTNER_A, PARTNER_B])
@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_scenario(world: World, partner: str, name: str, case: dict[str, Any]) -> None:
    run = ScenarioRun(world, partner)
    run.run(case["steps"])
    print(f"scenario {name} on {partner}: passed, {run.idle_writes} writes in idle cycles")
