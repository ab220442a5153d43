"""Compiles an advanced-search query into one SQLAlchemy condition on the data column.

The condition runs entirely in SQL, so it composes with permission filters, ordering and
LIMIT/OFFSET. Every comparison is made two-valued (missing data gives false, never NULL),
so ``not`` is always the exact complement of what it negates.
"""

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from isofind.db import unicode_lower
from isofind.objects.search.errors import SearchQueryError
from isofind.objects.search.json_access import (
    Condition,
    JsonValue,
    contains_ignoring_case,
    json_document,
)
from isofind.objects.search.nodes import (
    WILDCARD,
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
    PathSegment,
    Quantity,
    Tag,
    Text,
)
from isofind.objects.search.parser import parse

EPSILON = 1e-7
"""Relative tolerance of quantity comparisons: magnitudes in base units are floats converted
from other units, so 1000 mg must equal 1 g and not be greater than it. Values within the
tolerance are ==, <= and >=, never < or >."""

ValuePredicate = Callable[[JsonValue], Condition]
PairPredicate = Callable[[JsonValue, JsonValue], Condition]

_DATE_WORDS = {"before": "<", "after": ">", "on": "=="}
_MIRRORED = {
    "==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<=",
    "before": "after", "after": "before", "on": "on",
}  # fmt: skip
_PYTHON_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_REFERENCE_TYPES = ("object_reference", "sample", "measurement")
_DESCRIPTIONS: dict[type, str] = {
    Attribute: "attributes",
    Text: "text",
    Quantity: "quantities",
    Date: "dates",
    Boolean: "booleans",
    Null: "null",
    Tag: "tags",
}
# Operands may have been swapped to put the attribute first, so messages name no operator.
_DATES_ONLY = "before, after and on compare dates, not {}"
_EQUALITY_ONLY = "{} can only be compared with == or !="
_TAGS_ALONE = "tags cannot be compared; use the tag alone"


def compile_condition(
    query: str, data_column: ColumnElement[Any], dialect_name: str
) -> ColumnElement[bool]:
    """The SQL condition selecting the objects whose ``data_column`` matches ``query``.

    ``dialect_name`` is "sqlite" or "postgresql". Raises SearchQueryError for queries that
    are malformed or compare things that cannot be compared.
    """
    tree = parse(query)
    return _Compiler(json_document(data_column, dialect_name)).condition(tree)


def simple_text_condition(
    text: str, data_column: ColumnElement[Any], dialect_name: str
) -> ColumnElement[bool]:
    """The simple search: some text value of the data contains ``text``, ignoring case.

    Text values are the strings of SampleDB ``text`` values (each translation included),
    at any depth; names of units, types and dates are not searched. Blank text matches all.
    """
    needle = text.strip()
    if not needle:
        return sa.true()
    return _definite(json_document(data_column, dialect_name).any_text_contains(needle))


