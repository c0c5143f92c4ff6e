"""POST /crm/v3/objects/deals/search: the change feed a HubSpot connector polls."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from channel_sync.sandbox.hubspot.params import check_object_type, json_body
from channel_sync.sandbox.hubspot.portal import Portal
from channel_sync.sandbox.hubspot.search_request import parse_request
from channel_sync.sandbox.hubspot.store import returned_properties


class SearchApi:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def search(self, request: Request) -> Response:
        check_object_type(request)
        engine = self.portal.search
        query = parse_request(await json_body(request), engine.limits)
        total, deals, next_after = engine.page(query)
        names = returned_properties(query.properties)
        body: dict[str, Any] = {"total": total, "results": [d.to_wire(names) for d in deals]}
        if next_after is not None:
            body["paging"] = {"next": {"after": str(next_after)}}
        request.state.records_read = len(deals)
        return JSONResponse(body)
