"""One request to the emulated REST API, independent of HTTP, so Composite can replay
subrequests through exactly the code that serves top-level requests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from channel_sync.sandbox.salesforce.errors import json_parser_error

_NO_BODY = "The HTTP entity body is required, but this request has no entity body."


@dataclass
class ApiRequest:
    method: str
    version: str  # e.g. "59.0"
    parts: tuple[str, ...]  # path segments after /services/data/vXX.X/
    params: Mapping[str, list[str]]
    raw: str
    headers: Mapping[str, str]  # lower-case names
    user_id: str
    in_composite: bool = False

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else None

    def flag(self, name: str) -> bool:
        value = self.param(name)
        return value is not None and value.lower() == "true"

    def payload(self) -> Any:
        """The decoded JSON body; Salesforce's JSON_PARSER_ERROR when it cannot be read."""
        if not self.raw.strip():
            raise json_parser_error(_NO_BODY)
        try:
            return json.loads(self.raw)
        except json.JSONDecodeError as exc:
            char = self.raw[exc.pos] if exc.pos < len(self.raw) else "<EOF>"
            code = ord(char) if len(char) == 1 else -1
            raise json_parser_error(
                f"Unexpected character ('{char}' (code {code})): expected a valid value (JSON "
                "String, Number, Array, Object or token 'null', 'true' or 'false') at "
                f"[line:{exc.lineno}, column:{exc.colno}]"
            ) from None

    def object_payload(self, what: str) -> dict[str, Any]:
        body = self.payload()
        if not isinstance(body, dict):
            token = "START_ARRAY" if isinstance(body, list) else "VALUE_STRING"
            raise json_parser_error(
                f"Cannot deserialize instance of {what} from {token} value "
                f"{json.dumps(body)[:40]} or request may be missing a required field at "
                "[line:1, column:1]"
            )
        return body


@dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    records_read: int = 0
    records_written: int = 0
