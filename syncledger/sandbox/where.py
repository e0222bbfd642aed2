"""Xero's `where` and `order` query parameters: a small parser, type checker and evaluator.

Supports what clients send in practice (notes §1.1): comparisons `==`/`!=`/`<`/`<=`/`>`/`>=`
between fields (dotted paths such as `Contact.ContactID`) and literals (strings, numbers,
`true`/`false`/`null`, `GUID("...")`, `DateTime(2026,11,24)`), joined with `AND`/`&&`,
`OR`/`||`, `NOT`/`!` and parentheses, plus the string methods `StartsWith`, `EndsWith`,
`Contains`, `ToLower`, `ToUpper` and `Trim`. String comparisons ignore case and accents, as
Xero's do. Errors raise `WhereError` with .NET-flavoured messages like Xero's.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from syncledger.sandbox.errors import WhereError

T = TypeVar("T")

STRING = "string"
GUID = "guid"
NUMBER = "number"
BOOL = "bool"
DATE = "date"
NULL = "null"

_DOTNET = {
    STRING: "String",
    GUID: "Guid",
    NUMBER: "Decimal",
    BOOL: "Boolean",
    DATE: "DateTime",
    NULL: "Object",
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<>|<=|>=|&&|\|\||[<>=!(),.])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Field(Generic[T]):
    """A filterable field: its kind and how to read it from an item."""

    kind: str
    get: Callable[[T], Any]


def fold(text: str) -> str:
    """Case- and accent-insensitive comparison key."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokenise(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise WhereError(f"Syntax error at position {position} in '{text}'")
        kind = match.lastgroup or "op"
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class _Operand(Generic[T]):
    kind: str
    value: Callable[[T], Any]


class _Parser(Generic[T]):
    def __init__(self, text: str, fields: Mapping[str, Field[T]], type_name: str) -> None:
        self.text = text
        self.fields = fields
        self.type_name = type_name
        self.tokens = _tokenise(text)
        self.index = 0

    # token helpers -------------------------------------------------------------------------
    def _peek(self, offset: int = 0) -> _Token | None:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise WhereError(f"Unexpected end of expression in '{self.text}'")
        self.index += 1
        return token

    def _accept(self, *texts: str) -> bool:
        token = self._peek()
        if token is not None and token.kind in {"op", "ident"} and token.text.upper() in texts:
            self.index += 1
            return True
        return False

    def _expect(self, text: str) -> None:
        token = self._next()
        if token.text != text:
            raise WhereError(f"'{text}' expected at position {token.at} in '{self.text}'")

    # grammar -------------------------------------------------------------------------------
    def parse(self) -> Callable[[T], bool]:
        predicate = self._or()
        token = self._peek()
        if token is not None:
            raise WhereError(f"Syntax error '{token.text}' at position {token.at}")
        return predicate

    def _or(self) -> Callable[[T], bool]:
        parts = [self._and()]
        while self._accept("OR", "||"):
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda item: any(part(item) for part in parts)

    def _and(self) -> Callable[[T], bool]:
        parts = [self._not()]
        while self._accept("AND", "&&"):
            parts.append(self._not())
        if len(parts) == 1:
            return parts[0]
        return lambda item: all(part(item) for part in parts)

    def _not(self) -> Callable[[T], bool]:
        if self._accept("NOT", "!"):
            inner = self._not()
            return lambda item: not inner(item)
        return self._atom()

    def _atom(self) -> Callable[[T], bool]:
        token = self._peek()
        if token is not None and token.text == "(":
            self.index += 1
            inner = self._or()
            self._expect(")")
            return inner
        left = self._operand()
        op_token = self._peek()
        if op_token is not None and op_token.text in {"==", "=", "!=", "<>", "<", "<=", ">", ">="}:
            self.index += 1
            right = self._operand()
            return _compare(op_token.text, left, right)
        if left.kind != BOOL:
            raise WhereError(
                f"Expression of type '{_DOTNET[left.kind]}' expected to be of type 'Boolean'"
            )
        read = left.value
        return lambda item: read(item) is True

    def _operand(self) -> _Operand[T]:
        token = self._next()
        if token.kind == "string":
            text = re.sub(r"\\(.)", r"\1", token.text[1:-1])
            return _Operand(STRING, lambda _item: text)
        if token.kind == "number":
            number = Decimal(token.text)
            return _Operand(NUMBER, lambda _item: number)
        if token.kind != "ident":
            raise WhereError(f"Expression expected at position {token.at}")
        word = token.text.upper()
        if word in {"TRUE", "FALSE"}:
            flag = word == "TRUE"
            return _Operand(BOOL, lambda _item: flag)
        if word == "NULL":
            return _Operand(NULL, lambda _item: None)
        following = self._peek()
        if following is not None and following.text == "(" and word in {"GUID", "DATETIME"}:
            return self._constructor(word)
        return self._member(token)

    def _constructor(self, word: str) -> _Operand[T]:
        self._expect("(")
        args: list[_Token] = []
        while True:
            token = self._next()
            if token.text == ")":
                break
            if token.text != ",":
                args.append(token)
        if word == "GUID":
            if len(args) != 1 or args[0].kind != "string":
                raise WhereError("GUID(...) takes one string")
            guid = args[0].text[1:-1]
            return _Operand(GUID, lambda _item: guid)
        try:
            if len(args) == 1 and args[0].kind == "string":
                parsed = dt.datetime.fromisoformat(args[0].text[1:-1])
            else:
                numbers = [int(arg.text) for arg in args]
                numbers += [1, 1, 1, 0, 0, 0][len(numbers) :]
                year, month, day, hour, minute, second = numbers[:6]
                parsed = dt.datetime(year, month, day, hour, minute, second)
        except (TypeError, ValueError) as exc:
            raise WhereError(f"Invalid DateTime arguments: {exc}") from exc
        moment = parsed.replace(tzinfo=None)
        return _Operand(DATE, lambda _item: moment)

    def _member(self, first: _Token) -> _Operand[T]:
        path = [first.text]
        operand: _Operand[T] | None = None
        while True:
            token = self._peek()
            if token is None or token.text != ".":
                break
            self.index += 1
            name = self._next()
            if name.kind != "ident":
                raise WhereError(f"Identifier expected at position {name.at}")
            following = self._peek()
            if following is not None and following.text == "(":
                base = operand if operand is not None else self._field(path)
                operand = self._method(base, name.text)
            elif operand is not None:
                raise WhereError(f"No property or field '{name.text}' exists in type 'String'")
            else:
                path.append(name.text)
        return operand if operand is not None else self._field(path)

    def _field(self, path: Sequence[str]) -> _Operand[T]:
        key = ".".join(part.lower() for part in path)
        field = self.fields.get(key)
        if field is None:
            raise WhereError(f"No property or field '{path[-1]}' exists in type '{self.type_name}'")
        return _Operand(field.kind, field.get)

    def _method(self, base: _Operand[T], name: str) -> _Operand[T]:
        self._expect("(")
        method = name.lower()
        if base.kind not in {STRING, GUID}:
            raise WhereError(f"No applicable method '{name}' exists in type '{_DOTNET[base.kind]}'")
        read = base.value
        if method in {"tolower", "toupper", "trim", "tostring"}:
            self._expect(")")
            if method == "trim":
                return _Operand(STRING, lambda item: _strip(read(item)))
            return _Operand(STRING, read)
        if method in {"startswith", "endswith", "contains"}:
            argument = self._operand()
            self._expect(")")
            if argument.kind != STRING:
                raise WhereError(f"No applicable method '{name}' for argument types")
            needle = argument.value

            def call(item: T) -> bool:
                value = read(item)
                wanted = needle(item)
                if value is None or wanted is None:
                    return False
                hay, pin = fold(str(value)), fold(str(wanted))
                if method == "startswith":
                    return hay.startswith(pin)
                if method == "endswith":
                    return hay.endswith(pin)
                return pin in hay

            return _Operand(BOOL, call)
        raise WhereError(f"No applicable method '{name}' exists in type 'String'")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _compatible(left: str, right: str) -> bool:
    if NULL in {left, right}:
        return True
    textual = {STRING, GUID}
    if left in textual and right in textual:
        return True
    if {left, right} == {DATE, STRING}:
        return True
    return left == right


