"""The state store: canonical deals, links and bases, cursors, conflicts, the outbox, the audit
trail, runs, quarantined records, leases and encrypted credentials, on SQLite or PostgreSQL.

``open_store()`` migrates and opens it; ``docs/store.md`` describes the tables and transactions.
"""

from channel_sync.store.audit import AuditEvent, Direction
from channel_sync.store.conflicts import Conflict, ConflictSide, ConflictStatus
from channel_sync.store.credentials import CredentialCipher, Credentials
from channel_sync.store.cursors import CursorState
from channel_sync.store.errors import (
    ConcurrentUpdateError,
    CredentialKeyError,
    DuplicateLinkError,
    IntegrityRuleError,
    LeaseContendedError,
    MissingRowError,
    StaleLeaseError,
    StoreBusyError,
    TenantViolationError,
    UnstorableValueError,
)
from channel_sync.store.failures import FailedRecord
from channel_sync.store.leases import Lease
from channel_sync.store.links import Link
from channel_sync.store.migrate import migrate
from channel_sync.store.outbox import Batch, OutboxEntry, OutboxOp, OutboxStatus
from channel_sync.store.records import StoredRecord
from channel_sync.store.runs import Run, RunStatus
from channel_sync.store.settings import StoreSettings
from channel_sync.store.store import Store, StoreStatus, open_store
from channel_sync.store.transaction import Transaction, UnitOfWork
from channel_sync.store.values import (
    DELETED,
    decode_fields,
    decode_value,
    encode_fields,
    encode_value,
    normalize_fields,
)

__all__ = [
    "DELETED",
    "AuditEvent",
    "Batch",
    "ConcurrentUpdateError",
    "Conflict",
    "ConflictSide",
    "ConflictStatus",
    "CredentialCipher",
    "CredentialKeyError",
    "Credentials",
    "CursorState",
    "Direction",
    "DuplicateLinkError",
    "FailedRecord",
    "IntegrityRuleError",
    "Lease",
    "LeaseContendedError",
    "Link",
    "MissingRowError",
    "OutboxEntry",
    "OutboxOp",
    "OutboxStatus",
    "Run",
    "RunStatus",
    "StaleLeaseError",
    "Store",
    "StoreBusyError",
    "StoreSettings",
    "StoreStatus",
    "StoredRecord",
    "TenantViolationError",
    "Transaction",
    "UnitOfWork",
    "UnstorableValueError",
    "decode_fields",
    "decode_value",
    "encode_fields",
    "encode_value",
    "migrate",
    "normalize_fields",
    "open_store",
]
