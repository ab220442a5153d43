"""The advanced-search parser: tree shapes, precedence, literals and every error position."""

import datetime

import pytest
import sqlalchemy as sa

from isofind.objects.search import SearchQueryError, compile_condition, parse
from isofind.objects.search.nodes import (
    And,
    Attribute,
    Boolean,
    Comparison,
    Date,
    Not,
    Null,
    Or,
    Quantity,
    Tag,
    Text,
)
from isofind.objects.search.parser import MAX_NESTING

DATA = sa.column("data")


def attribute(text: str, position: int) -> Attribute:
    path = tuple(int(part) if part.isdigit() else part for part in text.split("."))
    return Attribute(path, text, position)


def number(text: str, position: int) -> Quantity:
    return Quantity(float(text), "", float(text), "dimensionless", text, position)


def test_comparison_records_operands_and_operator_position() -> None:
    assert parse('name == "Sample 1"') == Comparison(
        "==", attribute("name", 0), Text("Sample 1", 8), 5
    )


def test_and_binds_tighter_than_or() -> None:
    assert parse("a or b and c") == Or(
        (attribute("a", 0), And((attribute("b", 5), attribute("c", 11)), 7)), 2
    )


def test_not_binds_tighter_than_and_but_looser_than_comparison() -> None:
    assert parse("not a == 1 and b") == And(
        (
            Not(Comparison("==", attribute("a", 4), number("1", 9), 6), 0),
            attribute("b", 15),
        ),
        11,
    )


def test_parentheses_override_precedence() -> None:
    assert parse("(a or b) and c") == And(
        (Or((attribute("a", 1), attribute("b", 6)), 3), attribute("c", 13)), 9
    )


def test_chains_of_the_same_operator_are_flat() -> None:
    tree = parse("a and b and c or d or e")
    assert isinstance(tree, Or)
    assert tree.operands[0] == And((attribute("a", 0), attribute("b", 6), attribute("c", 12)), 2)
    assert tree.operands[1:] == (attribute("d", 17), attribute("e", 22))


def test_symbol_and_keyword_spellings_are_equivalent() -> None:
    assert parse("!a && b || c") == Or(
        (And((Not(attribute("a", 1), 0), attribute("b", 6)), 3), attribute("c", 11)), 8
    )
    assert parse("NOT a AND b OR c") == Or(
        (And((Not(attribute("a", 4), 0), attribute("b", 10)), 6), attribute("c", 15)), 12
    )
    assert parse("a = 1") == Comparison("==", attribute("a", 0), number("1", 4), 2)


def test_double_not_nests() -> None:
    assert parse("not not a") == Not(Not(attribute("a", 8), 4), 0)


def test_comparison_operators_without_spaces() -> None:
    tree = parse("mass>=5mg")
    assert isinstance(tree, Comparison)
    assert (tree.operator, tree.left, tree.position) == (">=", attribute("mass", 0), 4)


def test_word_operators() -> None:
    for operator in ("in", "on", "before", "after"):
        tree = parse(f"x {operator.upper()} y")
        assert isinstance(tree, Comparison)
        assert tree.operator == operator


def test_quantity_with_attached_or_separate_units() -> None:
    attached = parse("mass > 50mg")
    separate = parse("mass > 50 mg")
    assert isinstance(attached, Comparison) and isinstance(separate, Comparison)
    assert attached.right == Quantity(50.0, "mg", pytest.approx(5e-05), "[mass]", "50mg", 7)
    assert separate.right == Quantity(50.0, "mg", pytest.approx(5e-05), "[mass]", "50 mg", 7)


@pytest.mark.parametrize(
    ("word", "magnitude", "in_base_units", "dimensionality"),
    [
        ("-3.5", -3.5, -3.5, "dimensionless"),
        ("1e3mg", 1000.0, 1e-3, "[mass]"),
        (".5", 0.5, 0.5, "dimensionless"),
        ("20degC", 20.0, 293.15, "[temperature]"),
        ("9.81m/s^2", 9.81, 9.81, "[length] / [time] ** 2"),
        ("50%", 50.0, 0.5, "dimensionless"),
    ],
)
def test_number_literals(
    word: str, magnitude: float, in_base_units: float, dimensionality: str
) -> None:
    tree = parse(f"x == {word}")
    assert isinstance(tree, Comparison)
    literal = tree.right
    assert isinstance(literal, Quantity)
    assert literal.magnitude == magnitude
    assert literal.magnitude_in_base_units == pytest.approx(in_base_units)
    assert literal.dimensionality == dimensionality


@pytest.mark.parametrize("word", ["2023-01-02", "01/02/2023", "2.1.2023"])
def test_date_formats(word: str) -> None:
    assert parse(f"t on {word}") == Comparison(
        "on", attribute("t", 0), Date(datetime.date(2023, 1, 2), word, 5), 2
    )


def test_booleans_null_and_tags() -> None:
    assert parse("x == TRUE") == Comparison("==", attribute("x", 0), Boolean(True, 5), 2)
    assert parse("x != false") == Comparison("!=", attribute("x", 0), Boolean(False, 5), 2)
    assert parse("x == Null") == Comparison("==", attribute("x", 0), Null(5), 2)
    assert parse("#Hbs-2_x") == Tag("hbs-2_x", 0)
    assert parse("ref == #15") == Comparison("==", attribute("ref", 0), Tag("15", 7), 4)


def test_paths_with_indices_and_wildcards() -> None:
    tree = parse("layers.?.items.0.name")
    assert tree == Attribute(("layers", "?", "items", 0, "name"), "layers.?.items.0.name", 0)
    assert isinstance(tree, Attribute) and tree.has_wildcard


