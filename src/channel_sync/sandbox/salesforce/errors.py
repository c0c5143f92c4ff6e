"""Salesforce-shaped failures raised inside the emulator and turned into wire bodies at the edge.

Two shapes exist on the wire and clients depend on the difference: a top-level REST error is a
list of ``{"message", "errorCode", "fields"?}``; a per-record error inside sObject Collections
results uses ``statusCode`` instead of ``errorCode``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channel_sync.errors import ChannelSyncError

NOT_FOUND_MESSAGE = "The requested resource does not exist"
SESSION_MESSAGE = "Session expired or invalid"
LOCK_MESSAGE = "unable to obtain exclusive access to this record"
ROLLED_BACK_MESSAGE = (
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header"
)


@dataclass(frozen=True)
class RecordProblem:
    """Why one record was refused; the same facts render in both wire shapes."""

    code: str
    message: str
    fields: tuple[str, ...] = field(default=())

    def as_item_error(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}

    def as_rest_error(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            body["fields"] = list(self.fields)
        return body


class RefusedRecordError(ChannelSyncError):
    """One record of a write failed validation or could not be written."""

    def __init__(self, problem: RecordProblem) -> None:
        super().__init__(f"{problem.code}: {problem.message}")
        self.problem = problem


class SalesforceApiError(ChannelSyncError):
    """A request the emulated API refuses as a whole, with the status and body Salesforce uses."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        return [RecordProblem(self.code, self.message, self.fields).as_rest_error()]

    @classmethod
    def from_problem(cls, problem: RecordProblem, status: int = 400) -> SalesforceApiError:
        return cls(status, problem.code, problem.message, problem.fields)


def not_found(message: str = NOT_FOUND_MESSAGE) -> SalesforceApiError:
    return SalesforceApiError(404, "NOT_FOUND", message)


def json_parser_error(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "JSON_PARSER_ERROR", message)
