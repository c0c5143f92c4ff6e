"""A sandbox Salesforce org: one Opportunity table behind the REST API, OAuth and the sandbox
core's ledger, faults, tokens and allowance."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from channel_sync.clock import Clock, SystemClock
from channel_sync.model import Stage
from channel_sync.sandbox.core.allowance import Allowance
from channel_sync.sandbox.core.faults import FaultBook, FaultRule
from channel_sync.sandbox.core.ledger import Ledger
from channel_sync.sandbox.core.tokens import IssuedToken, TokenBook
from channel_sync.sandbox.salesforce import schema
from channel_sync.sandbox.salesforce.errors import NOT_FOUND_MESSAGE, SESSION_MESSAGE
from channel_sync.sandbox.salesforce.http import DEFAULT_VERSION, SalesforceHttp
from channel_sync.sandbox.salesforce.ids import IdFactory
from channel_sync.sandbox.salesforce.oauth import TokenEndpoint
from channel_sync.sandbox.salesforce.query import DEFAULT_BATCH, MAX_BATCH, MIN_BATCH, QueryService
from channel_sync.sandbox.salesforce.router import Router
from channel_sync.sandbox.salesforce.soql_eval import project
from channel_sync.sandbox.salesforce.store import OpportunityStore
from channel_sync.sandbox.salesforce.users import Directory, User

if TYPE_CHECKING:
    from channel_sync.sandbox.seed import SeedDeal

STAGE_NAMES = {
    Stage.PROSPECTING: "Prospecting",
    Stage.QUALIFICATION: "Qualification",
    Stage.PROPOSAL: "Proposal/Price Quote",
    Stage.NEGOTIATION: "Negotiation/Review",
    Stage.CLOSED_WON: "Closed Won",
    Stage.CLOSED_LOST: "Closed Lost",
}
_FAULT_ERRORS = {
    400: ("INVALID_INPUT", "The request could not be processed"),
    401: ("INVALID_SESSION_ID", SESSION_MESSAGE),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", NOT_FOUND_MESSAGE),
    429: ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
    502: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
    504: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
}
_UNKNOWN_MESSAGE = (
    "An unexpected error occurred. Please include this ErrorId if you contact support: "
    "0000000000-00000 (0)"
)
_UNKNOWN = ("UNKNOWN_EXCEPTION", _UNKNOWN_MESSAGE)


class SalesforceBackend:
    """One emulated org.

    Settings (all optional): ``client_id``, ``client_secret``, ``username``, ``password``,
    ``jwt_public_key`` (PEM key or certificate; RS256 signatures are verified when given),
    ``token_ttl_s`` (7200), ``rotate_refresh_tokens`` (True), ``daily_limit`` (100,000),
    ``burst_limit`` / ``burst_window_s`` (answered as ConcurrentPerOrgLongTxn),
    ``query_batch_size`` (2,000; 200..2,000) and ``extra_clients`` (a list of
    ``{"username", "client_id", "client_secret"}``: more connected apps, each its own user).
    """

    kind = "salesforce"

    def __init__(self, name: str, clock: Clock | None = None, **settings: Any) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self._settings = dict(settings)
        self.born = self.clock.now()
        self.org_id = IdFactory(schema.ORG_PREFIX, name).next()
        self.ledger = Ledger()
        self.faults = FaultBook()
        self.tokens = TokenBook(
            self.clock,
            prefix=self.org_id[:15] + "!",
            default_ttl_s=float(settings.get("token_ttl_s", 7200.0)),
        )
        burst = settings.get("burst_limit")
        self.allowance = Allowance(
            daily_limit=int(settings.get("daily_limit", 100_000)),
            burst_limit=int(burst) if burst is not None else None,
            burst_window_s=float(settings.get("burst_window_s", 10.0)),
        )
        self.directory = Directory(name)
        self.admin_user = self.directory.user(f"admin@{name}.sandbox", "Sandbox Admin")
        self.username = str(settings.get("username", f"integration@{name}.sandbox"))
        self.password = str(settings.get("password", secrets.token_urlsafe(16)))
        app = self.directory.add_client(
            self.username,
            client_id=settings.get("client_id"),
            client_secret=settings.get("client_secret"),
            jwt_public_key=settings.get("jwt_public_key"),
        )
        self.client_id = app.client_id
        self.client_secret = app.client_secret
        self.integration_user = self.directory.user(self.username)
        self.directory.passwords[self.username.lower()] = self.password
        for extra in settings.get("extra_clients", ()):
            self.directory.add_client(
                str(extra["username"]),
                client_id=extra.get("client_id"),
                client_secret=extra.get("client_secret"),
                jwt_public_key=extra.get("jwt_public_key"),
            )
        self.directory.token_owner[self.tokens.static_token] = self.integration_user.id
        self.store = OpportunityStore(name, self.clock, self._locked)
        self.queries = QueryService(self.store, self.clock, name)
        batch = int(settings.get("query_batch_size", DEFAULT_BATCH))
        self.queries.default_batch = max(MIN_BATCH, min(MAX_BATCH, batch))
        self.router = Router(self.store, self.queries, self.allowance, self.clock, self.born)
        self.oauth = TokenEndpoint(
            self.directory,
            self.tokens,
            self.clock,
            self.org_id,
            rotate_refresh_tokens=bool(settings.get("rotate_refresh_tokens", True)),
        )
        self._http = SalesforceHttp(self)

    def __repr__(self) -> str:
        return f"SalesforceBackend(name={self.name!r}, org_id={self.org_id!r})"

    def _locked(self, record_id: str | None, external_id: str | None) -> bool:
        return self.faults.is_locked(record_id, external_id)

    # -- the SandboxBackend protocol -----------------------------------------------------------
    def routes(self) -> Sequence[BaseRoute]:
        return self._http.routes()

    def reset(self) -> None:
        with self.store.lock:
            self.store.clear()
            self.queries.clear()

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        with self.store.lock:
            rows = list(self.store.records.values())
        return {schema.OBJECT_NAME: [project(r, schema.FIELDS, DEFAULT_VERSION) for r in rows]}

    def seed(self, deals: Sequence[SeedDeal]) -> None:
        with self.store.lock:
            for deal in deals:
                self.store.insert_trusted(_seed_values(deal), self.admin_user.id)

    def fault_response(self, rule: FaultRule) -> Response:
        status = rule.status or 500
        code, message = _FAULT_ERRORS.get(status, _UNKNOWN)
        headers = {
            "Sforce-Limit-Info": f"api-usage={self.allowance.used}/{self.allowance.daily_limit}"
        }
        return JSONResponse(
            [{"message": message, "errorCode": code}], status_code=status, headers=headers
        )

    def settings(self) -> dict[str, Any]:
        return {
            "api_versions": "42.0-62.0",
            "default_version": DEFAULT_VERSION,
            "org_id": self.org_id,
            "client_id": self.client_id,
            "username": self.username,
            "integration_user_id": self.integration_user.id,
            "admin_user_id": self.admin_user.id,
            "daily_limit": self.allowance.daily_limit,
            "burst_limit": self.allowance.burst_limit,
            "token_ttl_s": self.tokens.default_ttl_s,
            "query_batch_size": self.queries.default_batch,
            "collections_limit": 200,
            "composite_subrequests": 25,
            "rotate_refresh_tokens": self.oauth.rotate_refresh_tokens,
            "jwt_signature_checked": any(
                c.jwt_public_key is not None for c in self.directory.clients.values()
            ),
        }

    # -- helpers for tests and the demo --------------------------------------------------------
    def user_token(self, username: str, *, refresh: bool = False) -> IssuedToken:
        """An access token acting as ``username`` (created when new), e.g. to play a human user
        editing records in the CRM between sync runs."""
        with self.store.lock:
            user: User = self.directory.user(username)
            app = self.directory.clients[self.client_id]
            return self.oauth.issue(app, user, refresh=refresh)


def _seed_values(deal: SeedDeal) -> dict[str, Any]:
    return {
        "Name": deal.name[:120],
        "StageName": STAGE_NAMES[deal.stage],
        "Amount": deal.amount,
        "CurrencyIsoCode": deal.currency_code,
        "CloseDate": deal.close_date,
        "Description": deal.description,
        "Customer_Name__c": deal.company_name,
        "Customer_Domain__c": deal.domain,
        "Customer_Country__c": deal.country_code,
        "Customer_Industry__c": deal.industry,
        "Products__c": ";".join(p for p in schema.PRODUCTS if p in deal.products) or None,
        "Partner_Contact_Email__c": deal.contact_email,
        "Channel_Sync_Register__c": deal.register,
    }
