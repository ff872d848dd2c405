"""The condition language of conditional requirements.

A conditional requirement applies only when a module declares certain optional
features in its manifest, e.g. ``insulation_monitoring and not weld_detection``.
The language is deliberately tiny so that every tool (validator, test selection,
docs) reads it the same way and no YAML value is ever handed to ``eval``::

    expr := or
    or   := and ("or" and)*
    and  := not ("and" not)*
    not  := "not" not | atom
    atom := FEATURE_ID | "(" expr ")"

``not`` binds tightest, then ``and``, then ``or``. Feature ids are lower_snake_case;
the words ``and``, ``or``, ``not`` are reserved.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

KEYWORDS = frozenset({"and", "or", "not"})
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[()])|(?P<other>\S))")


class ConditionError(ValueError):
    """A condition that does not parse; ``position`` is the 0-based character offset."""

    def __init__(self, text: str, position: int, expected: str, found: str) -> None:
        self.text = text
        self.position = position
        self.expected = expected
        self.found = found
        super().__init__(
            f"in condition {text!r} at column {position + 1}: expected {expected}, found {found}"
        )


@dataclass(frozen=True)
class Feature:
    """True when the module declares this feature."""

    id: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Feature | Not | And | Or


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "keyword", "(", ")", "other", "end"
    text: str
    position: int

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the condition"
        if self.kind == "keyword":
            return f"the keyword '{self.text}'"
        if self.kind == "name":
            return f"feature id '{self.text}'"
        return f"'{self.text}'"


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:  # only whitespace left
            break
        start = m.start(m.lastgroup) if m.lastgroup else m.end()
        value = m.group(m.lastgroup) if m.lastgroup else ""
        if m.lastgroup == "name":
            kind = "keyword" if value in KEYWORDS else "name"
        elif m.lastgroup == "punct":
            kind = value
        else:
            kind = "other"
        out.append(_Token(kind, value, start))
        pos = m.end()
    out.append(_Token("end", "", len(text.rstrip())))
    return out


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def fail(self, expected: str) -> ConditionError:
        tok = self.peek
        return ConditionError(self.text, tok.position, expected, tok.describe())

    def accept_keyword(self, word: str) -> bool:
        if self.peek.kind == "keyword" and self.peek.text == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.or_()
        if self.peek.kind != "end":
            raise self.fail("'and', 'or' or the end of the condition")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.accept_keyword("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.accept_keyword("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_(self) -> Node:
        if self.accept_keyword("not"):
            return Not(self.not_())
        return self.atom()

    def atom(self) -> Node:
        tok = self.peek
        if tok.kind == "name":
            if not re.fullmatch(r"[a-z][a-z0-9_]*", tok.text):
                raise self.fail("a lower_snake_case feature id")
            self.i += 1
            return Feature(tok.text)
        if tok.kind == "(":
            self.i += 1
            node = self.or_()
            if self.peek.kind != ")":
                raise self.fail("')' to close the '(' at column " + str(tok.position + 1))
            self.i += 1
            return node
        raise self.fail("a feature id, 'not' or '('")


@functools.lru_cache(maxsize=256)
def parse(text: str) -> Node:
    """Parse a condition; raises :class:`ConditionError` naming the column and what was expected."""
    return _Parser(text).parse()


def _names(node: Node) -> set[str]:
    if isinstance(node, Feature):
        return {node.id}
    if isinstance(node, Not):
        return _names(node.operand)
    return set().union(*(_names(n) for n in node.operands))


def _evaluate(node: Node, declared: set[str] | frozenset[str]) -> bool:
    if isinstance(node, Feature):
        return node.id in declared
    if isinstance(node, Not):
        return not _evaluate(node.operand, declared)
    if isinstance(node, And):
        return all(_evaluate(n, declared) for n in node.operands)
    return any(_evaluate(n, declared) for n in node.operands)


def names(text: str) -> set[str]:
    """Every feature id the condition mentions."""
    return _names(parse(text))


def evaluate(text: str, declared: set[str] | frozenset[str]) -> bool:
    """Whether the condition holds for a module that declares exactly ``declared`` features."""
    return _evaluate(parse(text), declared)
