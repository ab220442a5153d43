"""The search conditions run in SQLite and PostgreSQL and select exactly the right objects."""

import os
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from isofind.db import make_engine
from isofind.objects.search import compile_condition, simple_text_condition

# A subquery that fails to correlate shows up as a cartesian-product warning.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def text(value: str | dict[str, str]) -> dict[str, Any]:
    return {"_type": "text", "text": value}


def quantity(
    magnitude: float, units: str, in_base_units: float, dimensionality: str = "[mass]"
) -> dict[str, Any]:
    return {
        "_type": "quantity",
        "magnitude": magnitude,
        "magnitude_in_base_units": in_base_units,
        "units": units,
        "dimensionality": dimensionality,
    }


def boolean(value: bool) -> dict[str, Any]:
    return {"_type": "bool", "value": value}


def moment(utc_datetime: str) -> dict[str, Any]:
    return {"_type": "datetime", "utc_datetime": utc_datetime}


def tags(*names: str) -> dict[str, Any]:
    return {"_type": "tags", "tags": list(names)}


OBJECTS: dict[int, dict[str, Any]] = {
    1: {
        "name": text("Granite sample"),
        "mass": quantity(12, "mg", 1.2e-05),
        "done": boolean(True),
        "t": moment("2023-01-02 03:04:05"),
        "tags": tags("granite", "pb"),
    },
    2: {
        "name": text({"en": "Basalt", "de": "Basalt-Probe"}),
        "mass": quantity(0.5, "g", 0.0005),
        "done": boolean(False),
        "t": moment("2023-01-02 23:59:59"),
        "tags": tags("basalt"),
    },
    3: {
        "name": text("Sample 3"),
        "mass": quantity(50, "mg", 5e-05),
        "t": moment("2022-12-31 10:00:00"),
        "list": [
            {"mass": quantity(1, "mg", 1e-06)},
            {"mass": quantity(3, "mg", 3e-06), "name": text({"en": "Garnet"})},
        ],
    },
    4: {
        "name": text("Ore MBE-7"),
        "mass": quantity(50, "mm", 0.05, "[length]"),
        "done": boolean(True),
    },
    5: {
        "name": text({"en": "Galena", "fr": "Galène"}),
        "mass": quantity(1, "g", 0.001),
        "sample": {"_type": "sample", "object_id": 3},
        "obj": {"x": quantity(2, "mg", 2e-06)},
    },
    6: {},
    7: {"name": text("Sb-rich ore"), "mass": None, "done": text("yes")},
    8: {
        "name": text("Layered"),
        "list": [
            {"mass": quantity(0.5, "mg", 5e-07), "name": text("Zircon layer")},
            {
                "mass": quantity(10, "mg", 1e-05),
                "done": boolean(True),
                "name": text({"en": "Apatite rim", "de": "Apatitrand"}),
            },
        ],
    },
    9: {"name": text("Pb ore"), "tags": tags("pb", "a"), "obj": {"x": quantity(5, "mg", 5e-06)}},
    10: {"name": text("Warm"), "temperature": quantity(20, "degC", 293.15, "[temperature]")},
    11: {
        "name": text("Pair"),
        "a": quantity(5, "mg", 5e-06),
        "b": quantity(0.004, "g", 4e-06),
        "t1": moment("2023-05-01 10:00:00"),
        "t2": moment("2023-05-01 12:00:00"),
    },
    12: {
        "name": text("Refs"),
        "operator": {"_type": "user", "user_id": 15},
        "sample": {"_type": "object_reference", "object_id": 15},
    },
    13: {
        "name": text("a_b 100% pure"),
        "a": quantity(4, "mg", 4e-06),
        "b": quantity(4, "mg", 4e-06),
        "t1": moment("2023-05-02 00:00:00"),
        "t2": moment("2023-05-01 23:00:00"),
    },
    14: {
        "name": text("Counted"),
        "count": quantity(7, "1", 7, "dimensionless"),
        "list": "not a list",
        "mass": quantity(1000, "mg", 0.001),
    },
    15: {
        "name": text({"en": "Quartz"}),
        "description": text({"en": "Contains granite grains"}),
        "list": {"0": {"mass": quantity(2, "mg", 2e-06)}},
    },
    # At zero a comparison has no tolerance: strict bounds alone keep zero out.
    16: {"name": text("Zero offset"), "offset": quantity(0, "1", 0.0, "dimensionless")},
    17: {"name": text("Tiny offset"), "offset": quantity(1e-300, "1", 1e-300, "dimensionless")},
    18: {"name": text("Negative offset"),
         "offset": quantity(-1e-300, "1", -1e-300, "dimensionless")},
}
ALL = set(OBJECTS)

