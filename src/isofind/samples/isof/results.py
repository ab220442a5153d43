"""What reading an .isof file gives: the converted content, or one error naming every problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# {"path": "samples[2].isotope_data[0].system", "value": <as in the file>, "message": "..."}
Problem = dict[str, Any]

# How many problems the error message spells out; `IsofError.problems` keeps them all.
_PROBLEMS_IN_MESSAGE = 5


class IsofError(ValueError):
    """The file cannot be imported: malformed, unsupported, unverifiable or with bad values.

    ``str(error)`` names what is wrong; ``problems`` lists each bad value with its path in the
    file (empty when the file as a whole is refused: bad JSON, version, signature, encryption).
    """

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = problems or []

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> IsofError:
        shown = "; ".join(f"{p['path']}: {p['message']}" for p in problems[:_PROBLEMS_IN_MESSAGE])
        more = len(problems) - _PROBLEMS_IN_MESSAGE
        if more > 0:
            shown += f"; and {more} more"
        noun = "problem" if len(problems) == 1 else "problems"
        return cls(f"{len(problems)} {noun} in the ISOF file: {shown}", problems)


@dataclass(slots=True)
class IsofImport:
    """An .isof file converted to IsoFind's plain shapes; None wherever the file says nothing.

    - ``samples``: ``{name, material_type, sector, collection_date, collection_location,
      description, classification, latitude, longitude, project, altitude, collector, notes,
      reference, doi, workflow_stage, source_id, isotope_data}``; ``source_id`` is the ISOF
      sample id (text). Each isotope value: ``{element, ratio, value, uncertainty,
      uncertainty_type_declared, uncertainty_declared, reference_scale, standard, instrument,
      session_date, notes, n_cycles, method, correlated_ratio, correlation}``, ``ratio`` the
      canonical ratio or delta name, ``uncertainty`` at 2σ.
    - ``methods``: ``{key, name, type, element, target_matrices, duration, duration_hours,
      yield_min_pct, yield_max_pct, equipment: {column, resin, resin_volume_ml, reagents,
      temperature} | None, steps: [{num, title, detail, final}], reference: {doi, citation} |
      None, notes}``.
    - ``pipelines``: ``{key, name, element, description, stages: [{order, method_key,
      label}]}``.
    - ``yields``: ``{source_id, element, yield_percent, date, operator, method_key, notes}``.
    - ``assignments``: ``{source_id, method_key, pipeline_key, assigned_at, assigned_by}``.
    - ``document``: ``{format_version, created_at, created_by: {software, software_version,
      operator, organisation} | None, project: {name, reference, client, classification,
      notes} | None, signature, encrypted}`` with ``signature`` ``{status: "unsigned" |
      "sha256-verified" | "signed", level: 0 | 1 | 2, signed_by, signed_at, scope: [block],
      unverified_blocks: [block]}``; ``unverified_blocks`` lists the content blocks holding
      data that no signature covers.

    Methods, pipelines and yields come in file order (a written file sorts them by key).
    """

    samples: list[dict[str, Any]]
    methods: list[dict[str, Any]]
    pipelines: list[dict[str, Any]]
    yields: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    document: dict[str, Any]
    # What the file holds that IsoFind does not import, by kind: {"geochem_data": 3}.
    skipped: dict[str, int] = field(default_factory=dict)