class _Compiler:
    def __init__(self, document: JsonValue) -> None:
        self._document = document

    def condition(self, node: Node) -> ColumnElement[bool]:
        match node:
            case And(operands=operands):
                return sa.and_(*(self.condition(operand) for operand in operands))
            case Or(operands=operands):
                return sa.or_(*(self.condition(operand) for operand in operands))
            case Not(operand=operand):
                return sa.not_(self.condition(operand))
            case Comparison():
                return self._comparison(node)
            case Attribute():
                return self._attribute_alone(node)
            case Tag(name=name):
                return _definite(_has_tag(self._document, name))
            case Boolean(value=value):
                return sa.true() if value else sa.false()
            case Text(value=value):
                return self._text_search(value)
            case Quantity(text=text) | Date(text=text):
                return self._text_search(text)
            case Null(position=position):
                raise SearchQueryError("null can only be compared with an attribute", position)

    def _text_search(self, needle: str) -> Condition:
        return _definite(self._document.any_text_contains(needle))

    def _attribute_alone(self, attribute: Attribute) -> Condition:
        """A true boolean attribute; a single bare word is also searched for as text."""
        is_true = self._at(attribute, _is_true_boolean)
        if len(attribute.path) == 1:
            return sa.or_(is_true, self._text_search(attribute.text))
        return is_true

    def _at(self, attribute: Attribute, predicate: ValuePredicate) -> Condition:
        return _definite(_resolve(self._document, attribute.path, predicate))

    def _comparison(self, node: Comparison) -> Condition:
        if node.operator == "in":
            return self._contains(node)
        left, operator_name, right = node.left, node.operator, node.right
        if not isinstance(left, Attribute) and isinstance(right, Attribute):
            left, operator_name, right = right, _MIRRORED[operator_name], left
        if not isinstance(left, Attribute):
            return _constant(_compare_literals(left, operator_name, right, node.position))
        if isinstance(right, Attribute):
            return self._attribute_vs_attribute(left, operator_name, right)
        predicate = _literal_predicate(operator_name, right, node.position)
        return self._at(left, predicate)

    def _attribute_vs_attribute(
        self, left: Attribute, operator_name: str, right: Attribute
    ) -> Condition:
        pair = _pair_predicate(operator_name)

        def left_value_matches(left_value: JsonValue) -> Condition:
            return _resolve(
                self._document, right.path, lambda right_value: pair(left_value, right_value)
            )

        return self._at(left, left_value_matches)

    def _contains(self, node: Comparison) -> Condition:
        needle = _needle(node.left)
        right = node.right
        if isinstance(right, Text):
            return _constant(needle.lower() in right.value.lower())
        if isinstance(right, Attribute):
            return self._at(right, lambda value: _text_contains(value, needle))
        raise SearchQueryError("'in' needs an attribute or text on its right", right.position)


def _resolve(value: JsonValue, path: Sequence[PathSegment], predicate: ValuePredicate) -> Condition:
    """``predicate`` on the value at ``path``; each wildcard means "some item of the array"."""
    if WILDCARD not in path:
        return predicate(value.child(*path))
    cut = path.index(WILDCARD)
    rest = path[cut + 1 :]
    return value.child(*path[:cut]).any_item(lambda item: _resolve(item, rest, predicate))


def _definite(condition: Condition) -> Condition:
    """True or false, never NULL, so that NOT negates it exactly."""
    return sa.func.coalesce(condition, sa.false(), type_=sa.Boolean)


def _constant(value: bool) -> Condition:
    return sa.true() if value else sa.false()


def _needle(operand: Operand) -> str:
    match operand:
        case Text(value=value):
            return value
        case Attribute(text=text) if not operand.has_wildcard:
            return text
        case Quantity(text=text) | Date(text=text):
            return text
    raise SearchQueryError("'in' needs text on its left", operand.position)


def _literal_predicate(operator_name: str, literal: Operand, position: int) -> ValuePredicate:
    if _is_plain_tag(literal):
        raise SearchQueryError(_TAGS_ALONE, position)
    if operator_name == "!=":
        equals = _equality_predicate(literal)
        return lambda value: sa.and_(sa.not_(value.is_absent()), sa.not_(_definite(equals(value))))
    if operator_name == "==":
        return _equality_predicate(literal)
    if isinstance(literal, Date):
        comparison = _DATE_WORDS.get(operator_name, operator_name)
        return lambda value: _date_compares(value, comparison, literal)
    if operator_name in _DATE_WORDS:
        raise SearchQueryError(_DATES_ONLY.format(_describe(literal)), position)
    if isinstance(literal, Quantity):
        return lambda value: _quantity_compares(value, operator_name, literal)
    raise SearchQueryError(_EQUALITY_ONLY.format(_describe(literal)), position)


def _equality_predicate(literal: Operand) -> ValuePredicate:
    """Equality with any literal but a plain tag (``#15`` is an object id here)."""
    match literal:
        case Quantity():
            return lambda value: _quantity_compares(value, "==", literal)
        case Date():
            return lambda value: _date_compares(value, "==", literal)
        case Text(value=text):
            return lambda value: _text_equals(value, text)
        case Boolean(value=expected):
            return lambda value: _boolean_equals(value, expected)
        case Null():
            return lambda value: value.is_absent()
        case Tag(name=name):
            return lambda value: _references(value, int(name))


