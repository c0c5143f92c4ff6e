"""Single-deal endpoints: list, read, create, update and archive under /crm/v3/objects/deals.

Status codes are the ones hubspot-api-client deserializes: create answers 201 (a 200 would make
the client return None), update 200, archive 204.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from channel_sync.sandbox.hubspot.errors import not_found, validation_error
from channel_sync.sandbox.hubspot.params import (
    check_object_type,
    flag,
    integer,
    json_object,
    name_list,
    properties_object,
)
from channel_sync.sandbox.hubspot.portal import Portal, written_view
from channel_sync.sandbox.hubspot.store import returned_properties

LIST_DEFAULT_LIMIT = 10
LIST_MAX_LIMIT = 100


class ObjectsApi:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def list(self, request: Request) -> Response:
        check_object_type(request)
        limit = integer(request, "limit", LIST_DEFAULT_LIMIT)
        if limit < 1 or limit > LIST_MAX_LIMIT:
            raise validation_error(
                f"limit must be between 1 and {LIST_MAX_LIMIT}, got {limit}", limit=[str(limit)]
            )
        raw_after = request.query_params.get("after") or "0"
        if not raw_after.isdigit():
            raise validation_error(
                f"Unable to parse value for query parameter: after ({raw_after})",
                after=[raw_after],
            )
        archived = flag(request, "archived")
        names = returned_properties(name_list(request, "properties"))
        deals, next_after = self.portal.store.page(
            archived=archived, after=int(raw_after), limit=limit
        )
        body: dict[str, object] = {"results": [d.to_wire(names) for d in deals]}
        if next_after is not None:
            link = request.url.replace(query=f"after={next_after}")
            body["paging"] = {"next": {"after": str(next_after), "link": str(link)}}
        request.state.records_read = len(deals)
        return JSONResponse(body)

    async def get(self, request: Request) -> Response:
        check_object_type(request)
        key = str(request.path_params["deal_id"])
        id_property = self.portal.id_property(request.query_params.get("idProperty"))
        deal = self.portal.find(key, id_property, archived=flag(request, "archived"))
        if deal is None:
            raise not_found(key)
        request.state.records_read = 1
        names = returned_properties(name_list(request, "properties"))
        return JSONResponse(deal.to_wire(names))

    async def create(self, request: Request) -> Response:
        check_object_type(request)
        body = await json_object(request)
        values = self.portal.values_or_raise(properties_object(body.get("properties")))
        portal = self.portal
        portal.check_lock(None, values.get("channel_sync_id"))
        deal = portal.store.create(values, portal.now_ms())
        request.state.records_written = 1
        return JSONResponse(deal.to_wire(), status_code=201)

    async def update(self, request: Request) -> Response:
        check_object_type(request)
        key = str(request.path_params["deal_id"])
        portal = self.portal
        id_property = portal.id_property(request.query_params.get("idProperty"))
        body = await json_object(request)
        values = portal.values_or_raise(properties_object(body.get("properties")))
        deal = portal.find(key, id_property)
        if deal is None:
            raise not_found(key)
        portal.check_lock(deal, values.get("channel_sync_id"))
        portal.store.update(deal, values, portal.now_ms())
        request.state.records_written = 1
        return JSONResponse(written_view(deal, values))

    async def archive(self, request: Request) -> Response:
        check_object_type(request)
        key = str(request.path_params["deal_id"])
        deal = self.portal.find(key, None)
        # HubSpot answers 204 for ids it does not know, so a retried archive stays quiet.
        if deal is not None:
            self.portal.check_lock(deal)
            self.portal.store.archive(deal, self.portal.now_ms())
            request.state.records_written = 1
        return Response(status_code=204)
