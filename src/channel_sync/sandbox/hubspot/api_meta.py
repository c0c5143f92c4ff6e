"""The portal's schema: deal properties (/crm/v3/properties) and pipelines (/crm/v3/pipelines).

Connectors read these once per process to check a mapping against the portal: which properties
exist, their types and enumeration options, which one is unique, and what each stage id means.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from channel_sync.sandbox.hubspot.errors import HubSpotError
from channel_sync.sandbox.hubspot.params import check_object_type, flag
from channel_sync.sandbox.hubspot.pipelines import PIPELINE_ID, STAGES, STAGES_BY_ID, pipeline_wire
from channel_sync.sandbox.hubspot.properties import PROPERTIES, PROPERTIES_BY_NAME


def _missing(what: str) -> HubSpotError:
    return HubSpotError(status=404, category="OBJECT_NOT_FOUND", message=what)


class MetaApi:
    def __init__(self, created_at: str) -> None:
        #: When the emulated portal was set up; the custom properties date from then.
        self.created_at = created_at

    async def properties(self, request: Request) -> Response:
        check_object_type(request)
        if flag(request, "archived"):
            return JSONResponse({"results": []})
        results = [p.to_wire(i, self.created_at) for i, p in enumerate(PROPERTIES)]
        return JSONResponse({"results": results})

    async def property(self, request: Request) -> Response:
        check_object_type(request)
        name = str(request.path_params["property_name"])
        prop = PROPERTIES_BY_NAME.get(name)
        if prop is None:
            raise _missing(f"Unable to find property {name} for object type 0-3")
        return JSONResponse(prop.to_wire(PROPERTIES.index(prop), self.created_at))

    def _pipeline_id(self, request: Request) -> str:
        check_object_type(request)
        pipeline_id = str(request.path_params["pipeline_id"])
        if pipeline_id != PIPELINE_ID:
            raise _missing(f"Unable to find pipeline {pipeline_id} for object type 0-3")
        return pipeline_id

    async def pipelines(self, request: Request) -> Response:
        check_object_type(request)
        return JSONResponse({"results": [pipeline_wire(self.created_at)]})

    async def pipeline(self, request: Request) -> Response:
        self._pipeline_id(request)
        return JSONResponse(pipeline_wire(self.created_at))

    async def stages(self, request: Request) -> Response:
        self._pipeline_id(request)
        results = [s.to_wire(i, self.created_at) for i, s in enumerate(STAGES)]
        return JSONResponse({"results": results})

    async def stage(self, request: Request) -> Response:
        self._pipeline_id(request)
        stage_id = str(request.path_params["stage_id"])
        stage = STAGES_BY_ID.get(stage_id)
        if stage is None:
            raise _missing(f"Unable to find stage {stage_id} in pipeline {PIPELINE_ID}")
        return JSONResponse(stage.to_wire(STAGES.index(stage), self.created_at))
