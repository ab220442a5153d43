"""The syntax tree of an advanced-search query.

Every node keeps ``position``, the 0-based offset in the query of its literal, of its
operator (comparisons, ``and``, ``or``) or of its ``not``, so that compile errors can point
at the right character.
"""

import datetime
from dataclasses import dataclass

WILDCARD = "?"
"""Path segment standing for any item of an array (``layers.?.name``)."""

PathSegment = str | int


@dataclass(frozen=True)
class Attribute:
    """A path into the object's data; ints are array indices, WILDCARD any array item."""

    path: tuple[PathSegment, ...]
    text: str
    position: int

    @property
    def has_wildcard(self) -> bool:
        return WILDCARD in self.path


@dataclass(frozen=True)
class Text:
    value: str
    position: int


@dataclass(frozen=True)
class Quantity:
    """A number with optional units; dimensionless numbers have ``units == ""``."""

    magnitude: float
    units: str
    magnitude_in_base_units: float
    dimensionality: str
    text: str
    position: int


@dataclass(frozen=True)
class Date:
    value: datetime.date
    text: str
    position: int


@dataclass(frozen=True)
class Boolean:
    value: bool
    position: int


@dataclass(frozen=True)
class Null:
    position: int


@dataclass(frozen=True)
class Tag:
    """``#name``: alone it asks for a tag; compared with an attribute, ``#15`` is an id."""

    name: str
    position: int

    @property
    def is_object_id(self) -> bool:
        return self.name.isdigit()


Operand = Attribute | Text | Quantity | Date | Boolean | Null | Tag


@dataclass(frozen=True)
class Comparison:
    """``operator`` is one of == != < <= > >= in on before after (``=`` is read as ``==``)."""

    operator: str
    left: Operand
    right: Operand
    position: int


@dataclass(frozen=True)
class Not:
    operand: "Node"
    position: int


@dataclass(frozen=True)
class And:
    operands: tuple["Node", ...]
    position: int


@dataclass(frozen=True)
class Or:
    operands: tuple["Node", ...]
    position: int


Node = Operand | Comparison | Not | And | Or
