"""A recursive-descent parser for the SOQL subset the emulator serves.

It follows Salesforce's grammar where the subset overlaps: AND and OR cannot be mixed without
parentheses, NOT may only open a condition, clauses come in their fixed order. Anything outside
the subset is refused the way an org refuses a syntax error (MALFORMED_QUERY with row and
column), so a client never gets a silently different answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final

from channel_sync.sandbox.salesforce import schema
from channel_sync.sandbox.salesforce.errors import SalesforceApiError
from channel_sync.sandbox.salesforce.ids import normalize_id
from channel_sync.sandbox.salesforce.schema import FieldSpec
from channel_sync.sandbox.salesforce.soql_ast import (
    BoolOp,
    Comparison,
    Condition,
    DateRange,
    Not,
    OrderItem,
    SoqlQuery,
    Value,
)
from channel_sync.sandbox.salesforce.soql_lexer import Token, located, malformed, tokenize
from channel_sync.sandbox.salesforce.values import parse_date, parse_datetime

MAX_OFFSET: Final = 2000
_RESERVED: Final = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "SELECT",
        "FROM",
        "WHERE",
        "ORDER",
        "BY",
        "LIMIT",
        "OFFSET",
        "NULL",
        "TRUE",
        "FALSE",
        "IN",
        "LIKE",
        "GROUP",
        "HAVING",
        "WITH",
        "FOR",
        "USING",
        "ASC",
        "DESC",
        "NULLS",
        "INCLUDES",
        "EXCLUDES",
    }
)
_RELATIVE_DATES: Final = ("TODAY", "YESTERDAY", "TOMORROW")
_RELATIVE_N: Final = ("LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO")
_NO_SUCH_COLUMN: Final = (
    "No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, "
    "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
    "describe call for the appropriate names."
)
_BAD_RELATIONSHIP: Final = (
    "Didn't understand relationship '{name}' in field path. If you are attempting to use a "
    "custom relationship, be sure to append the '__r' after the custom relationship name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_BAD_TYPE: Final = (
    "sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
    "sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
    "call for the appropriate names."
)


def parse(query: str, now: datetime) -> SoqlQuery:
    """Parse ``query``; ``now`` resolves relative date literals such as TODAY."""
    return _Parser(query, now).parse()


class _Parser:
    def __init__(self, query: str, now: datetime) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.pos = 0
        self.today = now.astimezone(UTC).date()

    # -- token helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "EOF":
            self.pos += 1
        return token

    def unexpected(self, token: Token | None = None) -> SalesforceApiError:
        token = token or self.tok
        shown = "<EOF>" if token.kind == "EOF" else f"'{token.text}'"
        return malformed(self.query, token.pos, f"unexpected token: {shown}")

    def expect_kw(self, word: str) -> Token:
        if not self.tok.is_kw(word):
            raise self.unexpected()
        return self.advance()

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            raise self.unexpected()
        return self.advance()

    def error(self, token: Token, code: str, detail: str) -> SalesforceApiError:
        return SalesforceApiError(400, code, located(self.query, token.pos, detail))

    # -- clauses -------------------------------------------------------------------------------
    def parse(self) -> SoqlQuery:
        self.expect_kw("SELECT")
        count, selected = self.select_list()
        self.expect_kw("FROM")
        entity = self.expect("IDENT")
        if "." in entity.text or entity.text.lower() != schema.OBJECT_NAME.lower():
            raise self.error(entity, "INVALID_TYPE", _BAD_TYPE.format(name=entity.text))
        fields = None if count else self.resolve_select(selected)
        where = None
        if self.tok.is_kw("WHERE"):
            self.advance()
            where = self.condition()
        order: tuple[OrderItem, ...] = ()
        if self.tok.is_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            order = self.order_list()
        limit = None
        if self.tok.is_kw("LIMIT"):
            self.advance()
            limit = self.integer()
        offset = 0
        if self.tok.is_kw("OFFSET"):
            self.advance()
            token = self.tok
            offset = self.integer()
            if offset > MAX_OFFSET:
                raise self.error(
                    token,
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"Maximum SOQL offset allowed is {MAX_OFFSET}",
                )
        if self.tok.kind != "EOF":
            raise self.unexpected()
        return SoqlQuery(fields, where, order, limit, offset)

    def select_list(self) -> tuple[bool, list[Token]]:
        if self.tok.is_kw("COUNT") and self.tokens[self.pos + 1].kind == "LPAREN":
            self.advance()
            self.advance()
            self.expect("RPAREN")
            if not self.tok.is_kw("FROM"):
                raise self.unexpected()
            return True, []
        selected = [self.select_item()]
        while self.tok.kind == "COMMA":
            self.advance()
            selected.append(self.select_item())
        return False, selected

    def field_token(self) -> Token:
        token = self.expect("IDENT")
        if token.text.upper() in _RESERVED:
            raise self.unexpected(token)
        return token

    def select_item(self) -> Token:
        token = self.field_token()
        if self.tok.kind == "LPAREN":
            raise self.unexpected(token)
        return token

    def resolve_select(self, tokens: list[Token]) -> tuple[FieldSpec, ...]:
        fields: list[FieldSpec] = []
        seen: set[str] = set()
        for token in tokens:
            spec = self.resolve_field(token)
            if spec.name in seen:
                raise self.error(token, "MALFORMED_QUERY", f"duplicate field selected: {spec.name}")
            seen.add(spec.name)
            fields.append(spec)
        return tuple(fields)

    def resolve_field(self, token: Token) -> FieldSpec:
        if "." in token.text:
            head = token.text.split(".", 1)[0]
            if head.lower() == schema.OBJECT_NAME.lower():
                token = Token(token.kind, token.text.split(".", 1)[1], token.pos)
            else:
                raise self.error(token, "INVALID_FIELD", _BAD_RELATIONSHIP.format(name=head))
            if "." in token.text:
                head = token.text.split(".", 1)[0]
                raise self.error(token, "INVALID_FIELD", _BAD_RELATIONSHIP.format(name=head))
        spec = schema.field(token.text)
        if spec is None:
            detail = _NO_SUCH_COLUMN.format(name=token.text, entity=schema.OBJECT_NAME)
            raise self.error(token, "INVALID_FIELD", detail)
        return spec

    def integer(self) -> int:
        token = self.expect("NUMBER")
        if not token.text.isdigit():
            raise self.unexpected(token)
        return int(token.text)

    def order_list(self) -> tuple[OrderItem, ...]:
        items = [self.order_item()]
        while self.tok.kind == "COMMA":
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        token = self.field_token()
        spec = self.resolve_field(token)
        if not spec.sortable:
            raise self.error(
                token, "INVALID_FIELD", f"field '{spec.name}' can not be sorted in a query call"
            )
        descending = False
        if self.tok.is_kw("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_first = not descending
        if self.tok.is_kw("NULLS"):
            self.advance()
            if not self.tok.is_kw("FIRST", "LAST"):
                raise self.unexpected()
            nulls_first = self.advance().text.upper() == "FIRST"
        return OrderItem(spec, descending, nulls_first)

    # -- conditions ----------------------------------------------------------------------------
    def condition(self) -> Condition:
        if self.tok.is_kw("NOT"):
            self.advance()
            return Not(self.simple())
        first = self.simple()
        if not self.tok.is_kw("AND", "OR"):
            return first
        op = self.tok.text.upper()
        items = [first]
        while self.tok.is_kw("AND", "OR"):
            if self.tok.text.upper() != op:
                raise self.unexpected()
            self.advance()
            items.append(self.simple())
        return BoolOp(op, tuple(items))

    def simple(self) -> Condition:
        if self.tok.kind == "LPAREN":
            self.advance()
            inner = self.condition()
            self.expect("RPAREN")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        token = self.field_token()
        spec = self.resolve_field(token)
        if not spec.filterable:
            raise self.error(
                token,
                "INVALID_FIELD",
                f"field '{spec.name}' can not be filtered in a query call",
            )
        if self.tok.kind == "OP":
            op = self.advance().text
            op = "!=" if op == "<>" else op
            return Comparison(spec, op, self.value(spec))
        if self.tok.is_kw("IN"):
            self.advance()
            return Comparison(spec, "IN", self.value_list(spec))
        if self.tok.is_kw("NOT"):
            self.advance()
            self.expect_kw("IN")
            return Comparison(spec, "NOTIN", self.value_list(spec))
        if self.tok.is_kw("LIKE"):
            like = self.advance()
            if not spec.is_text:
                raise self.error(like, "INVALID_FIELD", f"invalid operator on field '{spec.name}'")
            return Comparison(spec, "LIKE", self.value(spec))
        if self.tok.is_kw("INCLUDES", "EXCLUDES"):
            word = self.advance()
            if spec.type != "multipicklist":
                raise self.error(
                    word,
                    "INVALID_FIELD",
                    f"{word.text.lower()} operator is only valid on multi-select picklist "
                    f"fields: {spec.name}",
                )
            return Comparison(spec, word.text.upper(), self.value_list(spec))
        raise self.unexpected()

    def value_list(self, spec: FieldSpec) -> tuple[Value, ...]:
        self.expect("LPAREN")
        values = [self.value(spec)]
        while self.tok.kind == "COMMA":
            self.advance()
            values.append(self.value(spec))
        self.expect("RPAREN")
        return tuple(values)

    def value(self, spec: FieldSpec) -> Value:
        token = self.advance()
        if token.is_kw("NULL"):
            return None
        if token.kind == "COLON":
            raise self.unexpected(token)
        expected = spec.soql_type
        if token.kind == "STRING":
            if expected != "string":
                raise self.type_error(token, spec)
            if spec.type in schema.ID_TYPES:
                return self.id_value(token)
            return token.value
        if expected == "string":
            if token.kind in ("NUMBER", "DATE", "DATETIME") or token.is_kw("TRUE", "FALSE"):
                raise self.type_error(token, spec)
            raise self.unexpected(token)
        return self.typed_value(token, spec)

    def typed_value(self, token: Token, spec: FieldSpec) -> Value:
        expected = spec.soql_type
        if expected == "boolean" and token.is_kw("TRUE", "FALSE"):
            return token.text.upper() == "TRUE"
        if expected == "double" and token.kind == "NUMBER":
            try:
                return Decimal(token.text)
            except InvalidOperation as exc:
                raise self.unexpected(token) from exc
        if expected == "date" and token.kind == "DATE":
            parsed = parse_date(token.text)
            if parsed is None:
                raise self.unexpected(token)
            return parsed
        if expected == "dateTime" and token.kind == "DATETIME":
            moment = parse_datetime(token.text, require_offset=True)
            if moment is None:
                raise self.unexpected(token)
            return moment
        if expected in ("date", "dateTime") and token.kind == "IDENT":
            return self.relative_date(token)
        if token.kind in ("NUMBER", "DATE", "DATETIME") or token.is_kw("TRUE", "FALSE"):
            raise self.type_error(token, spec)
        raise self.unexpected(token)

    def relative_date(self, token: Token) -> DateRange:
        word = token.text.upper()
        day = self.today
        if word in _RELATIVE_DATES:
            shift = {"TODAY": 0, "YESTERDAY": -1, "TOMORROW": 1}[word]
            return _days(day + timedelta(days=shift), 1)
        if word in _RELATIVE_N:
            self.expect("COLON")
            count = self.integer()
            if word == "LAST_N_DAYS":
                return _days(day - timedelta(days=count), count + 1)
            if word == "NEXT_N_DAYS":
                return _days(day + timedelta(days=1), count)
            return _days(day - timedelta(days=count), 1)
        raise self.unexpected(token)

    def id_value(self, token: Token) -> str:
        if token.value == "":
            return ""
        normalized = normalize_id(token.value)
        if normalized is None:
            raise self.error(
                token, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {token.value}"
            )
        return normalized

    def type_error(self, token: Token, spec: FieldSpec) -> SalesforceApiError:
        expected = spec.soql_type
        if expected == "string":
            detail = (
                f"value of filter criterion for field '{spec.name}' must be of type string and "
                "should be enclosed in quotes"
            )
        else:
            detail = (
                f"value of filter criterion for field '{spec.name}' must be of type {expected} "
                "and should not be enclosed in quotes"
            )
        return self.error(token, "INVALID_FIELD", detail)


def _days(first: date, count: int) -> DateRange:
    start = datetime.combine(first, time(), UTC)
    return DateRange(start, start + timedelta(days=count))