ADVANCED_CASES: list[tuple[str, set[int]]] = [
    # quantities, compared in base units, only with the same dimensionality
    ("mass > 50mg", {2, 5, 14}),
    ("mass > 50 mg", {2, 5, 14}),
    ("offset > 0", {17}),
    ("offset >= 0", {16, 17}),
    ("offset < 0", {18}),
    ("offset <= 0", {16, 18}),
    ("offset == 0", {16}),
    ("offset != 0", {17, 18}),
    ("mass >= 50mg", {2, 3, 5, 14}),
    ("50mg < mass", {2, 5, 14}),
    ("mass == 1g", {5, 14}),
    ("mass = 1 g", {5, 14}),
    ("mass != 1g", {1, 2, 3, 4}),
    ("mass < 0.05 g", {1}),
    ("mass <= 50000 ug", {1, 3}),
    ("mass > 10 mm", {4}),
    ("temperature > 15 degC", {10}),
    ("temperature == 68 degF", {10}),
    ("count == 7", {14}),
    ("count > 6.5", {14}),
    # paths, array indices and the ? wildcard
    ("obj.x >= 2mg", {5, 9}),
    ("list.?.mass > 2mg", {3, 8}),
    ("list.0.mass < 1mg", {8}),
    ("list.1.mass == 3 mg", {3}),
    ("list.?.done", {8}),
    ('list.?.name == "Zircon layer"', {8}),
    ('list.?.name == "Apatitrand"', {8}),
    ('"garn" in list.?.name', {3}),
    # dates, on the UTC day
    ("t on 2023-01-02", {1, 2}),
    ("t == 2023-01-02", {1, 2}),
    ("t on 01/02/2023", {1, 2}),
    ("t on 2.1.2023", {1, 2}),
    ("t before 2023-01-02", {3}),
    ("t after 2022-12-31", {1, 2}),
    ("t >= 2022-12-31", {1, 2, 3}),
    ("t != 2023-01-02", {3}),
    ("2023-01-01 < t", {1, 2}),
    # booleans
    ("done", {1, 4}),
    ("done == true", {1, 4}),
    ("done == False", {2}),
    ("done != true", {2, 7}),
    ("not done", ALL - {1, 4}),
    ("!done && mass > 50mg", {2, 5, 14}),
    # text values, plain or per language
    ('name == "Sample 3"', {3}),
    ('name == "Basalt-Probe"', {2}),
    ('name = "Galène"', {5}),
    ('name == "sample 3"', set()),
    ('name != "Sample 3"', ALL - {3, 6}),
    ('"ore" in name', {4, 7, 9}),
    ("ore in name", {4, 7, 9}),
    ('"MBE" in name', {4}),
    ('"galè" in name', {5}),
    ('"%" in name', {13}),
    ('"_" in name', {13}),
    # bare words and text alone search all text values
    ("granite", {1, 15}),
    ('"granite sample"', {1}),
    ("Basalt-Probe", {2}),
    ("Galène", {5}),
    ("zircon", {8}),
    ("mg", set()),
    ("3", {3}),
    # tags, references and null
    ("#pb", {1, 9}),
    ("#PB", {1, 9}),
    ("#a and #pb", {9}),
    ("not #pb", ALL - {1, 9}),
    ("sample == #15", {12}),
    ("operator == #15", {12}),
    ("sample == #3", {5}),
    ("sample != #3", {12}),
    ("mass == null", {6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18}),
    ("null == mass", {6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18}),
    ("mass != null", {1, 2, 3, 4, 5, 14}),
    # attribute against attribute
    ("a > b", {11}),
    ("a == b", {13}),
    ("a != b", {11}),
    ("a >= b", {11, 13}),
    ("list.?.mass < mass", {3}),
    ("list.?.mass >= mass", set()),
    ("t1 < t2", {11}),
    ("t1 on t2", {11}),
    ("t1 after t2", {13}),
    # constants
    ("true", ALL),
    ("false", set()),
    ("5mg < 1g", ALL),
    ('"a" in "ABC"', ALL),
    ("#1 == #2", set()),
    ("true and #pb", {1, 9}),
    # precedence and grouping
    ("mass > 50mg or done and #granite", {1, 2, 5, 14}),
    ("(mass > 50mg or done) and #granite", {1}),
    ("not (mass > 50mg)", ALL - {2, 5, 14}),
    ("not not #pb", {1, 9}),
    ('"ore" in name and mass == null or #basalt', {2, 7, 9}),
    ("granite or #basalt", {1, 2, 15}),
]

SIMPLE_CASES: list[tuple[str, set[int]]] = [
    ("GRANITE", {1, 15}),
    ("basalt-probe", {2}),
    ("  zircon ", {8}),
    ("100%", {13}),
    ("a_b", {13}),
    ("mg", set()),
    ("text", set()),
    ("", ALL),
]


