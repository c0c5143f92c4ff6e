"""The safe located YAML loader: data, positions, and every hazard refused with a location."""

from __future__ import annotations

import os
import random
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from channel_sync.config import Document, FileError, load_document, parse_document
from channel_sync.config.yaml_source import MAX_DEPTH, MAX_FILE_BYTES, MAX_PROBLEMS

PATH = Path("connectors/x.yaml")


def parse(text: str | bytes) -> Document:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return parse_document(raw, PATH)


def refuse(text: str | bytes) -> FileError:
    with pytest.raises(FileError) as info:
        parse(text)
    return info.value


def test_plain_tree_with_positions() -> None:
    doc = parse(
        "version: 1\n"
        "fields:\n"
        "  - local: stage\n"
        "    map: {Open: prospecting, Won: closed_won}\n"
        "  - local: amount\n"
    )
    assert doc.data == {
        "version": 1,
        "fields": [
            {"local": "stage", "map": {"Open": "prospecting", "Won": "closed_won"}},
            {"local": "amount"},
        ],
    }
    assert doc.locate(["version"]) == (1, 1)
    assert doc.locate(["fields"]) == (2, 1)
    assert doc.locate(["fields", 0]) == (3, 5)
    assert doc.locate(["fields", 0, "map", "Won"]) == (4, 30)
    assert doc.locate_value(["fields", 0, "map", "Won"]) == (4, 35)
    assert doc.locate(["fields", 1, "local"]) == (5, 5)


def test_locate_missing_key_falls_back_to_nearest_parent() -> None:
    doc = parse("a: 1\nb:\n  c: 2\n")
    assert doc.locate(["b", "missing", "deeper"]) == (2, 1)
    assert doc.locate(["nowhere"]) == (1, 1)
    assert doc.locate([]) == (1, 1)


def test_core_schema_scalars_not_yaml_1_1_surprises() -> None:
    doc = parse(
        "country: NO\nflag: yes\nswitch: off\nmode: 0755\ntime: 1:30\nhex: 0x1F\noct: 0o17\n"
        "t: true\nf: False\nn: ~\nempty:\nfl: 1.5\nexp: 1e3\ninf: -.inf\nq: '12'\n"
        "date: 2024-01-31\n"
    )
    assert doc.data == {
        "country": "NO",
        "flag": "yes",
        "switch": "off",
        "mode": 755,
        "time": "1:30",
        "hex": 31,
        "oct": 15,
        "t": True,
        "f": False,
        "n": None,
        "empty": None,
        "fl": 1.5,
        "exp": 1000.0,
        "inf": float("-inf"),
        "q": "12",
        "date": "2024-01-31",
    }


def test_explicit_core_tags_are_honoured() -> None:
    doc = parse("a: !!str 12\nb: !!int '7'\nc: !!float '2'\nd: !!bool 'true'\ne: ! 3\n")
    assert doc.data == {"a": "12", "b": 7, "c": 2.0, "d": True, "e": "3"}


def test_utf8_bom_and_non_ascii_text_are_fine() -> None:
    doc = parse("\ufeffname: Société Générale\nnote: 日本\n")
    assert doc.data == {"name": "Société Générale", "note": "日本"}


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("a: &x 1\nb: *x\n", 2, 4, "aliases ('*x') are not allowed"),
        ("a: 1\n*x : 2\n", 2, 1, "aliases ('*x') are not allowed"),
        ("a: !!python/object/apply:os.system ['true']\n", 1, 4, "is refused"),
        ("a: !!python/name:os.system\n", 1, 4, "'!!python/name:os.system' is refused"),
        ("a: !Custom {x: 1}\n", 1, 4, "tag '!Custom' is not allowed"),
        ("a: !!set {x, y}\n", 1, 4, "tag '!!set' is not allowed"),
        ("a: !!timestamp 2024-01-01\n", 1, 4, "tag '!!timestamp' is not allowed"),
        ("a: !!int x\n", 1, 4, "'x' is not a valid !!int value"),
        ("a: !!null x\n", 1, 4, "'x' is not a valid !!null value"),
        ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first defined on line 1)"),
        ("1: x\n", 1, 1, "found an integer key '1'; quote it"),
        ("null: x\n", 1, 1, "found nothing (null) key 'null'"),
        ("? [a, b]\n: x\n", 1, 3, "keys must be text, found a list key"),
        ("a:\n  <<: {b: 1}\n", 2, 3, "merge keys ('<<') are not allowed"),
        ("- a\n- b\n", 1, 1, "the top level must be a mapping"),
        ("a: 1\n---\nb: 2\n", 2, 1, "more than one YAML document"),
        ("a: b: c\n", 1, 5, "YAML syntax error: mapping values are not allowed"),
        ("a:\n\tb: 1\n", 2, 1, "tabs are not allowed for indentation"),
        ("a: 1\nb: x\x07\n", 2, 5, "unacceptable character #x0007"),
        ("é: 1\nb: x\x00\n", 2, 5, "unacceptable character #x0000"),
    ],
)
def test_hazards_are_refused_with_a_location(
    text: str, line: int, column: int, fragment: str
) -> None:
    err = refuse(text)
    first = err.problems[0]
    assert (first.line, first.column) == (line, column), str(err)
    assert fragment in first.message
    assert str(first).startswith(f"{PATH}:{line}:{column}: ")


