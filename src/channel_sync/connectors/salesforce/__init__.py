"""The Salesforce connector (REST API) on simple-salesforce."""

from channel_sync.connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from channel_sync.connectors.salesforce.plugin import SalesforcePlugin, plugin

__all__ = ["SalesforceConnector", "SalesforcePlugin", "SalesforceSettings", "plugin"]
