"""Recursive-descent parser for the SampleDB advanced-search language.

Grammar, loosest binding first (as SampleDB: comparisons, then ``not``, ``and``, ``or``)::

    query      := or END
    or         := and ("or" | "||") and ...
    and        := not ("and" | "&&") not ...
    not        := ("not" | "!") not | comparison
    comparison := operand [compare-operator operand]
    operand    := "(" or ")" | "quoted text" | #tag | word [units]

A number followed by a separate word reads as a quantity (``50 mg``). A bare word that is
neither a literal nor a valid attribute name (``Sample-1``) may stand alone or on the left
of ``in``, where it means text; anywhere else it is an error.
"""

from dataclasses import dataclass

from isofind.objects.search.errors import SearchQueryError
from isofind.objects.search.literals import make_quantity, read_word
from isofind.objects.search.nodes import (
    And,
    Attribute,
    Boolean,
    Comparison,
    Date,
    Node,
    Not,
    Null,
    Operand,
    Or,
    Quantity,
    Tag,
    Text,
)
from isofind.objects.search.tokenizer import Token, TokenKind, tokenize

MAX_NESTING = 64
_TAG_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
_OPERAND_TYPES = (Attribute, Text, Quantity, Date, Boolean, Null, Tag)


@dataclass(frozen=True)
class _PlainWord:
    """A bare word that only makes sense as text; never leaves the parser."""

    text: str
    position: int


def parse(query: str) -> Node:
    """The syntax tree of ``query``; raises SearchQueryError for malformed queries."""
    return _Parser(query).parse()


class _Parser:
    def __init__(self, query: str) -> None:
        self._tokens = tokenize(query)
        self._index = 0
        self._depth = 0

    def parse(self) -> Node:
        if self._peek().kind is TokenKind.END:
            raise SearchQueryError("empty query", 0)
        node = self._or()
        end = self._peek()
        if end.kind is not TokenKind.END:
            raise _unexpected(end)
        return node

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _advance(self) -> Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _or(self) -> Node:
        first = self._and()
        operands = [first]
        position = self._peek().position
        while self._peek().kind is TokenKind.OR:
            self._advance()
            operands.append(self._and())
        return first if len(operands) == 1 else Or(tuple(operands), position)

    def _and(self) -> Node:
        first = self._not()
        operands = [first]
        position = self._peek().position
        while self._peek().kind is TokenKind.AND:
            self._advance()
            operands.append(self._not())
        return first if len(operands) == 1 else And(tuple(operands), position)

    def _not(self) -> Node:
        if self._peek().kind is not TokenKind.NOT:
            return self._comparison()
        token = self._advance()
        self._enter(token)
        operand = self._not()
        self._depth -= 1
        return Not(operand, token.position)

    def _comparison(self) -> Node:
        left = self._operand()
        if self._peek().kind is not TokenKind.COMPARE:
            return _as_condition(left)
        operator = self._advance()
        right = self._operand()
        return Comparison(
            operator.value,
            _left_operand(left, operator),
            _right_operand(right, operator),
            operator.position,
        )

    def _operand(self) -> Node | _PlainWord:
        token = self._advance()
        match token.kind:
            case TokenKind.LPAREN:
                return self._parenthesised(token)
            case TokenKind.STRING:
                return Text(token.value, token.position)
            case TokenKind.TAG:
                return _tag(token)
            case TokenKind.WORD:
                return self._word(token)
            case _:
                raise _unexpected(token)

    def _parenthesised(self, opening: Token) -> Node:
        self._enter(opening)
        inner = self._or()
        closing = self._advance()
        if closing.kind is TokenKind.END:
            raise SearchQueryError("unclosed parenthesis", opening.position)
        if closing.kind is not TokenKind.RPAREN:
            raise _unexpected(closing)
        self._depth -= 1
        return inner

    def _word(self, token: Token) -> Operand | _PlainWord:
        operand = read_word(token.value, token.position)
        if operand is None:
            return _PlainWord(token.value, token.position)
        if isinstance(operand, Quantity) and not operand.units:
            return self._with_separate_units(operand)
        return operand

    def _with_separate_units(self, number: Quantity) -> Quantity:
        units = self._peek()
        if units.kind is not TokenKind.WORD:
            return number
        self._advance()
        return make_quantity(
            number.text,
            units.value,
            f"{number.text} {units.value}",
            number.position,
            units.position,
        )

    def _enter(self, token: Token) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise SearchQueryError("query nested too deeply", token.position)


def _tag(token: Token) -> Tag:
    name = token.value.lower()
    if not name:
        raise SearchQueryError("empty tag", token.position)
    if not set(name) <= _TAG_CHARACTERS:
        raise SearchQueryError(f"invalid tag '{token.text}'", token.position)
    return Tag(name, token.position)


def _as_condition(node: Node | _PlainWord) -> Node:
    return Text(node.text, node.position) if isinstance(node, _PlainWord) else node


def _left_operand(node: Node | _PlainWord, operator: Token) -> Operand:
    if isinstance(node, _PlainWord) and operator.value == "in":
        return Text(node.text, node.position)
    return _operand_of(node, operator, "left")


def _right_operand(node: Node | _PlainWord, operator: Token) -> Operand:
    return _operand_of(node, operator, "right")


def _operand_of(node: Node | _PlainWord, operator: Token, side: str) -> Operand:
    if isinstance(node, _PlainWord):
        raise SearchQueryError(
            f"'{node.text}' is not an attribute name; quote it to compare text", node.position
        )
    if not isinstance(node, _OPERAND_TYPES):
        raise SearchQueryError(
            f"'{operator.text}' needs a value or an attribute on its {side}, not a condition",
            operator.position,
        )
    return node


def _unexpected(token: Token) -> SearchQueryError:
    if token.kind is TokenKind.END:
        return SearchQueryError("unexpected end of query", token.position)
    return SearchQueryError(f"unexpected token '{token.text}'", token.position)