def _pair_predicate(operator_name: str) -> PairPredicate:
    match operator_name:
        case "==":
            return _values_equal
        case "!=":
            return lambda left, right: sa.and_(
                sa.not_(left.is_absent()),
                sa.not_(right.is_absent()),
                sa.not_(_definite(_values_equal(left, right))),
            )
        case "on":
            return _same_day
        case "before" | "after":
            comparison = _DATE_WORDS[operator_name]
            return lambda left, right: _datetimes_compare(left, comparison, right)
    return lambda left, right: sa.or_(
        _quantities_compare(left, operator_name, right),
        _datetimes_compare(left, operator_name, right),
    )


def _has_type(value: JsonValue, type_name: str) -> Condition:
    return value.child("_type").text() == type_name


def _is_true_boolean(value: JsonValue) -> Condition:
    return _boolean_equals(value, True)


def _boolean_equals(value: JsonValue, expected: bool) -> Condition:
    flag = value.child("value")
    return sa.and_(_has_type(value, "bool"), flag.is_true() if expected else flag.is_false())


def _quantity_compares(value: JsonValue, operator_name: str, quantity: Quantity) -> Condition:
    low, high = _magnitude_bounds(operator_name, quantity.magnitude_in_base_units)
    return value.quantity_within(quantity.dimensionality, low, high)


def _magnitude_bounds(operator_name: str, literal: float) -> tuple[float, float]:
    """The magnitudes that compare with ``literal`` as :func:`_compare_numbers` does, as one
    range, both ends included: a strict bound becomes the next double beyond it. Exact for
    every stored double, and for integers up to 2**53; beyond, SQLite may take an integer
    between two doubles for one of them."""
    tolerance = EPSILON * abs(literal)
    low, high = -math.inf, math.inf
    match operator_name:
        case "==":
            low, high = literal - tolerance, literal + tolerance
        case "<":
            high = math.nextafter(literal - tolerance, -math.inf)
        case "<=":
            high = literal + tolerance
        case ">":
            low = math.nextafter(literal + tolerance, math.inf)
        case _:
            low = literal - tolerance
    return low, high


def _quantities_compare(left: JsonValue, operator_name: str, right: JsonValue) -> Condition:
    return sa.and_(
        _has_type(left, "quantity"),
        _has_type(right, "quantity"),
        left.child("dimensionality").text() == right.child("dimensionality").text(),
        _compare_numbers(
            left.child("magnitude_in_base_units").number(),
            operator_name,
            right.child("magnitude_in_base_units").number(),
        ),
    )


def _compare_numbers(
    left: ColumnElement[float], operator_name: str, right: ColumnElement[float] | float
) -> Condition:
    tolerance = EPSILON * abs(right) if isinstance(right, float) else sa.func.abs(right) * EPSILON
    match operator_name:
        case "==":
            return sa.and_(left >= right - tolerance, left <= right + tolerance)
        case "<":
            return left < right - tolerance
        case "<=":
            return left <= right + tolerance
        case ">":
            return left > right + tolerance
    return left >= right - tolerance


def _day_of(value: JsonValue) -> ColumnElement[str]:
    """The UTC date of a SampleDB datetime ("YYYY-MM-DD HH:MM:SS" sorts as text)."""
    return sa.func.substr(value.child("utc_datetime").text(), 1, 10)


def _date_compares(value: JsonValue, operator_name: str, date: Date) -> Condition:
    compare = _PYTHON_OPERATORS[operator_name]
    return sa.and_(_has_type(value, "datetime"), compare(_day_of(value), date.value.isoformat()))


def _datetimes_compare(left: JsonValue, operator_name: str, right: JsonValue) -> Condition:
    compare = _PYTHON_OPERATORS[operator_name]
    return sa.and_(
        _has_type(left, "datetime"),
        _has_type(right, "datetime"),
        compare(left.child("utc_datetime").text(), right.child("utc_datetime").text()),
    )


