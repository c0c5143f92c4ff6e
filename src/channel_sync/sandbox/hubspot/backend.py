"""The HubSpot CRM v3 emulator as a sandbox backend: one partner portal with its deals.

It is driven through the real hubspot-api-client (``HubSpot(access_token=..., host=base_url)``)
over plain HTTP, which the client accepts for a custom host.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from channel_sync.clock import Clock, SystemClock
from channel_sync.sandbox.core import Allowance, FaultBook, FaultRule, Ledger, TokenBook
from channel_sync.sandbox.hubspot.api_batch import BatchApi
from channel_sync.sandbox.hubspot.api_meta import MetaApi
from channel_sync.sandbox.hubspot.api_objects import ObjectsApi
from channel_sync.sandbox.hubspot.api_search import SearchApi
from channel_sync.sandbox.hubspot.errors import HubSpotError, method_not_allowed
from channel_sync.sandbox.hubspot.gateway import Gateway, rate_limited, unauthorized
from channel_sync.sandbox.hubspot.oauth import OAuthApi
from channel_sync.sandbox.hubspot.pipelines import STAGE_FOR_CANONICAL
from channel_sync.sandbox.hubspot.portal import Portal
from channel_sync.sandbox.hubspot.properties import CURRENCIES, PRODUCT_CODES
from channel_sync.sandbox.hubspot.search_request import SearchLimits
from channel_sync.sandbox.hubspot.values import format_ms, format_number, to_ms
from channel_sync.sandbox.seed import SeedDeal

OBJECTS = "/crm/v3/objects/{object_type}"
#: Seeded deals are spread one second apart, ending now, so their modification times are
#: realistic (and a change feed over them can page) instead of all sharing one millisecond.
SEED_SPACING_MS = 1000

_FAULT_CATEGORIES = {
    400: "VALIDATION_ERROR",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    409: "CONFLICT",
    423: "LOCKED",
    477: "MIGRATION_IN_PROGRESS",
}


class HubSpotBackend:
    """A partner's HubSpot portal (deals only), with limits matching a Professional account."""

    kind = "hubspot"

    def __init__(
        self,
        name: str,
        clock: Clock | None = None,
        *,
        daily_limit: int = 650_000,
        burst_limit: int | None = 190,
        burst_window_s: float = 10.0,
        search_per_second: int = 5,
        batch_limit: int = 100,
        token_ttl_s: float = 1800.0,
        search_limits: SearchLimits | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        portal_id: int = 24_681_357,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self.ledger = Ledger()
        self.faults = FaultBook()
        self.tokens = TokenBook(self.clock, prefix="pat-na1-", default_ttl_s=token_ttl_s)
        self.allowance = Allowance(daily_limit, burst_limit, burst_window_s)
        #: Search has its own per-second limit, separate from the ten-secondly one.
        self.search_allowance = Allowance(
            daily_limit=2**62, burst_limit=search_per_second, burst_window_s=1.0
        )
        self.portal = Portal(
            clock=self.clock,
            faults=self.faults,
            portal_id=portal_id,
            batch_limit=batch_limit,
            search_limits=search_limits or SearchLimits(),
        )
        self.client_id = client_id or secrets.token_hex(18)
        self.client_secret = client_secret or secrets.token_hex(18)
        self.oauth = OAuthApi(
            self.tokens, self.clock, client_id=self.client_id, client_secret=self.client_secret
        )
        self.gateway = Gateway(
            clock=self.clock,
            tokens=self.tokens,
            allowance=self.allowance,
            search_allowance=self.search_allowance,
            oauth_tokens=self.oauth.oauth_tokens,
        )
        self._routes = self._build_routes()

    def __repr__(self) -> str:
        return f"HubSpotBackend(name={self.name!r}, deals={len(self.portal.store)})"

    # -- SandboxBackend ------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return self._routes

    def reset(self) -> None:
        self.portal.store.clear()
        self.search_allowance.reset_usage()

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {"deals": [deal.to_wire() for deal in self.portal.store.all()]}

    def seed(self, deals: Sequence[SeedDeal]) -> None:
        store = self.portal.store
        end = self.portal.now_ms()
        count = len(deals)
        with store.lock:
            for i, deal in enumerate(deals):
                stamp = end - (count - 1 - i) * SEED_SPACING_MS
                store.create(seed_values(deal), stamp)

    def fault_response(self, rule: FaultRule) -> Response:
        status = rule.status or 500
        if status == 429:
            return rate_limited("burst").response()
        if status == 401:
            return unauthorized("invalid").response()
        category = _FAULT_CATEGORIES.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")
        message = f"Injected failure ({rule.id}): HTTP {status}"
        return HubSpotError(status=status, category=category, message=message).response()

    def settings(self) -> dict[str, Any]:
        limits = self.portal.search.limits
        return {
            "portal_id": self.portal.portal_id,
            "daily_limit": self.allowance.daily_limit,
            "burst_limit": self.allowance.burst_limit,
            "burst_window_s": self.allowance.burst_window_s,
            "search_per_second": self.search_allowance.burst_limit,
            "search_max_limit": limits.max_limit,
            "search_window": limits.window,
            "batch_limit": self.portal.batch_limit,
            "token_ttl_s": self.tokens.default_ttl_s,
            "client_id": self.client_id,
            "deals": len(self.portal.store),
        }

    # -- extras for tests and the demo ---------------------------------------------------------

    def authorize(self) -> str:
        """A one-time OAuth authorization code, as a completed app install would deliver it."""
        return self.oauth.authorize()

    # -- routing -------------------------------------------------------------------------------

    def _build_routes(self) -> list[BaseRoute]:
        guard = self.gateway.guard
        objects = ObjectsApi(self.portal)
        batch = BatchApi(self.portal)
        search = SearchApi(self.portal)
        meta = MetaApi(self.portal.now_iso())
        routes: list[BaseRoute] = [
            Route("/oauth/v1/token", self.oauth.token, methods=["POST"]),
            Route(OBJECTS, guard(objects.list), methods=["GET"]),
            Route(OBJECTS, guard(objects.create), methods=["POST"]),
            Route(OBJECTS + "/search", guard(search.search, search=True), methods=["POST"]),
            Route(OBJECTS + "/batch/read", guard(batch.read), methods=["POST"]),
            Route(OBJECTS + "/batch/create", guard(batch.create), methods=["POST"]),
            Route(OBJECTS + "/batch/update", guard(batch.update), methods=["POST"]),
            Route(OBJECTS + "/batch/upsert", guard(batch.upsert), methods=["POST"]),
            Route(OBJECTS + "/batch/archive", guard(batch.archive), methods=["POST"]),
            Route(OBJECTS + "/{deal_id}", guard(objects.get), methods=["GET"]),
            Route(OBJECTS + "/{deal_id}", guard(objects.update), methods=["PATCH"]),
            Route(OBJECTS + "/{deal_id}", guard(objects.archive), methods=["DELETE"]),
            Route("/crm/v3/properties/{object_type}", guard(meta.properties), methods=["GET"]),
            Route(
                "/crm/v3/properties/{object_type}/{property_name}",
                guard(meta.property),
                methods=["GET"],
            ),
            Route("/crm/v3/pipelines/{object_type}", guard(meta.pipelines), methods=["GET"]),
            Route(
                "/crm/v3/pipelines/{object_type}/{pipeline_id}",
                guard(meta.pipeline),
                methods=["GET"],
            ),
            Route(
                "/crm/v3/pipelines/{object_type}/{pipeline_id}/stages",
                guard(meta.stages),
                methods=["GET"],
            ),
            Route(
                "/crm/v3/pipelines/{object_type}/{pipeline_id}/stages/{stage_id}",
                guard(meta.stage),
                methods=["GET"],
            ),
        ]
        known = list(routes)

        async def fallback(request: Request) -> Response:
            # Starlette answers unknown paths and methods in plain text; clients expect JSON.
            if any(r.matches(request.scope)[0] == Match.PARTIAL for r in known):
                return method_not_allowed(request.method).response()
            return HubSpotError(
                status=404,
                category="OBJECT_NOT_FOUND",
                message=f"No API resource at {request.url.path}",
            ).response()

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        routes.append(Route("/{path:path}", fallback, methods=methods))
        return routes


def seed_values(deal: SeedDeal) -> dict[str, str | None]:
    """A generated deal as the partner would have entered it in HubSpot.

    The canonical id is left empty: a partner's own deals only get ``channel_sync_id`` once the
    sync engine has linked them.
    """
    close = datetime.combine(deal.close_date, time(0), tzinfo=UTC)
    products = [p for p in deal.products if p in PRODUCT_CODES]
    return {
        "dealname": deal.name,
        "dealstage": STAGE_FOR_CANONICAL[deal.stage],
        "amount": format_number(deal.amount),
        "deal_currency_code": deal.currency_code if deal.currency_code in CURRENCIES else None,
        "closedate": format_ms(to_ms(close)),
        "description": deal.description or None,
        "channel_sync_register": "true" if deal.register else "false",
        "channel_sync_customer_name": deal.company_name,
        "channel_sync_customer_domain": deal.domain,
        "channel_sync_customer_country": deal.country_code,
        "channel_sync_customer_industry": deal.industry,
        "channel_sync_products": ";".join(products) or None,
        "channel_sync_partner_contact_email": deal.contact_email,
    }
