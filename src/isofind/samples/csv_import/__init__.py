"""Pure parsing of sample CSV files: bytes in, parsed samples or the complete error list out."""

from isofind.samples.csv_import.mapping import available_profiles
from isofind.samples.csv_import.parse import parse_csv
from isofind.samples.csv_import.results import (
    ImportErrors,
    ImportProblem,
    MappingError,
    ParsedImport,
    ParsedIsotopeValue,
    ParsedSample,
)

__all__ = [
    "ImportErrors",
    "ImportProblem",
    "MappingError",
    "ParsedImport",
    "ParsedIsotopeValue",
    "ParsedSample",
    "available_profiles",
    "parse_csv",
]
