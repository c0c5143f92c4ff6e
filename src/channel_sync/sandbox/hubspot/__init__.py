"""A local emulator of HubSpot's CRM v3 deals API (objects, batch, search, properties,
pipelines, OAuth), for tests, benchmarks and the demo."""

from channel_sync.sandbox.hubspot.backend import HubSpotBackend

__all__ = ["HubSpotBackend"]
