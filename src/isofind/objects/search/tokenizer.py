"""Splits an advanced-search query into tokens that remember where they start."""

from dataclasses import dataclass
from enum import StrEnum

from isofind.objects.search.errors import SearchQueryError


class TokenKind(StrEnum):
    WORD = "word"
    STRING = "string"
    TAG = "tag"
    COMPARE = "compare"
    AND = "and"
    OR = "or"
    NOT = "not"
    LPAREN = "("
    RPAREN = ")"
    END = "end"


@dataclass(frozen=True)
class Token:
    """``value`` is the normalised meaning (operator, unquoted text, tag name); ``text`` the
    characters as typed, used in error messages."""

    kind: TokenKind
    value: str
    text: str
    position: int


# Longest first, so that "<=" is not read as "<" followed by "=".
_SYMBOLS: tuple[tuple[str, TokenKind, str], ...] = (
    ("==", TokenKind.COMPARE, "=="),
    ("!=", TokenKind.COMPARE, "!="),
    ("<=", TokenKind.COMPARE, "<="),
    (">=", TokenKind.COMPARE, ">="),
    ("&&", TokenKind.AND, "and"),
    ("||", TokenKind.OR, "or"),
    ("=", TokenKind.COMPARE, "=="),
    ("<", TokenKind.COMPARE, "<"),
    (">", TokenKind.COMPARE, ">"),
    ("!", TokenKind.NOT, "not"),
    ("(", TokenKind.LPAREN, "("),
    (")", TokenKind.RPAREN, ")"),
)

_KEYWORDS: dict[str, TokenKind] = {
    "and": TokenKind.AND,
    "or": TokenKind.OR,
    "not": TokenKind.NOT,
    "in": TokenKind.COMPARE,
    "on": TokenKind.COMPARE,
    "before": TokenKind.COMPARE,
    "after": TokenKind.COMPARE,
}

_WORD_BREAKERS = frozenset('()"<>=!&|')
_ESCAPABLE = frozenset('"\\')


def tokenize(query: str) -> list[Token]:
    """Return the tokens of ``query``, always ending with an END token at ``len(query)``."""
    tokens: list[Token] = []
    index = 0
    while index < len(query):
        character = query[index]
        if character.isspace():
            index += 1
            continue
        if character == '"':
            token = _read_string(query, index)
        else:
            token = _read_symbol(query, index) or _read_word(query, index)
        tokens.append(token)
        index += len(token.text)
    tokens.append(Token(TokenKind.END, "", "", len(query)))
    return tokens


def _read_symbol(query: str, start: int) -> Token | None:
    for symbol, kind, value in _SYMBOLS:
        if query.startswith(symbol, start):
            return Token(kind, value, symbol, start)
    if query[start] in "&|":
        raise SearchQueryError(f"unexpected character '{query[start]}'", start)
    return None


def _read_string(query: str, start: int) -> Token:
    """A double-quoted text; a backslash escapes a quote or another backslash."""
    characters: list[str] = []
    index = start + 1
    while index < len(query):
        character = query[index]
        if character == '"':
            return Token(TokenKind.STRING, "".join(characters), query[start : index + 1], start)
        if character == "\\" and index + 1 < len(query) and query[index + 1] in _ESCAPABLE:
            index += 1
            character = query[index]
        characters.append(character)
        index += 1
    raise SearchQueryError("unterminated text", start)


def _read_word(query: str, start: int) -> Token:
    end = start
    while end < len(query) and not query[end].isspace() and query[end] not in _WORD_BREAKERS:
        end += 1
    text = query[start:end]
    if text.startswith("#"):
        return Token(TokenKind.TAG, text[1:], text, start)
    keyword = _KEYWORDS.get(text.lower())
    if keyword is not None:
        return Token(keyword, text.lower(), text, start)
    return Token(TokenKind.WORD, text, text, start)
