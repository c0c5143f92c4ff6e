"""channel-sync: keeps channel-sales deals in step between a vendor CRM and partner CRMs."""

__version__ = "0.1.0"
