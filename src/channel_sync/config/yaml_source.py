"""Safe, located YAML for admin-edited files.

Files are parsed to events with PyYAML's safe parser and the data tree is built here, so that
nothing is ever constructed from a tag, every node keeps its line and column, and the hazards of
YAML are refused with a located message instead of being silently honoured: aliases (which also
defeats "billion laughs" expansion), non-core tags (``!!python/...``, custom ``!tags``), duplicate
and non-text keys, several documents in one file, absurd nesting and oversized files.

Plain scalars resolve by the YAML 1.2 core schema rather than PyYAML's YAML 1.1 rules, so
``country: NO`` stays the text ``"NO"`` and ``0755`` or ``1:30`` are not reinterpreted.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml import events

from channel_sync.config.problems import FileError, Problem, format_field, kind_of
from channel_sync.config.scalars import (
    CONSTRUCTORS,
    MAP,
    SCALAR_TAGS,
    SEQ,
    STR,
    resolve_plain,
    short_tag,
)

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_PROBLEMS = 20

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Loc = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed admin file: plain data plus where each node sits in the file."""

    path: Path
    data: Any
    member_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict, repr=False)
    value_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict, repr=False)
    migrated_from: int | None = None

    def locate(self, loc: Sequence[str | int]) -> tuple[int, int] | None:
        """1-based (line, column) of the node at ``loc``: the key for a mapping entry, the item
        for a list entry. A location that does not exist falls back to its nearest existing
        parent, so a missing key points at the mapping that should hold it."""
        key: Loc = tuple(loc)
        while True:
            if key in self.member_marks:
                return self.member_marks[key]
            if not key:
                return None
            key = key[:-1]

    def locate_value(self, loc: Sequence[str | int]) -> tuple[int, int] | None:
        """Like :meth:`locate`, but the value's own position (after the ``key:``)."""
        key: Loc = tuple(loc)
        if key in self.value_marks:
            return self.value_marks[key]
        return self.locate(key)


