"""People and organisations named on a deal: the end customer and contacts."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from channel_sync.model.base import StrippedModel

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_domain(value: str) -> str:
    """``https://www.Example.com/about`` -> ``example.com``."""
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].rstrip(".")
    return text.removeprefix("www.")


class Customer(StrippedModel):
    """The end customer. Names follow AWS Partner Central's ``Customer.Account``."""

    company_name: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    domain: str | None = None
    country_code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    industry: Annotated[str, Field(max_length=120)] | None = None

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        domain = normalize_domain(value)
        if not _DOMAIN.match(domain):
            msg = f"not a domain name: {value!r}"
            raise ValueError(msg)
        return domain


class Contact(StrippedModel):
    """A person on the deal. Names follow AWS Partner Central's ``Contact``."""

    first_name: Annotated[str, Field(max_length=80)] | None = None
    last_name: Annotated[str, Field(max_length=80)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    business_title: Annotated[str, Field(max_length=120)] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _EMAIL.match(value):
            msg = f"not an e-mail address: {value!r}"
            raise ValueError(msg)
        return value.lower()
