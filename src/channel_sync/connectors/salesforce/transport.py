"""Every Salesforce call goes through here: token, budget, retries, error translation.

simple-salesforce is used in "direct" mode (a session id and an instance URL): logging in and
refreshing are the :class:`~channel_sync.connectors.tokens.TokenManager`'s job, so refresh is
proactive and single-flight instead of the library's re-login on every 401. A client object is
built per access token (no network involved) and shares one ``requests`` session.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from simple_salesforce.api import Salesforce

from channel_sync.clock import Clock, default_clock
from channel_sync.connectors.protocol import ApiUsage
from channel_sync.connectors.ratelimit import ApiBudget
from channel_sync.connectors.retry import Retrier
from channel_sync.connectors.salesforce.errors import translate
from channel_sync.connectors.salesforce.session import SalesforceSession
from channel_sync.connectors.tokens import AccessToken, TokenManager
from channel_sync.errors import AuthError, BudgetExhaustedError, ConfigurationError

T = TypeVar("T")

DEFAULT_API_VERSION = "59.0"
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """``Sforce-Limit-Info: api-usage=18/5000[; per-app-api-usage=...]`` as usage."""
    if not header:
        return None
    match = _USAGE.search(header)
    if match is None:
        return None
    return ApiUsage(used=int(match.group(1)), limit=int(match.group(2)))


@dataclass
class CallStats:
    calls: int = 0
    auth_retries: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)


class SalesforceTransport:
    """The single path to one org's REST API."""

    def __init__(
        self,
        *,
        tokens: TokenManager,
        retrier: Retrier,
        budget: ApiBudget,
        http: SalesforceSession,
        instance_url: str | None = None,
        version: str = DEFAULT_API_VERSION,
        clock: Clock | None = None,
    ) -> None:
        self.tokens = tokens
        self.retrier = retrier
        self.budget = budget
        self.http = http
        self.instance_url = instance_url
        self.version = version.removeprefix("v")
        self.clock = clock or default_clock()
        self.stats = CallStats()
        self._clients: dict[int, tuple[AccessToken, Salesforce]] = {}
        self._lock = threading.Lock()

    @property
    def usage(self) -> ApiUsage:
        return self.budget.usage

    def data_path(self) -> str:
        """The versioned REST path prefix (for Composite subrequest URLs)."""
        return f"/services/data/v{self.version}"

    def call(self, fn: Callable[[Salesforce], T], *, what: str, idempotent: bool) -> T:
        return self.retrier.call(
            lambda: self._authorised(fn, what), what=what, idempotent=idempotent
        )

    def _authorised(self, fn: Callable[[Salesforce], T], what: str) -> T:
        token = self.tokens.token()
        try:
            return self._once(fn, token, what)
        except AuthError:
            self.tokens.invalidate(token)
            fresh = self.tokens.token()
            if fresh.value.get_secret_value() == token.value.get_secret_value():
                raise  # nothing new to offer: a static token was revoked or expired
            self.stats.auth_retries += 1
            return self._once(fn, fresh, what)

    def _once(self, fn: Callable[[Salesforce], T], token: AccessToken, what: str) -> T:
        self.budget.check()
        client = self._client(token)
        self.stats.calls += 1
        self.stats.by_operation[what] = self.stats.by_operation.get(what, 0) + 1
        self.http.forget()
        try:
            result = fn(client)
        except Exception as exc:  # noqa: BLE001 - translated at the boundary
            headers = self.http.last_headers
            self._learn(headers)
            error = translate(exc, headers, self.clock.now())
            if isinstance(error, BudgetExhaustedError):
                self.budget.mark_exhausted()
            raise error from None
        self._learn(self.http.last_headers)
        return result

    def _learn(self, headers: Mapping[str, str]) -> None:
        usage = parse_limit_info(headers.get("Sforce-Limit-Info"))
        if usage is not None:
            self.budget.observe(usage)

    def _client(self, token: AccessToken) -> Salesforce:
        with self._lock:
            cached = self._clients.get(id(token))
            if cached is not None and cached[0] is token:
                return cached[1]
            instance = token.instance_url or self.instance_url
            if not instance:
                msg = "Salesforce connection has no instance URL (and the login gave none)"
                raise ConfigurationError(msg)
            client = Salesforce(
                session_id=token.value.get_secret_value(),
                instance_url=instance,
                session=self.http.session,
                version=self.version,
                object_pairs_hook=dict,
            )
            self._clients = {id(token): (token, client)}
            return client
