"""A faithful local emulator of the Salesforce REST API for the Opportunity object."""

from channel_sync.sandbox.salesforce.backend import SalesforceBackend

__all__ = ["SalesforceBackend"]
