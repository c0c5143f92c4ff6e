"""Admin-edited files: safe located YAML loading, validation, connection files and projects."""

from channel_sync.config.connection import (
    Connection,
    ConnectionFile,
    ResolvedConnection,
    Role,
    load_connection,
)
from channel_sync.config.migrations import MigrationRegistry, register
from channel_sync.config.problems import FileError, Problem, format_field
from channel_sync.config.project import Project
from channel_sync.config.schema import connection_json_schema, connection_schema_is_current
from channel_sync.config.validation import check_version, load_validated, problem_at, validate
from channel_sync.config.yaml_source import Document, load_document, parse_document

__all__ = [
    "Connection",
    "ConnectionFile",
    "Document",
    "FileError",
    "MigrationRegistry",
    "Problem",
    "Project",
    "ResolvedConnection",
    "Role",
    "check_version",
    "connection_json_schema",
    "connection_schema_is_current",
    "format_field",
    "load_connection",
    "load_document",
    "load_validated",
    "parse_document",
    "problem_at",
    "register",
    "validate",
]
