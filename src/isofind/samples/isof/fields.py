"""The mapping between IsoFind's sample and isotope fields and the ISOF ones, shared by the
reader and the writer so that a file we write reads back identically.

Fields IsoFind keeps and ISOF does not define travel in an ``x_isofind`` object inside the
sample or isotope record: the ``isof`` package and other readers ignore unknown keys. The
writer puts there only what the reader could not infer from the ISOF fields alone, so a
typical export stays plain ISOF.
"""

from __future__ import annotations

from typing import Any

# The newest version the installed `isof` reader accepts (it refuses anything else).
WRITTEN_VERSION = "1.2"
EXTENSION_KEY = "x_isofind"
SOFTWARE = "IsoFind"

SAMPLE_FIELDS = (
    "name", "material_type", "sector", "collection_date", "collection_location", "description",
    "classification", "latitude", "longitude", "project", "altitude", "collector", "notes",
    "reference", "doi", "workflow_stage",
)
# IsoFind sample field → ISOF sample key, for the fields the format defines.
SAMPLE_TO_ISOF = {
    "name": "name", "classification": "classification", "material_type": "material_type",
    "sector": "sector", "project": "project", "latitude": "latitude", "longitude": "longitude",
    "altitude": "altitude_m", "collection_date": "collection_date", "collector": "collector",
    "description": "description", "workflow_stage": "workflow_stage",
}
SAMPLE_EXTENSION_FIELDS = ("collection_location", "notes", "reference", "doi")
SAMPLE_NUMBER_FIELDS = frozenset({"latitude", "longitude", "altitude"})

ISOTOPE_FIELDS = (
    "element", "ratio", "value", "uncertainty", "uncertainty_type_declared",
    "uncertainty_declared", "reference_scale", "standard", "instrument", "session_date", "notes",
    "n_cycles", "method", "correlated_ratio", "correlation",
)
# Written in the ISOF record itself (besides the quantity, its value and its 2σ).
ISOTOPE_COMMON = ("instrument", "session_date", "notes", "n_cycles")
ISOTOPE_EXTENSION_FIELDS = (
    "uncertainty_type_declared", "uncertainty_declared", "reference_scale", "standard", "method",
    "correlated_ratio", "correlation",
)
ISOTOPE_EXTENSION_NUMBERS = frozenset({"uncertainty_declared", "correlation"})

EQUIPMENT_FIELDS = ("column", "resin", "resin_volume_ml", "reagents", "temperature")
STEP_FIELDS = ("num", "title", "detail", "final")
REFERENCE_FIELDS = ("doi", "citation")
STAGE_FIELDS = ("order", "method_key", "label")
YIELD_FIELDS = ("date", "operator", "method_key", "notes")
CREATED_BY_FIELDS = ("software", "software_version", "operator", "organisation")
PROJECT_FIELDS = ("name", "reference", "client", "classification", "notes")

# The blocks of scientific content, in the order the format lists them.
CONTENT_BLOCKS = ("samples", "methods", "pipelines", "purification", "assignments")


def is_delta(quantity: str) -> bool:
    """Canonical delta names start with δ (`δ65Cu`); everything else is a ratio."""
    return quantity.startswith("δ")


def inferred_isotope_fields(
    *, delta: bool, isof_standard: str | None, uncertainty: float | None
) -> dict[str, Any]:
    """The IsoFind-only isotope fields as the reader infers them from the ISOF record alone.

    ``ratio_2se`` is a 2SE and ``delta_2sd`` a 2SD, both already at 2σ, so the declared value
    is the stored one; a delta's ``standard`` is its reference scale.
    """
    declared = None if uncertainty is None else ("2SD" if delta else "2SE")
    return {
        "uncertainty_type_declared": declared,
        "uncertainty_declared": uncertainty,
        "reference_scale": isof_standard if delta else None,
        "standard": isof_standard,
        "method": None,
        "correlated_ratio": None,
        "correlation": None,
    }