def load_document(path: Path) -> Document:
    """Read and parse ``path``; every failure is a :class:`FileError`, never a traceback."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_big(path, size)
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise FileError.single(path, "file not found") from None
    except IsADirectoryError:
        raise FileError.single(path, "is a directory, expected a YAML file") from None
    except OSError as exc:
        raise FileError.single(path, f"cannot read the file: {exc.strerror or exc}") from None
    return parse_document(raw, path)


def parse_document(raw: bytes, path: Path) -> Document:
    """Parse ``raw`` (the bytes of ``path``) into a :class:`Document`."""
    if len(raw) > MAX_FILE_BYTES:
        raise _too_big(path, len(raw))
    text = _decode(raw, path)
    return _Builder(path).build(text)


def _too_big(path: Path, size: int) -> FileError:
    return FileError.single(
        path,
        f"file is {size} bytes; the limit for an admin file is 1 MB ({MAX_FILE_BYTES} bytes)",
    )


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError.single(path, "file is UTF-16 encoded; save it as UTF-8", line=1, column=1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = raw.count(b"\n", 0, offset) + 1
        line_start = raw.rfind(b"\n", 0, offset) + 1
        column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
        bad = raw[offset : offset + 1].hex()
        raise FileError.single(
            path,
            f"file is not valid UTF-8: byte 0x{bad} at byte offset {offset}; save it as UTF-8",
            line=line,
            column=column,
        ) from None


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    loc: Loc
    start_mark: tuple[int, int] = (1, 1)
    key: str | None = None
    key_ok: bool = True
    key_mark: tuple[int, int] = (1, 1)


def _mark(event: events.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Builder:
    """Builds plain data from parser events, iteratively (no recursion), collecting problems."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.suppressed = 0
        self.member_marks: dict[Loc, tuple[int, int]] = {}
        self.value_marks: dict[Loc, tuple[int, int]] = {}

    def problem(self, mark: tuple[int, int] | None, loc: Sequence[str | int], msg: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self.suppressed += 1
            return
        line, column = mark if mark else (None, None)
        self.problems.append(Problem(self.path, line, column, format_field(loc), msg))

    def build(self, text: str) -> Document:
        root: Any = None
        root_mark: tuple[int, int] | None = None
        documents = 0
        try:
            for event in self._events(text):
                if isinstance(event, events.DocumentStartEvent):
                    documents += 1
                    if documents > 1:
                        self.problem(
                            _mark(event),
                            (),
                            "the file holds more than one YAML document ('---'); "
                            "keep one document per file",
                        )
                        break
                    root, root_mark = self._document(event)
        except _Abort:
            pass
        except yaml.MarkedYAMLError as exc:
            self._syntax_problem(exc, text)
        except yaml.YAMLError as exc:
            self._reader_problem(exc, text)
        if self.suppressed:
            more = f"{self.suppressed} more problems like these are not shown"
            self.problems.append(Problem(self.path, None, None, None, more))
        if self.problems:
            raise FileError(self.problems)
        if root is None:
            raise FileError.single(
                self.path,
                "file is empty (nothing but comments or blank lines); expected a mapping "
                "starting with 'version:'",
            )
        if not isinstance(root, dict):
            line, column = root_mark or (None, None)
            raise FileError.single(
                self.path,
                f"the top level must be a mapping of 'key: value' lines, found {kind_of(root)}",
                line=line,
                column=column,
            )
        self.member_marks[()] = root_mark or (1, 1)
        return Document(self.path, root, self.member_marks, self.value_marks)

    def _events(self, text: str) -> Iterator[events.Event]:
        self._loader = _Loader(text)
        try:
            while self._loader.check_event():
                yield self._loader.get_event()
        finally:
            self._loader.dispose()

    def _document(self, start: events.DocumentStartEvent) -> tuple[Any, tuple[int, int]]:
        stack: list[_Frame] = []
        root: Any = None
        root_mark = _mark(start)
        for event in self._events_until_document_end():
            if isinstance(event, events.MappingEndEvent | events.SequenceEndEvent):
                frame = stack.pop()
                if stack:
                    self._attach(stack, frame.container, frame.loc, frame.start_mark, event)
                else:
                    root, root_mark = frame.container, frame.start_mark
            elif isinstance(event, events.AliasEvent):
                self._alias(stack, event)
            elif isinstance(event, events.ScalarEvent):
                loc = self._child_loc(stack)
                value = self._scalar(event, loc)
                if stack:
                    self._attach(stack, value, loc, _mark(event), event)
                else:
                    root, root_mark = value, _mark(event)
            elif isinstance(event, events.CollectionStartEvent):
                stack.append(self._open(stack, event))
        return root, root_mark

    def _alias(self, stack: list[_Frame], event: events.AliasEvent) -> None:
        loc = self._child_loc(stack)
        self.problem(
            _mark(event),
            loc,
            f"aliases ('*{event.anchor}') are not allowed; write the value out in full",
        )
        top = stack[-1] if stack else None
        if top is not None and isinstance(top.container, dict) and top.key is None:
            top.key, top.key_ok = f"<alias key {len(top.container)}>", False
        elif top is not None:
            self._attach(stack, None, loc, _mark(event), event)

    def _open(self, stack: list[_Frame], event: events.CollectionStartEvent) -> _Frame:
        loc = self._child_loc(stack)
        mark = _mark(event)
        self._check_collection_tag(event, loc)
        if len(stack) >= MAX_DEPTH:
            self.problem(mark, loc[:1], f"nesting is deeper than {MAX_DEPTH} levels")
            raise _Abort
        is_key = bool(stack) and isinstance(stack[-1].container, dict) and stack[-1].key is None
        if stack and not is_key:
            self.value_marks[loc] = mark
        container: dict[str, Any] | list[Any] = (
            {} if isinstance(event, events.MappingStartEvent) else []
        )
        return _Frame(container, loc, start_mark=mark)

    def _events_until_document_end(self) -> Iterator[events.Event]:
        while self._loader.check_event():
            event = self._loader.get_event()
            if isinstance(event, events.DocumentEndEvent):
                return
            yield event

    @staticmethod
    def _child_loc(stack: list[_Frame]) -> Loc:
        if not stack:
            return ()
        top = stack[-1]
        if isinstance(top.container, list):
            return (*top.loc, len(top.container))
        if top.key is None:
            return top.loc
        return (*top.loc, top.key)

    def _scalar(self, event: events.ScalarEvent, loc: Loc) -> Any:
        tag = event.tag
        if tag == "!":  # the non-specific tag: "this is text"
            tag = STR
        elif tag is None:
            tag = resolve_plain(event.value) if event.implicit[0] else STR
        if tag not in SCALAR_TAGS:
            self.problem(_mark(event), loc, _tag_message(tag))
            return None
        try:
            return CONSTRUCTORS[tag](event.value)
        except ValueError:
            self.problem(
                _mark(event), loc, f"{event.value!r} is not a valid {short_tag(tag)} value"
            )
            return None

    def _check_collection_tag(self, event: events.CollectionStartEvent, loc: Loc) -> None:
        expected = MAP if isinstance(event, events.MappingStartEvent) else SEQ
        if event.tag not in (None, "!", expected):
            self.problem(_mark(event), loc, _tag_message(event.tag))

    def _attach(
        self,
        stack: list[_Frame],
        value: Any,
        loc: Loc,
        mark: tuple[int, int],
        event: events.Event,
    ) -> None:
        top = stack[-1]
        if isinstance(top.container, list):
            top.container.append(value)
            self.member_marks[loc] = mark
            return
        if top.key is None:
            self._take_key(top, value, mark, event)
            return
        if top.key_ok:
            top.container[top.key] = value
            self.member_marks[(*top.loc, top.key)] = top.key_mark
            if isinstance(event, events.ScalarEvent | events.AliasEvent):
                self.value_marks[(*top.loc, top.key)] = mark
        top.key = None

    def _take_key(
        self, top: _Frame, value: Any, mark: tuple[int, int], event: events.Event
    ) -> None:
        assert isinstance(top.container, dict)
        top.key_mark = mark
        if isinstance(value, str):
            top.key, top.key_ok = value, True
            if value == "<<" and isinstance(event, events.ScalarEvent) and event.implicit[0]:
                self.problem(mark, top.loc, "merge keys ('<<') are not allowed; write keys out")
                top.key_ok = False
            elif value in top.container:
                first = self.member_marks.get((*top.loc, value))
                where = f" (first defined on line {first[0]})" if first else ""
                self.problem(mark, (*top.loc, value), f"duplicate key {value!r}{where}")
                top.key_ok = False
            return
        message = f"keys must be text, found {kind_of(value)} key"
        if isinstance(event, events.ScalarEvent):
            message += f" {event.value!r}; quote it, e.g. '{event.value}':"
        self.problem(mark, top.loc, message)
        top.key, top.key_ok = f"<invalid key {len(top.container)}>", False

    def _syntax_problem(self, exc: yaml.MarkedYAMLError, text: str) -> None:
        mark = exc.problem_mark or exc.context_mark
        parts = [p for p in (exc.problem, exc.context) if p]
        message = "YAML syntax error: " + (parts[0] if parts else "invalid YAML")
        if len(parts) > 1:
            message += f" ({parts[1]}"
            started = exc.context_mark
            if started is not None and mark is not None and started.line != mark.line:
                message += f" started on line {started.line + 1}"
            message += ")"
        position = None
        if mark is not None:
            position = (mark.line + 1, mark.column + 1)
            lines = text.splitlines()
            line_text = lines[mark.line] if mark.line < len(lines) else ""
            if "\t" in line_text[: mark.column + 1]:
                message += "; tabs are not allowed for indentation, use spaces"
        self.problem(position, (), message)

    def _reader_problem(self, exc: yaml.YAMLError, text: str) -> None:
        position = getattr(exc, "position", None)
        character = getattr(exc, "character", None)
        if not isinstance(position, int):
            self.problem(None, (), f"YAML error: {exc}")
            return
        if _Loader is not yaml.SafeLoader:  # libyaml reports a byte offset
            position = len(text.encode("utf-8")[:position].decode("utf-8", errors="ignore"))
        before = text[:position]
        line = before.count("\n") + 1
        column = position - (before.rfind("\n") + 1) + 1
        code = ord(character) if isinstance(character, str) else character
        shown = f"#x{code:04x}" if isinstance(code, int) else "character"
        self.problem(
            (line, column),
            (),
            f"unacceptable character {shown}: control characters are not allowed in a YAML file",
        )


class _Abort(yaml.YAMLError):
    """Stops building after a problem that makes the rest of the file meaningless."""


def _tag_message(tag: str) -> str:
    shown = short_tag(tag)
    if shown.startswith("!!python"):
        return f"tag '{shown}' is refused: files are data and never construct Python objects"
    return (
        f"tag '{shown}' is not allowed; only plain YAML values (text, numbers, true/false, "
        "lists and mappings) are accepted"
    )
