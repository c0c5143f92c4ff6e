"""Company-pair files: ``name_a,domain_a,name_b,domain_b`` with a header, optionally ``label``.

The format the matcher is judged on (``channel-sync match-customers`` and the labelled set in
the test data). The whole file is read and checked before anything is matched, so a bad file
yields one ``file:line: message`` and no partial output.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from channel_sync.errors import ConfigurationError

COLUMNS = ("name_a", "domain_a", "name_b", "domain_b")
LABEL = "label"
_TRUE = frozenset({"1", "true", "yes", "y"})
_FALSE = frozenset({"0", "false", "no", "n"})


class PairFileError(ConfigurationError):
    """A pair file that cannot be read as a whole; the message names the file and line."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True, slots=True)
class CompanyPair:
    #: 1-based number of the pair among the file's data rows (the header is not a row).
    row: int
    #: The file line the pair starts on.
    line: int
    name_a: str
    domain_a: str
    name_b: str
    domain_b: str
    label: bool | None = None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.start + 1].hex()
        msg = f"not UTF-8: byte 0x{bad} at column {column}"
        raise PairFileError(path, line, msg) from None


def _header(path: Path, row: list[str], need_label: bool) -> dict[str, int]:
    names = [cell.strip().lower() for cell in row]
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise PairFileError(path, 1, f"column {name!r} appears twice in the header")
        seen[name] = index
    wanted = (*COLUMNS, LABEL) if need_label else COLUMNS
    missing = [c for c in wanted if c not in seen]
    if missing:
        msg = (
            f"header is missing column(s) {', '.join(missing)} "
            f"(expected {','.join(wanted)}, got {','.join(names) or 'nothing'})"
        )
        raise PairFileError(path, 1, msg)
    return seen


def _label(path: Path, line: int, value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise PairFileError(path, line, f"label must be 1 or 0, got {value!r}")


def parse_pairs(path: Path, text: str, *, need_label: bool = False) -> list[CompanyPair]:
    """Parse a whole pair file's text; :class:`PairFileError` names the first bad line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    pairs: list[CompanyPair] = []
    columns: dict[str, int] | None = None
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:
                continue
            if columns is None:
                columns = _header(path, record, need_label)
                continue
            if len(record) != len(columns):
                msg = f"expected {len(columns)} fields, got {len(record)}"
                raise PairFileError(path, line, msg)
            label = _label(path, line, record[columns[LABEL]]) if LABEL in columns else None
            name_a, domain_a, name_b, domain_b = (record[columns[c]] for c in COLUMNS)
            pairs.append(
                CompanyPair(len(pairs) + 1, line, name_a, domain_a, name_b, domain_b, label)
            )
    except csv.Error as exc:
        raise PairFileError(path, start, f"not valid CSV: {exc}") from None
    if columns is None:
        raise PairFileError(path, 1, f"empty file: expected the header {','.join(COLUMNS)}")
    return pairs


def read_pairs(path: Path, *, need_label: bool = False) -> list[CompanyPair]:
    """Read and check a whole pair file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PairFileError(path, None, f"cannot read the file ({exc.strerror})") from None
    return parse_pairs(path, _decode(path, data), need_label=need_label)