@pytest.mark.parametrize("text", ["", "# just a comment\n", "\n\n   \n", "---\n", "~\n"])
def test_empty_documents(text: str) -> None:
    err = refuse(text)
    assert "file is empty" in err.problems[0].message or "found nothing" in str(err)


def test_all_problems_of_a_file_are_reported_together() -> None:
    err = refuse("a: 1\na: 2\nb: *x\nc: !X 1\n")
    assert [p.line for p in err.problems] == [2, 3, 4]


def test_problem_flood_is_capped() -> None:
    text = "a: &a [1]\n" + "".join(f"k{i}: *a\n" for i in range(MAX_PROBLEMS + 15))
    err = refuse(text)
    assert len(err.problems) == MAX_PROBLEMS + 1
    assert err.problems[-1].message == "15 more problems like these are not shown"


def test_nesting_limit() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert parse(ok).data["a"] is not None
    err = refuse("a: " + "[" * 200 + "]" * 200 + "\n")
    assert f"nesting is deeper than {MAX_DEPTH} levels" in err.problems[0].message
    err = refuse("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "nesting" in err.problems[0].message


def test_non_utf8_reports_byte_offset_and_line() -> None:
    err = refuse(b"a: 1\nbb: caf\xe9\n")
    problem = err.problems[0]
    assert (problem.line, problem.column) == (2, 8)
    assert "byte 0xe9 at byte offset 12" in problem.message


def test_utf16_is_named() -> None:
    assert "UTF-16" in str(refuse("a: 1\n".encode("utf-16")))


def test_oversized_input_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(FileError) as info:
        load_document(big)
    assert "the limit for an admin file is 1 MB" in str(info.value)
    with pytest.raises(FileError):
        parse_document(big.read_bytes(), big)


def test_file_system_failures_are_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="file not found"):
        load_document(tmp_path / "absent.yaml")
    with pytest.raises(FileError, match="is a directory"):
        load_document(tmp_path)


def test_python_tags_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        f"a: !!python/object/apply:os.system ['touch {marker}']\n"
        f"b: !!python/object/apply:subprocess.check_call [['touch', '{marker}']]\n"
        f"c: !!python/object/new:pathlib.Path ['{marker}']\n"
    )
    err = refuse(text)
    assert len(err.problems) == 3
    assert not marker.exists()


# --- round trip: whatever safe_dump writes, the loader reads back, and can locate -------------

_TEXT = st.text(alphabet=string.ascii_letters + " -_é:#'\"", min_size=0, max_size=12)
_KEYS = st.text(alphabet=string.ascii_letters + "_-", min_size=1, max_size=8)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    _TEXT,
)
_TREES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_KEYS, children, max_size=4)
    ),
    max_leaves=25,
)
_SEED = int(os.environ.get("CHANNEL_SYNC_TEST_SEED", random.randrange(2**32)))
_EXAMPLES = int(os.environ.get("CHANNEL_SYNC_TEST_EXAMPLES", "75"))


def _paths(data: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


@seed(_SEED)
@settings(max_examples=_EXAMPLES, deadline=None)
@given(st.dictionaries(_KEYS, _TREES, min_size=1, max_size=6))
def test_round_trip_of_safe_dump(data: dict[str, Any]) -> None:
    print(f"seed={_SEED} (CHANNEL_SYNC_TEST_SEED), examples={_EXAMPLES}")
    for flow in (False, None):
        text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
        doc = parse(text)
        assert doc.data == data
        lines = text.splitlines()
        for path in _paths(data)[1:]:
            located = doc.locate(path)
            assert located is not None
            assert path in doc.member_marks, path
            line, column = located
            assert 1 <= line <= len(lines)
            assert 1 <= column <= len(lines[line - 1]) + 1


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("a: &x 1\nb: *x\n", 2, 4, "aliases ('*x') are not allowed"),
        ("a: !!python/object/apply:os.system ['true']\n", 1, 4, "is refused"),
        ("a: 1\na: 3\n", 2, 1, "duplicate key 'a'"),
        ("é: 1\nb: x\x00\n", 2, 5, "unacceptable character #x0000"),
        ("a:\n\tb: 1\n", 2, 1, "tabs are not allowed"),
    ],
)
def test_pure_python_parser_gives_the_same_answers(
    monkeypatch: pytest.MonkeyPatch, text: str, line: int, column: int, fragment: str
) -> None:
    """Installations without libyaml fall back to PyYAML's pure-Python parser."""
    from channel_sync.config import yaml_source  # noqa: PLC0415

    monkeypatch.setattr(yaml_source, "_Loader", yaml.SafeLoader)
    first = refuse(text).problems[0]
    assert (first.line, first.column) == (line, column)
    assert fragment in first.message
    assert parse("a: [1, {b: NO}]\n").data == {"a": [1, {"b": "NO"}]}