OBJECTS_TABLE = sa.Table(
    "search_objects",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("owner", sa.Integer, nullable=False),
    sa.Column("data", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
)


def _server_url() -> sa.URL:
    return sa.make_url(os.environ.get("ISOFIND_TEST_DATABASE_URL", DEFAULT_SERVER_URL))


def _psycopg_conninfo(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def postgresql_url() -> Iterator[sa.URL]:
    server = _server_url()
    name = f"isofind_search_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(_psycopg_conninfo(server), autocommit=True)
    except psycopg.OperationalError as error:
        if "ISOFIND_TEST_DATABASE_URL" in os.environ:
            raise
        pytest.skip(f"no PostgreSQL server at {server.host}:{server.port}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(drivername="postgresql+psycopg", database=name)
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = sa.make_url(f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.db'}")
    else:
        url = request.getfixturevalue("postgresql_url")
    engine = make_engine(url.render_as_string(hide_password=False))  # as the app connects
    OBJECTS_TABLE.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            OBJECTS_TABLE.insert(),
            [
                {"id": object_id, "owner": object_id % 2, "data": data}
                for object_id, data in OBJECTS.items()
            ],
        )
    yield engine
    engine.dispose()


def matching_ids(engine: sa.Engine, condition: sa.ColumnElement[bool]) -> set[int]:
    with engine.connect() as connection:
        return set(connection.scalars(sa.select(OBJECTS_TABLE.c.id).where(condition)))


@pytest.mark.parametrize(("query", "expected"), ADVANCED_CASES, ids=[q for q, _ in ADVANCED_CASES])
def test_advanced_search_selects_exactly(engine: sa.Engine, query: str, expected: set[int]) -> None:
    condition = compile_condition(query, OBJECTS_TABLE.c.data, engine.dialect.name)
    assert matching_ids(engine, condition) == expected


@pytest.mark.parametrize(("needle", "expected"), SIMPLE_CASES, ids=[n for n, _ in SIMPLE_CASES])
def test_simple_search_selects_exactly(engine: sa.Engine, needle: str, expected: set[int]) -> None:
    condition = simple_text_condition(needle, OBJECTS_TABLE.c.data, engine.dialect.name)
    assert matching_ids(engine, condition) == expected


def test_condition_composes_with_other_filters_order_and_paging(engine: sa.Engine) -> None:
    condition = compile_condition(
        "mass == null or list.?.mass > 2mg", OBJECTS_TABLE.c.data, engine.dialect.name
    )
    statement = (
        sa.select(OBJECTS_TABLE.c.id)
        .where(OBJECTS_TABLE.c.owner == 1, condition)
        .order_by(OBJECTS_TABLE.c.id.desc())
        .limit(2)
        .offset(1)
    )
    with engine.connect() as connection:
        # odd owners among {3, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18}: 17, 15, 13, …, 3
        assert list(connection.scalars(statement)) == [15, 13]


def test_condition_counts_in_a_subquery(engine: sa.Engine) -> None:
    condition = compile_condition(
        "#pb or t on 2023-01-02", OBJECTS_TABLE.c.data, engine.dialect.name
    )
    matching = sa.select(OBJECTS_TABLE.c.id).where(condition).subquery()
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(matching)) == 3


MALFORMED_MAGNITUDES = {
    101: {"mass": {"_type": "quantity", "dimensionality": "[mass]",
                   "magnitude_in_base_units": [6e-05]}},
    102: {"mass": {"_type": "quantity", "dimensionality": "[mass]",
                   "magnitude_in_base_units": "6e-05"}},
    103: {"mass": {"_type": "quantity", "dimensionality": "[mass]",
                   "magnitude_in_base_units": {"value": 6e-05}}},
    104: {"mass": {"_type": "quantity", "dimensionality": "[mass]"}},
    105: {"mass": [quantity(60, "mg", 6e-05)]},
    106: {"mass": quantity(60, "mg", 6e-05)},  # the one well-formed
}


@pytest.mark.parametrize("query", ["mass > 50mg", "mass < 1g", "mass == 60mg", "mass <= 60mg"])
def test_only_a_quantity_with_a_number_as_magnitude_compares(engine: sa.Engine,
                                                            query: str) -> None:
    """An array, text or object where the magnitude or the quantity belongs matches no
    comparison (PostgreSQL's lax JSON paths would have unwrapped the arrays)."""
    condition = compile_condition(query, OBJECTS_TABLE.c.data, engine.dialect.name)
    with engine.connect() as connection:
        connection.execute(OBJECTS_TABLE.insert(), [
            {"id": object_id, "owner": 0, "data": data}
            for object_id, data in MALFORMED_MAGNITUDES.items()
        ])
        found = set(connection.scalars(
            sa.select(OBJECTS_TABLE.c.id).where(OBJECTS_TABLE.c.id > 100, condition)))
        connection.rollback()
    assert found == {106}


def test_postgresql_json_paths_are_written_into_the_statement() -> None:
    """Bound as parameters, they were parsed again for every row once PostgreSQL planned the
    prepared statement generically; only the compared values are bound."""
    condition = compile_condition('mass > 50mg and "ore" in name', OBJECTS_TABLE.c.data,
                                  "postgresql")
    compiled = sa.select(OBJECTS_TABLE.c.id).where(condition).compile(
        dialect=postgresql.dialect())
    assert ("""'strict $ ? (@._type == "quantity" && @.dimensionality == $dimensionality """
            """&& @.magnitude_in_base_units >= $low)'""") in str(compiled)
    bound = [value for value in compiled.params.values() if isinstance(value, str)]
    assert not [value for value in bound if value.startswith(("strict", "lax"))]
    assert {"dimensionality": "[mass]", "low": pytest.approx(5e-05)} in (
        compiled.params.values())
