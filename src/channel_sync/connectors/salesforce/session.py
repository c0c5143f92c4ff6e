"""The ``requests`` session every Salesforce call of one connection shares.

simple-salesforce takes a session, which is where the transport concerns go: the CA bundle to
trust (certificate checks never switched off, and not overridable by the environment), a
default timeout for every request (the library passes none), and a response hook that
remembers the last response's headers per thread, because the library's exceptions drop them
and ``Retry-After`` and ``Sforce-Limit-Info`` live there.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _Transport(HTTPAdapter):
    """Applies the connection's timeout and CA bundle to every request.

    The CA bundle is set here rather than on the session because ``requests`` lets
    ``REQUESTS_CA_BUNDLE`` in the environment override ``Session.verify``.
    """

    def __init__(self, timeout: tuple[float, float], ca_bundle: str | None) -> None:
        super().__init__(max_retries=0)
        self._timeout = timeout
        self._ca_bundle = ca_bundle

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        if self._ca_bundle is not None:
            kwargs["verify"] = self._ca_bundle
        return super().send(request, **kwargs)


class SalesforceSession:
    """A configured ``requests.Session`` plus the last response headers of each thread."""

    def __init__(
        self, *, ca_bundle: str | None = None, timeout: tuple[float, float] = (5.0, 120.0)
    ) -> None:
        self.session = requests.Session()
        if ca_bundle is not None:
            self.session.verify = ca_bundle
        adapter = _Transport(timeout, ca_bundle)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.hooks["response"].append(self._remember)
        self._local = threading.local()

    def _remember(self, response: requests.Response, **_: Any) -> None:
        self._local.headers = response.headers

    def forget(self) -> None:
        self._local.headers = {}

    @property
    def last_headers(self) -> Mapping[str, str]:
        headers: Mapping[str, str] = getattr(self._local, "headers", {})
        return headers

    def close(self) -> None:
        self.session.close()
