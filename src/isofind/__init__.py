"""IsoFind: versioned isotope samples, a SampleDB-compatible API and provenance matching."""

__version__ = "0.1.0"
__build_date__ = "2026-11-21"
