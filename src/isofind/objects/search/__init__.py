"""The SampleDB advanced search language for objects, compiled to SQL.

``compile_condition(q, data_column, dialect_name)`` turns a query into a condition on the
objects' JSON data column that runs in SQLite or PostgreSQL; ``simple_text_condition`` is
the non-advanced search; ``parse`` gives the syntax tree (``nodes``) alone. Bad queries
raise ``SearchQueryError`` (a ValueError) with the 0-based position of the problem.

The language, as SampleDB's, with these readings:

* ``attr == "text"`` matches a text value in any language, exactly; ``"MBE" in attr`` is a
  substring test ignoring case, and a bare word or a number on the left of ``in`` is text.
* ``mass > 50mg`` / ``50 mg``: quantities of the same dimensionality, compared on
  ``magnitude_in_base_units`` (pint) with a relative tolerance of 1e-7 (values within it
  are equal, never smaller or greater). Comparing two literal quantities of different
  dimensions is an error; data of another dimensionality simply does not match.
* ``t before|after|on 2023-01-02`` (also <, ==, ...): compared on the UTC date of the
  datetime. Two datetime attributes compare on the full timestamp, ``on`` on the day.
* ``done`` alone: a boolean attribute that is true; a single bare word alone also matches
  objects whose text contains it. Quoted text, and numbers or dates alone, are text
  searches. ``true``/``false`` alone match everything/nothing.
* ``#tag`` alone: the object's ``tags`` contain it. ``attr == #15``: attr references object
  (or user) 15.
* ``attr == null``: attr is missing or null. ``attr != value``: attr is set and differs.
* ``list.0.x`` indexes arrays; ``list.?.x > 1mg``: some item matches (each comparison has
  its own "some item"). Two attributes may be compared: quantities, datetimes, and
  otherwise equal JSON (in SQLite, objects compare as their stored JSON text).
* Precedence: comparisons, then ``not``/``!``, ``and``/``&&``, ``or``/``||``; ``not X`` is
  always the complement of ``X``. Keywords are case-insensitive; ``=`` means ``==``.
* Not supported: following references with ``*attr``, the special ``file_name`` attribute,
  user time zones (dates are UTC).
"""

from isofind.objects.search.compiler import compile_condition, simple_text_condition
from isofind.objects.search.errors import SearchQueryError
from isofind.objects.search.parser import parse

__all__ = ["SearchQueryError", "compile_condition", "parse", "simple_text_condition"]
