"""SQL expressions that reach into an object's JSON data, one implementation per database.

SQLite addresses a value as ``json_extract(data, path)``, its path possibly built from a
``json_each`` row (``fullkey``) so that array items are always read from the whole
document. PostgreSQL addresses it as a chain of ``->`` on the document or on a
``jsonb_array_elements`` / ``jsonb_each`` row. Both expose the same small interface, so
the compiler never branches on the dialect.
"""

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, JSONPATH
from sqlalchemy.sql.elements import ColumnElement

from isofind.db import unicode_lower
from isofind.objects.search.nodes import PathSegment

Condition = ColumnElement[bool]

# Text values of SampleDB are {"_type": "text", "text": "..."} or {"text": {"en": "..."}};
# `.**` also visits array items, so text nested in lists and objects is found.
_TEXT_VALUES_JSONPATH = 'lax $.** ? (@._type == "text").text.** ? (@.type() == "string")'


class JsonValue(ABC):
    """One JSON value inside an object's data, addressed in SQL (it may be missing)."""

    @abstractmethod
    def child(self, *segments: PathSegment) -> Self:
        """The member or array item reached by following ``segments``."""

    @abstractmethod
    def text(self) -> ColumnElement[str]:
        """The content of a JSON string (meaningless for other JSON types)."""

    @abstractmethod
    def number(self) -> ColumnElement[float]:
        """The value of a JSON number, SQL NULL for anything else."""

    @abstractmethod
    def quantity_within(self, dimensionality: str, low: float, high: float) -> Condition:
        """The value is a SampleDB quantity of ``dimensionality`` whose magnitude in base
        units is a JSON number from ``low`` to ``high``, both included; either may be
        infinite. The schema makes that magnitude a number: on SQLite a JSON true or false
        would pass as 1 or 0."""

    @abstractmethod
    def is_string(self) -> Condition: ...

    @abstractmethod
    def is_true(self) -> Condition: ...

    @abstractmethod
    def is_false(self) -> Condition: ...

    @abstractmethod
    def is_absent(self) -> Condition:
        """The value is missing or JSON null."""

    @abstractmethod
    def same_json(self, other: Self) -> Condition: ...

    @abstractmethod
    def any_item(self, predicate: Callable[["JsonValue"], Condition]) -> Condition:
        """Some item of this array satisfies ``predicate`` (false for non-arrays)."""

    @abstractmethod
    def any_member(self, predicate: Callable[["JsonValue"], Condition]) -> Condition:
        """Some member value of this object satisfies ``predicate`` (false otherwise)."""

    @abstractmethod
    def any_text_contains(self, needle: str) -> Condition:
        """Some SampleDB text value at any depth contains ``needle``, ignoring case."""


def json_document(data_column: ColumnElement[Any], dialect_name: str) -> JsonValue:
    """The whole data document of the row ``data_column`` belongs to."""
    if dialect_name == "sqlite":
        return SqliteJsonValue(data_column, "$")
    if dialect_name == "postgresql":
        return PostgresJsonValue(sa.type_coerce(data_column, JSONB), ())
    raise ValueError(f"unsupported database dialect '{dialect_name}'")


def _exists_correlated(subquery: sa.Select[Any], own_rows: Any) -> Condition:
    """EXISTS over ``own_rows``, every other table (the objects' row, outer json_each rows)
    taken from the enclosing query: auto-correlation only looks one SELECT up, which breaks
    for subqueries nested in subqueries."""
    return subquery.correlate_except(own_rows).exists()


def contains_ignoring_case(text: ColumnElement[str], needle: str) -> Condition:
    return unicode_lower(text).contains(needle.lower(), autoescape=True)


