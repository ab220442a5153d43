"""Pure parsing of sample CSV files: bytes in, parsed samples or the complete error list out."""

from isofind.samples.csv_import.mapping import available_profiles
from isofind.samples.csv_import.parse import CsvFile, parse_csv, read_csv
from isofind.samples.csv_import.results import (
    ImportErrors,
    ImportProblem,
    MappingError,
    ParsedImport,
    ParsedIsotopeValue,
    ParsedSample,
)

__all__ = [
    "CsvFile",
    "ImportErrors",
    "ImportProblem",
    "MappingError",
    "ParsedImport",
    "ParsedIsotopeValue",
    "ParsedSample",
    "available_profiles",
    "parse_csv",
    "read_csv",
]
