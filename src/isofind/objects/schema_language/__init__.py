"""The SampleDB schema language: validation of action schemas and of object data.

Pure functions without database or HTTP: :func:`validate_schema` checks an action schema,
:func:`validate_data` checks (and completes) object data against a schema, asking a
:class:`ReferenceChecker` about referenced objects, users and files. Both raise a subclass of
:class:`SchemaLanguageError` whose ``path`` points at the offending value. Behaviour follows
SampleDB's documentation (docs/user_guide/schemas.rst) and its validators.
"""

from collections.abc import Mapping
from typing import Any

from ..units import InvalidUnitsError, prepare_quantity
from .data_validation import check_data
from .errors import DataValidationError, JsonPath, SchemaError, SchemaLanguageError, format_path
from .references import (
    ACTION_TYPE_MEASUREMENT,
    ACTION_TYPE_SAMPLE,
    InMemoryReferences,
    KnownObject,
    ReferenceChecker,
)
from .schema_validation import PROPERTY_TYPES, validate_schema


def validate_data(
    data: object,
    schema: Mapping[str, Any],
    refs: ReferenceChecker,
    *,
    object_id: int | None = None,
    schema_is_valid: bool = False,
) -> None:
    """Raise DataValidationError unless ``data`` is valid object data for ``schema``.

    The schema is validated first (SchemaError if it is invalid). References must point at
    objects readable through ``refs``; ``sample`` properties need action type -99 and
    ``measurement`` properties -98. ``object_id`` is the object the data belongs to (None
    for a new object); file properties may only reference files of that object.

    ``data`` is completed in place as SampleDB stores it: quantities and timeseries gain
    their missing magnitudes, units and dimensionality, texts matching a choice take the
    choice's form and plotly charts given as JSON text are parsed.

    ``schema_is_valid`` skips validating the schema, for callers that validated this very
    schema before (it is the same for every object of an action).
    """
    if not schema_is_valid:
        validate_schema(schema)
    check_data(data, schema, refs, object_id=object_id)


__all__ = [
    "ACTION_TYPE_MEASUREMENT",
    "ACTION_TYPE_SAMPLE",
    "PROPERTY_TYPES",
    "DataValidationError",
    "InMemoryReferences",
    "InvalidUnitsError",
    "JsonPath",
    "KnownObject",
    "ReferenceChecker",
    "SchemaError",
    "SchemaLanguageError",
    "format_path",
    "prepare_quantity",
    "validate_data",
    "validate_schema",
]
