"""Web domains as evidence that two deals name the same customer.

A customer's domain is the strongest evidence there is, but only at the level a company
registers: ``eu.acme.com`` and ``acme.com`` are one company, ``acme.co.uk`` and ``bravo.co.uk``
are two, and so are ``acme.myshopify.com`` and ``bravo.myshopify.com``. A free mail domain
(``gmail.com``) is shared by countless unrelated small customers and proves nothing.
"""

from __future__ import annotations

import re

from channel_sync.model import normalize_domain
from channel_sync.workflow.match_vocabulary import (
    MULTI_LABEL_SUFFIXES,
    PLATFORM_SUFFIXES,
    PUBLIC_MAIL_DOMAINS,
)

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def registrable_domain(value: str | None) -> str | None:
    """The domain a company registered, from a domain, URL or e-mail address; ``None`` if none.

    ``https://shop.eu.acme.co.uk/x`` -> ``acme.co.uk``; ``jane@sales.acme.com`` -> ``acme.com``.
    """
    if not value or not value.strip():
        return None
    text = value.strip().rsplit("@", 1)[-1]
    domain = normalize_domain(text)
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if not labels[-1].isalpha():
        return None  # an IP address or a typo, not a registered name
    if domain in MULTI_LABEL_SUFFIXES or domain in PLATFORM_SUFFIXES:
        return None  # a bare public suffix such as "co.uk"
    keep = 2
    for size in (3, 2):
        suffix = ".".join(labels[-size:])
        if len(labels) > size and (suffix in MULTI_LABEL_SUFFIXES or suffix in PLATFORM_SUFFIXES):
            keep = size + 1
            break
    return ".".join(labels[-keep:])


def is_public_mail_domain(domain: str) -> bool:
    return domain in PUBLIC_MAIL_DOMAINS


def evidence_domain(value: str | None) -> str | None:
    """The registrable domain when it can identify a customer, else ``None``."""
    domain = registrable_domain(value)
    if domain is None or is_public_mail_domain(domain):
        return None
    return domain
