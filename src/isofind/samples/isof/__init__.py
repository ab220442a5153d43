"""The .isof exchange format: read (and verify) files with the `isof` package, write our own.

Pure conversion between file bytes and IsoFind's plain dicts: no database, no HTTP.
"""

from isofind.samples.isof.fields import WRITTEN_VERSION
from isofind.samples.isof.reader import read_isof
from isofind.samples.isof.results import IsofError, IsofImport
from isofind.samples.isof.writer import write_isof

__all__ = ["WRITTEN_VERSION", "IsofError", "IsofImport", "read_isof", "write_isof"]
