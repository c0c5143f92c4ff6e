"""Located problems in admin-edited files, and the error that carries them.

An admin fixes files in an editor, so every problem names the file, the line and column, and the
place in the document (``fields[3].remote``) before saying what is wrong; all problems of a file
are reported together so one run shows everything to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channel_sync.errors import ConfigurationError

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_field(loc: Sequence[str | int]) -> str | None:
    """Render a document location the way an admin reads it: ``fields[3].transforms[0].map``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or None


_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "text"),
    (list, "a list"),
    (dict, "a mapping"),
)


def kind_of(value: Any) -> str:
    """How an admin would name the kind of a YAML value: 'a list', 'text', 'an integer'."""
    if value is None:
        return "nothing (null)"
    for kind, name in _KINDS:
        if isinstance(value, kind):
            return name
    return type(value).__name__


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file, with where it is."""

    file: Path
    line: int | None
    column: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (str(self.file), self.line or 0, self.column or 0, self.message)


class FileError(ConfigurationError):
    """One or more problems in admin-edited files; ``str()`` gives one problem per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            msg = "FileError needs at least one problem"
            raise ValueError(msg)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls,
        file: Path,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> FileError:
        return cls([Problem(file=file, line=line, column=column, field=field, message=message)])
