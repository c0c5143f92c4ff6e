"""HubSpot's default deal pipeline, the only one a fresh portal has.

Stage ids are the internal ids HubSpot gives the default "Sales Pipeline"; deals carry these ids
in ``dealstage``, never the labels. Probabilities are HubSpot's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channel_sync.model import Stage

PIPELINE_ID = "default"
PIPELINE_LABEL = "Sales Pipeline"
#: HubSpot reports the built-in pipeline as created at the epoch.
PIPELINE_CREATED = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class PipelineStage:
    id: str
    label: str
    probability: str
    is_closed: bool

    def to_wire(self, order: int, updated_at: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": order,
            "archived": False,
            "metadata": {
                "isClosed": "true" if self.is_closed else "false",
                "probability": self.probability,
            },
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            "createdAt": PIPELINE_CREATED,
            "updatedAt": updated_at,
        }


STAGES: tuple[PipelineStage, ...] = (
    PipelineStage("appointmentscheduled", "Appointment Scheduled", "0.2", is_closed=False),
    PipelineStage("qualifiedtobuy", "Qualified To Buy", "0.4", is_closed=False),
    PipelineStage("presentationscheduled", "Presentation Scheduled", "0.6", is_closed=False),
    PipelineStage("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", is_closed=False),
    PipelineStage("contractsent", "Contract Sent", "0.9", is_closed=False),
    PipelineStage("closedwon", "Closed Won", "1.0", is_closed=True),
    PipelineStage("closedlost", "Closed Lost", "0.0", is_closed=True),
)

STAGES_BY_ID: dict[str, PipelineStage] = {s.id: s for s in STAGES}

#: Where seeded deals land for each canonical stage.
STAGE_FOR_CANONICAL: dict[Stage, str] = {
    Stage.PROSPECTING: "appointmentscheduled",
    Stage.QUALIFICATION: "qualifiedtobuy",
    Stage.PROPOSAL: "presentationscheduled",
    Stage.NEGOTIATION: "contractsent",
    Stage.CLOSED_WON: "closedwon",
    Stage.CLOSED_LOST: "closedlost",
}


def pipeline_wire(updated_at: str) -> dict[str, Any]:
    return {
        "id": PIPELINE_ID,
        "label": PIPELINE_LABEL,
        "displayOrder": 0,
        "archived": False,
        "createdAt": PIPELINE_CREATED,
        "updatedAt": updated_at,
        "stages": [stage.to_wire(i, updated_at) for i, stage in enumerate(STAGES)],
    }