@dataclass(frozen=True)
class SqliteJsonValue(JsonValue):
    document: ColumnElement[Any]
    path: ColumnElement[str] | str

    def child(self, *segments: PathSegment) -> Self:
        suffix = "".join(f"[{s}]" if isinstance(s, int) else f'."{s}"' for s in segments)
        if isinstance(self.path, str):
            return replace(self, path=self.path + suffix)
        return replace(self, path=self.path.op("||")(sa.literal(suffix)))

    def _json_type(self) -> ColumnElement[str]:
        return sa.func.json_type(self.document, self.path, type_=sa.String)

    def text(self) -> ColumnElement[str]:
        return sa.func.json_extract(self.document, self.path, type_=sa.String)

    def number(self) -> ColumnElement[float]:
        is_number = self._json_type().in_(("integer", "real"))
        return sa.case((is_number, sa.func.json_extract(self.document, self.path)), else_=None)

    def quantity_within(self, dimensionality: str, low: float, high: float) -> Condition:
        # number() reads the document twice (its JSON type, then its value), and SQLite
        # parses the whole document for each; BETWEEN reads it once (q=mass > 50mg over
        # 10,000 objects: 3.9-4.0 ms of SQL before, 3.5-3.6 ms after, issue 3). Numeric
        # bounds leave out every other JSON value: SQLite orders text (json_extract's form
        # of strings, objects and arrays) above every number, infinities included.
        magnitude = self.child("magnitude_in_base_units")
        return sa.and_(
            self.child("_type").text() == "quantity",
            self.child("dimensionality").text() == dimensionality,
            sa.func.json_extract(magnitude.document, magnitude.path).between(low, high),
        )

    def is_string(self) -> Condition:
        return self._json_type() == "text"

    def is_true(self) -> Condition:
        return self._json_type() == "true"

    def is_false(self) -> Condition:
        return self._json_type() == "false"

    def is_absent(self) -> Condition:
        json_type = self._json_type()
        return sa.or_(json_type.is_(None), json_type == "null")

    def same_json(self, other: Self) -> Condition:
        # json_extract returns objects and arrays as minified JSON text, scalars as SQL values.
        return sa.and_(
            self._json_type() == other._json_type(),
            sa.func.json_extract(self.document, self.path)
            == sa.func.json_extract(other.document, other.path),
        )

    def any_item(self, predicate: Callable[[JsonValue], Condition]) -> Condition:
        return self._any_child("array", predicate)

    def any_member(self, predicate: Callable[[JsonValue], Condition]) -> Condition:
        return self._any_child("object", predicate)

    def _any_child(self, json_type: str, predicate: Callable[[JsonValue], Condition]) -> Condition:
        children = sa.func.json_each(self.document, self.path).table_valued("fullkey")
        child = SqliteJsonValue(self.document, children.c.fullkey)
        matching = sa.select(sa.literal(1)).select_from(children).where(predicate(child))
        return sa.and_(self._json_type() == json_type, _exists_correlated(matching, children))

    def any_text_contains(self, needle: str) -> Condition:
        nodes = sa.func.json_tree(self.document, self.path).table_valued(
            "type", "atom", "key", "path"
        )
        # A string is a text value when it is the "text" member of a {"_type": "text"}
        # object, or a translation inside that member (its parent's path ends in ".text").
        parent_path = nodes.c.path
        grandparent_path = sa.func.substr(parent_path, 1, sa.func.length(parent_path) - 5)
        is_plain_text = sa.and_(nodes.c.key == "text", self._type_name_at(parent_path) == "text")
        is_translation = sa.and_(
            sa.func.substr(parent_path, -5) == ".text",
            self._type_name_at(grandparent_path) == "text",
        )
        matching = (
            sa.select(sa.literal(1))
            .select_from(nodes)
            .where(
                nodes.c.type == "text",
                contains_ignoring_case(sa.type_coerce(nodes.c.atom, sa.String), needle),
                sa.or_(is_plain_text, is_translation),
            )
        )
        return _exists_correlated(matching, nodes)

    def _type_name_at(self, path: ColumnElement[Any]) -> ColumnElement[str]:
        return sa.func.json_extract(self.document, path.op("||")(sa.literal('."_type"')))