def test_quoted_text_keeps_operators_and_escapes() -> None:
    assert parse(r'"a and (b) == \"c\" \\ \d"') == Text(r'a and (b) == "c" \ \d', 0)


def test_plain_words_become_text_alone_or_left_of_in() -> None:
    assert parse("Sample-1") == Text("Sample-1", 0)
    assert parse("Galène") == Text("Galène", 0)
    assert parse("Sample-1 in name") == Comparison(
        "in", Text("Sample-1", 0), attribute("name", 12), 9
    )


def test_parentheses_around_an_operand() -> None:
    assert parse("(mass) > (5)") == Comparison(">", attribute("mass", 1), number("5", 10), 7)


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("", "empty query", 0),
        ("   ", "empty query", 0),
        ("mass > )", "unexpected token ')'", 7),
        ("mass > 5mg)", "unexpected token ')'", 10),
        ("(mass > 5mg", "unclosed parenthesis", 0),
        ("a and (b or (c)", "unclosed parenthesis", 6),
        ("(a b)", "unexpected token 'b'", 3),
        ('name == "abc', "unterminated text", 8),
        ("a & b", "unexpected character '&'", 2),
        ("a | b", "unexpected character '|'", 2),
        ("mass >", "unexpected end of query", 6),
        ("a and", "unexpected end of query", 5),
        ("not", "unexpected end of query", 3),
        ("and a", "unexpected token 'and'", 0),
        ("a or or b", "unexpected token 'or'", 5),
        ("a b", "unexpected token 'b'", 2),
        ("a < b < c", "unexpected token '<'", 6),
        ("== a", "unexpected token '=='", 0),
        ("mass > 5 xyz", "unknown units 'xyz'", 9),
        ("mass > 5xyz", "unknown units 'xyz'", 8),
        ("mass > 5mg/", "unknown units 'mg/'", 8),
        ("x > 1e999", "number out of range '1e999'", 4),
        ("x > 1e308 Mg", "quantity out of range in base units '1e308 Mg'", 4),
        ("x < -1e307Mg", "quantity out of range in base units '-1e307Mg'", 4),
        ("t on 2023-13-45", "invalid date '2023-13-45'", 5),
        ("t on 02/30/2023", "invalid date '02/30/2023'", 5),
        ("a..b == 1", "invalid attribute name 'a..b'", 0),
        ("x and list.?x == 1", "invalid attribute name 'list.?x'", 6),
        ('*sample.name == "x"', "following object references with '*' is not supported", 0),
        ("#", "empty tag", 0),
        ("x or #a.b", "invalid tag '#a.b'", 5),
        ("name == Sample-1", "'Sample-1' is not an attribute name; quote it to compare text", 8),
        ("(a and b) == 5", "'==' needs a value or an attribute on its left, not a condition", 10),
        ("a == (b or c)", "'==' needs a value or an attribute on its right, not a condition", 2),
    ],
)
def test_syntax_errors_name_the_position(query: str, message: str, position: int) -> None:
    with pytest.raises(SearchQueryError) as caught:
        parse(query)
    assert (caught.value.message, caught.value.position) == (message, position)
    assert str(caught.value) == f"{message} at position {position}"


def test_nesting_is_limited() -> None:
    assert parse("(" * MAX_NESTING + "a" + ")" * MAX_NESTING) == attribute("a", MAX_NESTING)
    with pytest.raises(SearchQueryError) as parentheses:
        parse("(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1))
    assert (parentheses.value.message, parentheses.value.position) == (
        "query nested too deeply",
        MAX_NESTING,
    )
    with pytest.raises(SearchQueryError) as negations:
        parse("not " * (MAX_NESTING + 1) + "a")
    assert negations.value.position == 4 * MAX_NESTING


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("5mg < 3m", "cannot compare quantities of different dimensions ([mass] and [length])", 4),
        ("5mg on 3mg", "before, after and on compare dates, not quantities", 4),
        ('"abc" > mass', "text can only be compared with == or !=", 6),
        ("mass before 5mg", "before, after and on compare dates, not quantities", 5),
        ("5mg after mass", "before, after and on compare dates, not quantities", 4),
        ("done < true", "booleans can only be compared with == or !=", 5),
        ("x > null", "null can only be compared with == or !=", 2),
        ("ref >= #3", "object ids can only be compared with == or !=", 4),
        ("true > false", "booleans can only be compared with == or !=", 5),
        ("#a == #b", "tags cannot be compared; use the tag alone", 3),
        ("#1 == #b", "tags cannot be compared; use the tag alone", 3),
        ("#a != 5", "tags cannot be compared; use the tag alone", 3),
        ('"a" == 5', "cannot compare text with quantities", 4),
        ("2023-01-01 < 5", "cannot compare dates with quantities", 11),
        ("x == #tag", "tags cannot be compared; use the tag alone", 2),
        ("x > #tag", "tags cannot be compared; use the tag alone", 2),
        ("null", "null can only be compared with an attribute", 0),
        ("a or not null", "null can only be compared with an attribute", 9),
        ('"x" in 5mg', "'in' needs an attribute or text on its right", 7),
        ("list.?.a in name", "'in' needs text on its left", 0),
        ("#a in name", "'in' needs text on its left", 0),
    ],
)
def test_compile_errors_name_the_position(query: str, message: str, position: int) -> None:
    with pytest.raises(SearchQueryError) as caught:
        compile_condition(query, DATA, "sqlite")
    assert (caught.value.message, caught.value.position) == (message, position)


def test_search_query_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^empty query at position 0$"):
        parse("")


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database dialect 'mysql'"):
        compile_condition("done", DATA, "mysql")
