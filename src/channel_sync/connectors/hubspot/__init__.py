"""The HubSpot connector (deals, CRM v3) on hubspot-api-client."""

from channel_sync.connectors.hubspot.connector import HubSpotConnector, HubSpotSettings
from channel_sync.connectors.hubspot.plugin import HubSpotPlugin, plugin

__all__ = ["HubSpotConnector", "HubSpotPlugin", "HubSpotSettings", "plugin"]
