"""Every HubSpot call goes through here: token, pacing, budget, retries, error translation.

The generated client builds a new ``ApiClient`` (and connection pool) on every attribute
access, so the API objects are built once and reused. Calls use the client's
``*_with_http_info`` methods without deserialising into models: the connector keeps remote
records as plain dicts, and the raw response carries the ``X-HubSpot-RateLimit-*`` headers the
limiter learns from. The client's own urllib3 retries are switched off so that this module's
policy is the only one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hubspot import HubSpot

from channel_sync.clock import Clock, default_clock
from channel_sync.connectors.hubspot.errors import translate
from channel_sync.connectors.protocol import ApiUsage
from channel_sync.connectors.ratelimit import ApiBudget, SlidingWindowLimiter
from channel_sync.connectors.retry import Retrier
from channel_sync.connectors.tokens import TokenManager
from channel_sync.errors import AuthError, BudgetExhaustedError, RateLimitedError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Answer:
    """A decoded 2xx answer."""

    status: int
    headers: Mapping[str, str]
    body: Any


@dataclass
class CallStats:
    """What this connector spent, for run statistics and tests."""

    calls: int = 0
    search_calls: int = 0
    auth_retries: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class HubSpotTransport:
    """The single path to the HubSpot API for one connection."""

    def __init__(
        self,
        *,
        host: str,
        tokens: TokenManager,
        retrier: Retrier,
        limiter: SlidingWindowLimiter,
        search_limiter: SlidingWindowLimiter,
        budget: ApiBudget,
        clock: Clock | None = None,
        timeout: tuple[float, float] = (5.0, 60.0),
        ssl_ca_cert: str | None = None,
    ) -> None:
        options: dict[str, Any] = {"host": host, "retry": False}
        if ssl_ca_cert is not None:
            options["ssl_ca_cert"] = ssl_ca_cert
        client = HubSpot(**options)
        deals = client.crm.deals
        self.basic_api = deals.basic_api
        self.batch_api = deals.batch_api
        self.search_api = deals.search_api
        self.properties_api = client.crm.properties.core_api
        self.host = host
        self.tokens = tokens
        self.retrier = retrier
        self.limiter = limiter
        self.search_limiter = search_limiter
        self.budget = budget
        self.clock = clock or default_clock()
        self.timeout = timeout
        self.stats = CallStats()

    @property
    def usage(self) -> ApiUsage:
        return self.budget.usage

    def call(
        self,
        method: Callable[..., Any],
        *,
        what: str,
        idempotent: bool,
        search: bool = False,
        **kwargs: Any,
    ) -> Answer:
        """Call a ``*_with_http_info`` client method under the retry policy."""
        return self.retrier.call(
            lambda: self._authorised(method, what=what, search=search, kwargs=kwargs),
            what=what,
            idempotent=idempotent,
        )

    def _authorised(
        self, method: Callable[..., Any], *, what: str, search: bool, kwargs: dict[str, Any]
    ) -> Answer:
        """One attempt; a refused token is replaced once (single-flight) and the call repeated."""
        token = self.tokens.token()
        try:
            return self._once(method, token.bearer(), what=what, search=search, kwargs=kwargs)
        except AuthError:
            self.tokens.invalidate(token)
            fresh = self.tokens.token()
            if fresh.value.get_secret_value() == token.value.get_secret_value():
                raise  # nothing new to offer: a static token was revoked or expired
            self.stats.auth_retries += 1
            return self._once(method, fresh.bearer(), what=what, search=search, kwargs=kwargs)

    def _once(
        self,
        method: Callable[..., Any],
        bearer: str,
        *,
        what: str,
        search: bool,
        kwargs: dict[str, Any],
    ) -> Answer:
        self.budget.check()
        (self.search_limiter if search else self.limiter).acquire()
        self.stats.calls += 1
        self.stats.search_calls += int(search)
        self.stats.by_operation[what] = self.stats.by_operation.get(what, 0) + 1
        try:
            raw = method(
                **kwargs,
                _preload_content=False,
                _request_timeout=self.timeout,
                _request_auth={
                    "type": "oauth2",
                    "in": "header",
                    "key": "Authorization",
                    "value": bearer,
                },
            )
            try:
                payload = raw.data
            finally:
                raw.release_conn()
            headers = dict(raw.headers)
            body = json.loads(payload) if payload else None
        except Exception as exc:  # noqa: BLE001 - translated at the boundary
            error = translate(exc, self.clock.now())
            self._after_error(error, search=search)
            raise error from None
        self._learn(headers)
        return Answer(int(raw.status), headers, body)

    def _after_error(self, error: Exception, *, search: bool) -> None:
        if isinstance(error, BudgetExhaustedError):
            self.budget.mark_exhausted()
        elif isinstance(error, RateLimitedError):
            limiter = self.search_limiter if search else self.limiter
            wait = error.retry_after if error.retry_after is not None else limiter.window_s
            limiter.hold(wait)

    def _learn(self, headers: Mapping[str, str]) -> None:
        lowered = {k.lower(): v for k, v in headers.items()}
        interval = _int_header(lowered, "x-hubspot-ratelimit-interval-milliseconds")
        self.limiter.observe(
            max_calls=_int_header(lowered, "x-hubspot-ratelimit-max"),
            window_s=interval / 1000 if interval else None,
            remaining=_int_header(lowered, "x-hubspot-ratelimit-remaining"),
        )
        daily = _int_header(lowered, "x-hubspot-ratelimit-daily")
        daily_remaining = _int_header(lowered, "x-hubspot-ratelimit-daily-remaining")
        if daily is not None and daily_remaining is not None:
            self.budget.observe(ApiUsage(used=daily - daily_remaining, limit=daily))
