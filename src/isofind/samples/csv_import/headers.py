"""Header names → our fields, in French or English, any case, with or without accents.

Exact synonyms first, then within a small edit distance (rapidfuzz) to forgive typos such as
`Lattitude` or `Echantilon`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from isofind.samples.vocabulary import fold

SAMPLE_FIELDS = (
    "name", "material_type", "sector", "collection_date", "collection_location", "description",
    "classification", "latitude", "longitude", "project", "altitude", "collector", "notes",
    "reference", "doi",
)
# Shared by every isotope value of a row.
ROW_FIELDS = ("method", "instrument", "session_date")
# One isotope value each; numbered (`element_1` …) in the wide layout. Unnumbered `standard`,
# `uncertainty_type` and `scale` are also the row's defaults for every value.
VALUE_FIELDS = (
    "element", "isotope_ratio", "ratio_value", "uncertainty", "standard", "uncertainty_type",
    "scale",
)
ROW_DEFAULT_VALUE_FIELDS = ("standard", "uncertainty_type", "scale")

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "sample name", "sample", "sample id", "sample code", "nom",
             "nom échantillon", "nom de l'échantillon", "nom d'échantillon", "échantillon",
             "identifiant", "id échantillon", "code échantillon"),
    "material_type": ("material type", "material", "matrix", "sample type", "type de matériau",
                      "type matériau", "matériau", "matériel", "matrice", "type d'échantillon",
                      "nature"),
    "sector": ("sector", "secteur", "zone", "area", "mining area", "mining district", "district",
               "district minier"),
    "collection_date": ("collection date", "sampling date", "date", "date de prélèvement",
                        "date prélèvement", "date de collecte", "date d'échantillonnage"),
    "collection_location": ("collection location", "location", "sampling location",
                            "sampling site", "site", "locality", "lieu", "lieu de prélèvement",
                            "site de prélèvement", "localisation", "localité"),
    "description": ("description", "descriptif"),
    "classification": ("classification", "class", "classe", "category", "catégorie", "role",
                       "source/daughter", "source/fille"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "long", "lng"),
    "project": ("project", "projet"),
    "altitude": ("altitude", "elevation", "élévation", "alt"),
    "collector": ("collector", "collected by", "sampled by", "collecteur", "préleveur",
                  "prélevé par"),
    "notes": ("notes", "note", "remarks", "remarques", "remarque", "comments", "comment",
              "commentaire", "commentaires"),
    "reference": ("reference", "référence", "publication", "citation",
                  "référence bibliographique"),
    "doi": ("doi",),
    "method": ("method", "méthode", "analytical method", "méthode analytique"),
    "instrument": ("instrument", "instrument used", "spectrometer", "spectromètre",
                   "mass spectrometer", "appareil"),
    "session_date": ("session date", "analysis date", "measurement date", "date de session",
                     "date d'analyse", "date de mesure"),
    "element": ("element", "élément"),
    "isotope_ratio": ("isotope ratio", "isotopic ratio", "ratio", "rapport isotopique",
                      "ratio isotopique", "rapport", "isotope"),
    "ratio_value": ("ratio value", "value", "valeur", "valeur du rapport", "valeur rapport"),
    "uncertainty": ("uncertainty", "incertitude", "error", "erreur"),
    "standard": ("standard", "étalon", "reference standard", "étalon de référence"),
    "uncertainty_type": ("uncertainty type", "type d'incertitude", "error type",
                         "type d'erreur"),
    "scale": ("scale", "delta scale", "reference scale", "échelle", "échelle de référence"),
}

_SEPARATORS = re.compile(r"[\s_\-.'’:/()\[\]]+")


def normalise_header(header: str) -> str:
    """`Nom de l'Échantillon` → `nom de l echantillon`; `element_1` → `element 1`."""
    return _SEPARATORS.sub(" ", fold(header)).strip()


def _synonym_index(fields: Sequence[str]) -> dict[str, str]:
    return {normalise_header(word): field for field in fields for word in _SYNONYMS[field]}


_ALL_FIELDS = (*SAMPLE_FIELDS, *ROW_FIELDS, *VALUE_FIELDS)
_FIELD_INDEX = _synonym_index(_ALL_FIELDS)
_VALUE_INDEX = _synonym_index(VALUE_FIELDS)
_NUMBERED = re.compile(r"(.*?) ?(\d+)")


@dataclass(frozen=True, slots=True)
class FieldRole:
    """A sample field or a row-wide isotope field (method, instrument, session_date)."""

    field: str

    @property
    def label(self) -> str:
        return self.field


@dataclass(frozen=True, slots=True)
class GroupRole:
    """One part of an isotope value in the wide layout; group "" when unnumbered."""

    field: str
    group: str

    @property
    def label(self) -> str:
        return f"{self.field}_{self.group}" if self.group else self.field


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    role: FieldRole | GroupRole
    exact: bool


def _allowed_distance(synonym: str) -> int:
    # Short words sit within two edits of each other (lat/lon, date/data): they must be exact.
    if len(synonym) <= 4:
        return 0
    return 1 if len(synonym) <= 7 else 2


def _closest_field(normalised: str, index: dict[str, str]) -> str | None:
    candidates = process.extract(
        normalised, index.keys(), scorer=Levenshtein.distance, score_cutoff=2, limit=None
    )
    close = [(distance, index[word]) for word, distance, _ in candidates
             if distance <= _allowed_distance(word)]
    if not close:
        return None
    best = min(distance for distance, _ in close)
    fields = {field for distance, field in close if distance == best}
    return fields.pop() if len(fields) == 1 else None  # a tie between two fields is no answer


def _role(field: str, group: str = "") -> FieldRole | GroupRole:
    return GroupRole(field, group) if field in VALUE_FIELDS else FieldRole(field)


def match_header(header: str) -> HeaderMatch | None:
    """The field a header names, exactly or within the allowed edit distance, or None."""
    normalised = normalise_header(header)
    if not normalised:
        return None
    numbered = _NUMBERED.fullmatch(normalised)
    if normalised in _FIELD_INDEX:
        return HeaderMatch(_role(_FIELD_INDEX[normalised]), exact=True)
    if numbered and numbered[1] in _VALUE_INDEX:
        return HeaderMatch(GroupRole(_VALUE_INDEX[numbered[1]], numbered[2]), exact=True)
    field = _closest_field(normalised, _FIELD_INDEX)
    if field is not None:
        return HeaderMatch(_role(field), exact=False)
    if numbered and numbered[1]:
        base = _closest_field(numbered[1], _VALUE_INDEX)
        if base is not None:
            return HeaderMatch(GroupRole(base, numbered[2]), exact=False)
    return None
