"""Tokens of the SOQL subset, with the column each starts at so errors can point at it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from channel_sync.sandbox.salesforce.errors import SalesforceApiError

_ESCAPES: Final = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
_DATETIME: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})?(?![\w:.])"
)
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}(?![\w:.\-])")
_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?![\w.])")
_IDENT: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_OPERATORS: Final = ("<=", ">=", "!=", "<>", "=", "<", ">")
_PUNCT: Final = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", ":": "COLON"}


@dataclass(frozen=True)
class Token:
    kind: str  # IDENT STRING NUMBER DATE DATETIME OP LPAREN RPAREN COMMA COLON EOF
    text: str
    pos: int  # 0-based offset into the query
    value: str = ""  # decoded value of a STRING (LIKE escapes kept as \% and \_)

    def is_kw(self, *words: str) -> bool:
        return self.kind == "IDENT" and self.text.upper() in words


def malformed(query: str, pos: int, detail: str) -> SalesforceApiError:
    return SalesforceApiError(400, "MALFORMED_QUERY", located(query, pos, detail))


def located(query: str, pos: int, detail: str) -> str:
    """Salesforce's query error text: the query, a caret under the spot, row and column."""
    line_start = query.rfind("\n", 0, pos) + 1
    line_end = query.find("\n", pos)
    line = query[line_start : line_end if line_end >= 0 else len(query)]
    row = query.count("\n", 0, pos) + 1
    col = pos - line_start + 1
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}"


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    size = len(query)
    while pos < size:
        char = query[pos]
        if char.isspace():
            pos += 1
            continue
        if char == "'":
            token, pos = _string(query, pos)
            tokens.append(token)
            continue
        matched = _match_literal(query, pos)
        if matched is not None:
            tokens.append(matched)
            pos += len(matched.text)
            continue
        op = next((o for o in _OPERATORS if query.startswith(o, pos)), None)
        if op is not None:
            tokens.append(Token("OP", op, pos))
            pos += len(op)
            continue
        if char in _PUNCT:
            tokens.append(Token(_PUNCT[char], char, pos))
            pos += 1
            continue
        ident = _IDENT.match(query, pos)
        if ident is not None:
            tokens.append(Token("IDENT", ident.group(), pos))
            pos = ident.end()
            continue
        raise malformed(query, pos, f"unexpected token: '{char}'")
    tokens.append(Token("EOF", "<EOF>", size))
    return tokens


def _match_literal(query: str, pos: int) -> Token | None:
    for kind, pattern in (("DATETIME", _DATETIME), ("DATE", _DATE), ("NUMBER", _NUMBER)):
        found = pattern.match(query, pos)
        if found is not None:
            return Token(kind, found.group(), pos)
    return None


def _string(query: str, start: int) -> tuple[Token, int]:
    out: list[str] = []
    pos = start + 1
    while pos < len(query):
        char = query[pos]
        if char == "'":
            text = query[start : pos + 1]
            return Token("STRING", text, start, "".join(out)), pos + 1
        if char == "\\":
            if pos + 1 >= len(query):
                break
            nxt = query[pos + 1]
            if nxt.lower() in _ESCAPES:
                out.append(_ESCAPES[nxt.lower()])
            elif nxt in "%_":
                out.append("\\" + nxt)
            elif nxt in "uU" and re.fullmatch(r"[0-9a-fA-F]{4}", query[pos + 2 : pos + 6]):
                out.append(chr(int(query[pos + 2 : pos + 6], 16)))
                pos += 4
            else:
                literal = query[start : min(len(query), pos + 2)]
                detail = (
                    f"Invalid string literal '{literal}'. Illegal character sequence "
                    f"'\\{nxt}' in string literal."
                )
                raise malformed(query, start, detail)
            pos += 2
            continue
        out.append(char)
        pos += 1
    raise malformed(query, start, f"line 1:{start} mismatched character '<EOF>' expecting '''")
