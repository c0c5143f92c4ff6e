"""The people in the demo, working in their own CRMs through the same client libraries a person's
tools would use: a partner's sales rep in HubSpot, another partner's rep in Salesforce, and the
vendor's channel manager in the vendor's Salesforce org.

Salesforce users act with their own user token (not the integration user's), so their edits
look to the org like any person's edits.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from hubspot import HubSpot
from hubspot.crm.deals import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import SalesforceExpiredSession
from simple_salesforce.format import format_soql

from channel_sync.sandbox import RunningInstance

SF_API_VERSION = "59.0"
T = TypeVar("T")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        msg = f"not a Salesforce field name: {name!r}"
        raise ValueError(msg)
    return name


class SalesforceUser:
    """A person in a (sandbox) Salesforce org."""

    def __init__(self, instance: RunningInstance, username: str) -> None:
        self.username = username
        self._instance = instance
        self._session = instance.requests_session()
        self._sf, self._opportunity = self._log_in()

    def _log_in(self) -> tuple[Salesforce, SFType]:
        """A fresh session (a person logs in again when the org says the session expired)."""
        token = self._instance.backend.user_token(self.username)  # type: ignore[attr-defined]
        sf = Salesforce(
            instance_url=self._instance.base_url,
            session_id=token.access_token,
            session=self._session,
            version=SF_API_VERSION,
            object_pairs_hook=dict,
        )
        opportunity = SFType(
            "Opportunity",
            token.access_token,
            self._instance.base_url.removeprefix("https://"),
            SF_API_VERSION,
            session=self._session,
            salesforce=sf,
            object_pairs_hook=dict,
        )
        return sf, opportunity

    def _call(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except SalesforceExpiredSession:
            self._sf, self._opportunity = self._log_in()
            return work()

    def close(self) -> None:
        self._session.close()

    def create(self, fields: Mapping[str, Any]) -> str:
        result = self._call(lambda: self._opportunity.create(dict(fields)))
        return str(result["id"])

    def update(self, record_id: str, fields: Mapping[str, Any]) -> None:
        self._call(lambda: self._opportunity.update(record_id, dict(fields)))

    def delete(self, record_id: str) -> None:
        self._call(lambda: self._opportunity.delete(record_id))

    def get(self, record_id: str) -> dict[str, Any]:
        record: dict[str, Any] = self._call(lambda: self._opportunity.get(record_id))
        return record

    def find(self, field: str, value: str, fields: Sequence[str]) -> list[dict[str, Any]]:
        """Opportunities whose ``field`` equals ``value`` (a SOQL query, as a report would)."""
        names = [_identifier(n) for n in ("Id", *fields)]
        # Field names are checked identifiers; the value travels through format_soql.
        template = f"SELECT {', '.join(names)} FROM Opportunity WHERE {_identifier(field)} = {{}}"  # noqa: S608
        soql = format_soql(template, value)
        records: list[dict[str, Any]] = self._call(lambda: self._sf.query_all(soql))["records"]
        return records

    def all_text(self) -> str:
        """Every opportunity's text fields run together, for isolation checks."""
        soql = (
            "SELECT Name, Description, Customer_Name__c, Customer_Domain__c, "
            "Registration_Decision_Reason__c, Channel_Conflict_Evidence__c, "
            "Vendor_Registration_Decision_Reason__c, Vendor_Co_Sell_Notes__c FROM Opportunity"
        )
        rows = self._call(lambda: self._sf.query_all(soql))["records"]
        return "\n".join(
            str(v) for row in rows for k, v in row.items() if k != "attributes" and v is not None
        )


class HubSpotUser:
    """A person in a (sandbox) HubSpot portal."""

    def __init__(self, instance: RunningInstance) -> None:
        self._client = HubSpot(
            access_token=instance.access_token, host=instance.base_url, base_url=instance.base_url
        )
        self._deals = self._client.crm.deals.basic_api
        #: ``time.monotonic()`` of this person's last write (the demo waits for it to settle).
        self.last_write = 0.0

    def close(self) -> None:
        self._deals.api_client.rest_client.pool_manager.clear()
        self._deals.api_client.close()

    def create(self, properties: Mapping[str, str]) -> str:
        deal = self._deals.create(SimplePublicObjectInputForCreate(properties=dict(properties)))
        self.last_write = time.monotonic()
        return str(deal.id)

    def update(self, deal_id: str, properties: Mapping[str, str]) -> None:
        self._deals.update(deal_id, SimplePublicObjectInput(properties=dict(properties)))
        self.last_write = time.monotonic()

    def get(self, deal_id: str, properties: Sequence[str]) -> dict[str, str | None]:
        deal = self._deals.get_by_id(deal_id, properties=list(properties))
        found: dict[str, str | None] = dict(deal.properties)
        return found

    def all_text(self) -> str:
        """Every deal's properties run together, for isolation checks."""
        texts: list[str] = []
        after: str | None = None
        while True:
            page = self._deals.get_page(
                limit=100, after=after, properties=_TEXT_PROPERTIES, archived=False
            )
            for deal in page.results:
                texts.extend(str(v) for v in deal.properties.values() if v)
            if page.paging is None or page.paging.next is None:
                return "\n".join(texts)
            after = page.paging.next.after


_TEXT_PROPERTIES = [
    "dealname",
    "description",
    "channel_sync_customer_name",
    "channel_sync_customer_domain",
    "channel_sync_decision_reason",
    "channel_sync_co_sell_notes",
    "channel_sync_next_step",
    "channel_sync_registration_number",
]