def _normalise(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in {STRING, GUID}:
        return fold(str(value))
    if kind == DATE:
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        parsed = dt.datetime.fromisoformat(str(value))
        return parsed.replace(tzinfo=None)
    return value


def _compare(op: str, left: _Operand[T], right: _Operand[T]) -> Callable[[T], bool]:
    if not _compatible(left.kind, right.kind):
        raise WhereError(
            f"Operator '{op}' incompatible with operand types "
            f"'{_DOTNET[left.kind]}' and '{_DOTNET[right.kind]}'"
        )
    if op in {"<", "<=", ">", ">="} and BOOL in {left.kind, right.kind}:
        raise WhereError(f"Operator '{op}' incompatible with operand types 'Boolean'")
    kind = left.kind if left.kind not in {NULL, STRING} else right.kind
    if kind == NULL:
        kind = STRING
    read_left, read_right = left.value, right.value

    def evaluate(item: T) -> bool:
        try:
            a = _normalise(kind, read_left(item))
            b = _normalise(kind, read_right(item))
        except ValueError:
            return False
        if op in {"==", "="}:
            return bool(a == b)
        if op in {"!=", "<>"}:
            return bool(a != b)
        if a is None or b is None:
            return False
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)

    return evaluate


def compile_where(text: str, fields: Mapping[str, Field[T]], type_name: str) -> Callable[[T], bool]:
    """Compile a `where` expression against `fields`; raises WhereError when it is invalid."""
    if not text.strip():
        return lambda _item: True
    return _Parser(text, fields, type_name).parse()


def sort_items(
    items: Sequence[T], order: str, fields: Mapping[str, Field[T]], type_name: str
) -> list[T]:
    """Sort by an `order` parameter such as `InvoiceNumber DESC, Date`."""
    result = list(items)
    keys: list[tuple[Field[T], bool]] = []
    for clause in order.split(","):
        words = clause.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in {"ASC", "DESC"}):
            raise WhereError(f"Syntax error in order clause '{clause.strip()}'")
        field = fields.get(words[0].lower())
        if field is None:
            raise WhereError(f"No property or field '{words[0]}' exists in type '{type_name}'")
        keys.append((field, len(words) == 2 and words[1].upper() == "DESC"))
    for field, descending in reversed(keys):
        kind, read = field.kind, field.get

        def key(item: T, kind: str = kind, read: Callable[[T], Any] = read) -> tuple[bool, Any]:
            value = _normalise(kind, read(item))
            return (value is not None, value if value is not None else 0)

        result.sort(key=key, reverse=descending)
    return result