def _same_day(left: JsonValue, right: JsonValue) -> Condition:
    return sa.and_(
        _has_type(left, "datetime"),
        _has_type(right, "datetime"),
        _day_of(left) == _day_of(right),
    )


def _values_equal(left: JsonValue, right: JsonValue) -> Condition:
    return sa.or_(_quantities_compare(left, "==", right), left.same_json(right))


def _any_text(value: JsonValue, matches: Callable[[ColumnElement[str]], Condition]) -> Condition:
    """Some language of a SampleDB text value (a plain string or {"en": ..., ...}) matches."""
    text = value.child("text")

    def string_matches(string: JsonValue) -> Condition:
        return sa.and_(string.is_string(), matches(string.text()))

    return sa.and_(
        _has_type(value, "text"),
        sa.or_(string_matches(text), text.any_member(string_matches)),
    )


def _text_equals(value: JsonValue, expected: str) -> Condition:
    return _any_text(value, lambda text: text == expected)


def _text_contains(value: JsonValue, needle: str) -> Condition:
    return _any_text(value, lambda text: contains_ignoring_case(text, needle))


def _references(value: JsonValue, object_id: int) -> Condition:
    type_name = value.child("_type").text()
    return sa.or_(
        sa.and_(type_name.in_(_REFERENCE_TYPES), value.child("object_id").number() == object_id),
        sa.and_(type_name == "user", value.child("user_id").number() == object_id),
    )


def _has_tag(document: JsonValue, name: str) -> Condition:
    tags = document.child("tags")
    return sa.and_(
        _has_type(tags, "tags"),
        tags.child("tags").any_item(
            lambda tag: sa.and_(tag.is_string(), unicode_lower(tag.text()) == name)
        ),
    )


def _compare_literals(left: Operand, operator_name: str, right: Operand, position: int) -> bool:
    """Comparisons without attributes are decided here, with the same rules as in SQL."""
    if _is_plain_tag(left) or _is_plain_tag(right):
        raise SearchQueryError(_TAGS_ALONE, position)
    if type(left) is not type(right):
        raise SearchQueryError(
            f"cannot compare {_describe(left)} with {_describe(right)}", position
        )
    comparison = _DATE_WORDS.get(operator_name, operator_name)
    match left, right:
        case Date(), Date():
            return _PYTHON_OPERATORS[comparison](left.value, right.value)
        case Quantity(), Quantity():
            return _compare_quantity_literals(left, operator_name, right, position)
    if operator_name not in ("==", "!="):
        raise SearchQueryError(_EQUALITY_ONLY.format(_describe(left)), position)
    return _PYTHON_OPERATORS[operator_name](_literal_value(left), _literal_value(right))


def _compare_quantity_literals(
    left: Quantity, operator_name: str, right: Quantity, position: int
) -> bool:
    if operator_name in _DATE_WORDS:
        raise SearchQueryError(_DATES_ONLY.format("quantities"), position)
    if left.dimensionality != right.dimensionality:
        raise SearchQueryError(
            "cannot compare quantities of different dimensions "
            f"({left.dimensionality} and {right.dimensionality})",
            position,
        )
    a, b = left.magnitude_in_base_units, right.magnitude_in_base_units
    tolerance = EPSILON * abs(b)
    match operator_name:
        case "==":
            return abs(a - b) <= tolerance
        case "!=":
            return abs(a - b) > tolerance
        case "<":
            return a < b - tolerance
        case "<=":
            return a <= b + tolerance
        case ">":
            return a > b + tolerance
    return a >= b - tolerance


def _is_plain_tag(operand: Operand) -> bool:
    return isinstance(operand, Tag) and not operand.is_object_id


def _literal_value(literal: Operand) -> object:
    match literal:
        case Text(value=value) | Boolean(value=value):
            return value
        case Tag(name=name):
            return int(name)
    return None


def _describe(operand: Operand) -> str:
    if isinstance(operand, Tag) and operand.is_object_id:
        return "object ids"
    return _DESCRIPTIONS[type(operand)]