@dataclass(frozen=True)
class PostgresJsonValue(JsonValue):
    base: ColumnElement[Any]
    segments: tuple[PathSegment, ...]

    def child(self, *segments: PathSegment) -> Self:
        return replace(self, segments=self.segments + segments)

    def _node(self) -> ColumnElement[Any]:
        node = self.base
        for segment in self.segments:
            node = node.op("->", return_type=JSONB)(_postgres_step(segment))
        return node

    def text(self) -> ColumnElement[str]:
        if not self.segments:
            everything = sa.cast(sa.literal([], ARRAY(sa.Text)), ARRAY(sa.Text))
            return self.base.op("#>>", return_type=sa.Text)(everything)
        parent = PostgresJsonValue(self.base, self.segments[:-1])._node()
        return parent.op("->>", return_type=sa.Text)(_postgres_step(self.segments[-1]))

    def _json_type(self) -> ColumnElement[str]:
        return sa.func.jsonb_typeof(self._node(), type_=sa.String)

    def number(self) -> ColumnElement[float]:
        # CASE, not AND: PostgreSQL may evaluate AND operands in any order and the cast
        # fails on anything but a JSON number.
        return sa.case((self._json_type() == "number", sa.cast(self._node(), sa.Float)), else_=None)

    def quantity_within(self, dimensionality: str, low: float, high: float) -> Condition:
        # One SQL/JSON path test on the quantity instead of a chain of -> per member: the
        # request for q=mass > 50mg over 10,000 objects took 8.3-8.5 ms in process, against
        # 8.9-9.2 ms (limit 1,000; issue 3).
        # Strict mode: a member missing or of another JSON type fails the filter (lax mode
        # would unwrap arrays). A bound is a JSON number, compared exactly as a numeric.
        tests = ['@._type == "quantity"', "@.dimensionality == $dimensionality"]
        variables: dict[str, object] = {"dimensionality": dimensionality}
        if low != -math.inf:
            tests.append("@.magnitude_in_base_units >= $low")
            variables["low"] = low
        if high != math.inf:
            tests.append("@.magnitude_in_base_units <= $high")
            variables["high"] = high
        path = _constant(f"strict $ ? ({' && '.join(tests)})", JSONPATH)
        return sa.func.jsonb_path_exists(
            self._node(), path, sa.bindparam(None, variables, type_=JSONB), sa.true(),
            type_=sa.Boolean)

    def is_string(self) -> Condition:
        return self._json_type() == "string"

    def is_true(self) -> Condition:
        return sa.and_(self._json_type() == "boolean", self.text() == "true")

    def is_false(self) -> Condition:
        return sa.and_(self._json_type() == "boolean", self.text() == "false")

    def is_absent(self) -> Condition:
        return sa.or_(self._node().is_(None), self._json_type() == "null")

    def same_json(self, other: Self) -> Condition:
        return self._node() == other._node()

    def any_item(self, predicate: Callable[[JsonValue], Condition]) -> Condition:
        return self._any_child("array", "[]", sa.func.jsonb_array_elements, predicate)

    def any_member(self, predicate: Callable[[JsonValue], Condition]) -> Condition:
        return self._any_child("object", "{}", sa.func.jsonb_each, predicate)

    def _any_child(
        self,
        json_type: str,
        empty: str,
        expand: Callable[[ColumnElement[Any]], Any],
        predicate: Callable[[JsonValue], Condition],
    ) -> Condition:
        # The expanding functions raise on the wrong JSON type, so feed them an empty
        # container instead of filtering afterwards.
        container = sa.case(
            (self._json_type() == json_type, self._node()),
            else_=_constant(empty, JSONB),
        )
        children = expand(container).table_valued("value")
        child = PostgresJsonValue(sa.type_coerce(children.c.value, JSONB), ())
        matching = sa.select(sa.literal(1)).select_from(children).where(predicate(child))
        return _exists_correlated(matching, children)

    def any_text_contains(self, needle: str) -> Condition:
        jsonpath = _constant(_TEXT_VALUES_JSONPATH, JSONPATH)
        strings = (
            sa.func.jsonb_path_query(self._node(), jsonpath).table_valued("value").render_derived()
        )
        string = PostgresJsonValue(sa.type_coerce(strings.c.value, JSONB), ())
        matching = (
            sa.select(sa.literal(1))
            .select_from(strings)
            .where(contains_ignoring_case(string.text(), needle))
        )
        return _exists_correlated(matching, strings)


def _constant(text: str, type_: Any) -> ColumnElement[Any]:
    """A constant of our own (never user input) written into the statement as a literal,
    which PostgreSQL types by where it stands. Cast from a bound parameter, a path or
    document was parsed again for every row once PostgreSQL planned the prepared statement
    generically: 11-12 ms for the request of q=mass > 50mg over 10,000 objects, against
    8.3-8.5 ms; a text search (q=Laurion) took 11.5 ms, against 12.7 ms with the bound
    path."""
    assert "'" not in text
    return sa.literal_column(f"'{text}'", type_=type_)


def _postgres_step(segment: PathSegment) -> ColumnElement[Any]:
    """An int only indexes arrays (``-> 0`` is NULL on objects), as ``[0]`` in SQLite."""
    if isinstance(segment, int):
        return sa.cast(sa.literal(segment), sa.Integer)
    return sa.cast(sa.literal(segment), sa.Text)
