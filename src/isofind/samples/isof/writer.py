"""Writing unsigned .isof files from IsoFind's plain shapes.

The output is the newest version the `isof` reader accepts, with no signature block (a
signature is optional in every version), keys sorted and lists in the order given, so the
same input always gives the same bytes. Every ISOF field is written, null when unknown, as
IsoFind's own exports do; what ISOF cannot say goes in ``x_isofind`` (see ``fields``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from isofind import __version__
from isofind.samples.isof.fields import (
    CREATED_BY_FIELDS,
    EQUIPMENT_FIELDS,
    EXTENSION_KEY,
    ISOTOPE_COMMON,
    ISOTOPE_EXTENSION_FIELDS,
    PROJECT_FIELDS,
    REFERENCE_FIELDS,
    SAMPLE_EXTENSION_FIELDS,
    SAMPLE_NUMBER_FIELDS,
    SAMPLE_TO_ISOF,
    SOFTWARE,
    STAGE_FIELDS,
    STEP_FIELDS,
    WRITTEN_VERSION,
    YIELD_FIELDS,
    inferred_isotope_fields,
    is_delta,
)
from isofind.samples.isof.results import IsofError

Record = Mapping[str, Any]


def write_isof(
    samples: Iterable[Record],
    *,
    methods: Iterable[Record] = (),
    pipelines: Iterable[Record] = (),
    yields: Iterable[Record] = (),
    assignments: Iterable[Record] = (),
    project: str | Record | None = None,
    created_by: str | Record | None = None,
    created_at: datetime | str | None = None,
) -> bytes:
    """An unsigned ISOF document (UTF-8 JSON) that :func:`read_isof` reads back as given.

    Samples, yields and assignments name their sample by ``sample_id`` (IsoFind's id, written
    as the ISOF sample ``id``) or, failing that, ``source_id``. ``project`` is a name or an
    ISOF project block, ``created_by`` an operator name or an ISOF ``created_by`` block.
    ``created_at`` is written as given (none by default, which keeps the output a pure
    function of the input; exports pass the current time).

    Raises:
        IsofError: an input the format cannot carry (no id, duplicate keys, NaN …).
    """
    document = {
        "isof_version": WRITTEN_VERSION,
        "created_at": created_at.isoformat() if isinstance(created_at, datetime) else created_at,
        "created_by": _created_by(created_by),
        "project": _project(project),
        "samples": _samples(samples),
        "methods": _keyed((_method(m, f"methods[{i}]") for i, m in enumerate(methods)),
                          "method"),
        "pipelines": _keyed((_pipeline(p, f"pipelines[{i}]") for i, p in enumerate(pipelines)),
                            "pipeline"),
        "purification": _keyed((_yield(y, f"yields[{i}]") for i, y in enumerate(yields)),
                               "purification yield for"),
        "assignments": [_assignment(a, f"assignments[{i}]") for i, a in enumerate(assignments)],
    }
    try:
        text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2,
                          allow_nan=False)
    except (TypeError, ValueError) as error:
        raise IsofError(f"cannot write the ISOF file: {error}") from None
    return (text + "\n").encode("utf-8")


def _number(value: Any, path: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise IsofError(f"{path}: {value!r} is not a finite number")
    return value


def _whole(value: Any, path: str) -> int | None:
    number = _number(value, path)
    if number is None:
        return None
    if number != int(number):
        raise IsofError(f"{path}: {value!r} is not a whole number")
    return int(number)


def _sample_ref(record: Record, path: str) -> str:
    value = record.get("sample_id")
    if value is None:
        value = record.get("source_id")
    if value is None or value == "":
        raise IsofError(f"{path}: no sample_id")
    return str(value)


def _keyed(entries: Iterable[tuple[str, dict[str, Any]]], what: str) -> dict[str, Any]:
    block: dict[str, Any] = {}
    for key, entry in entries:
        if key in block:
            raise IsofError(f"two entries for {what} {key!r}")
        block[key] = entry
    return block


def _pick(record: Record | None, names: tuple[str, ...], path: str) -> dict[str, Any] | None:
    if record is None:
        return None
    unknown = sorted(set(record) - set(names))
    if unknown:
        raise IsofError(f"{path}: unknown fields {', '.join(unknown)}")
    return {name: record.get(name) for name in names}


def _created_by(created_by: str | Record | None) -> dict[str, Any]:
    block: dict[str, Any] = {"software": SOFTWARE, "software_version": __version__,
                             "operator": None, "organisation": None}
    if isinstance(created_by, str):
        block["operator"] = created_by
    elif created_by is not None:
        _pick(created_by, CREATED_BY_FIELDS, "created_by")  # refuses unknown fields
        block.update(created_by)  # what is given overrides our software and version
    return block


def _project(project: str | Record | None) -> dict[str, Any] | None:
    if isinstance(project, str):
        return {name: project if name == "name" else None for name in PROJECT_FIELDS}
    return _pick(project, PROJECT_FIELDS, "project")


# --- Samples -------------------------------------------------------------------------------

def _samples(samples: Iterable[Record]) -> list[dict[str, Any]]:
    written: list[dict[str, Any]] = []
    ids: set[str] = set()
    for index, sample in enumerate(samples):
        record = _sample(sample, f"samples[{index}]")
        if record["id"] in ids:
            raise IsofError(f"samples[{index}]: two samples have the id {record['id']!r}")
        ids.add(record["id"])
        written.append(record)
    return written


def _sample(sample: Record, path: str) -> dict[str, Any]:
    record: dict[str, Any] = {"id": _sample_ref(sample, path)}
    for name, key in SAMPLE_TO_ISOF.items():
        value = sample.get(name)
        record[key] = _number(value, f"{path}.{name}") if name in SAMPLE_NUMBER_FIELDS else value
    record["isotope_data"] = [_isotope(value, f"{path}.isotope_data[{index}]")
                              for index, value in enumerate(sample.get("isotope_data") or [])]
    # IsoFind stores none of the v1.2 families yet; a v1.2 sample lists them, empty.
    record.update(geochem_data=[], physico_data=[], molecules_data=[])
    extension = {name: sample[name] for name in SAMPLE_EXTENSION_FIELDS
                 if sample.get(name) is not None}
    if extension:
        record[EXTENSION_KEY] = extension
    return record


def _isotope(value: Record, path: str) -> dict[str, Any]:
    quantity = value.get("ratio")
    if not isinstance(quantity, str) or not quantity:
        raise IsofError(f"{path}.ratio: no ratio or delta name")
    delta = is_delta(quantity)
    number = _number(value.get("value"), f"{path}.value")
    uncertainty = _number(value.get("uncertainty"), f"{path}.uncertainty")
    standard, scale = value.get("standard"), value.get("reference_scale")
    # ISOF has one `standard` per record, which for a delta is its reference scale.
    isof_standard = (scale if scale is not None else standard) if delta else standard
    record: dict[str, Any] = {
        "element": value.get("element"),
        "system": None if delta else quantity,
        "ratio": None if delta else number,
        "ratio_2se": None if delta else uncertainty,
        "delta_notation": quantity if delta else None,
        "delta_value": number if delta else None,
        "delta_2sd": uncertainty if delta else None,
        "standard": isof_standard,
        **{name: value.get(name) for name in ISOTOPE_COMMON},
        "n_cycles": _whole(value.get("n_cycles"), f"{path}.n_cycles"),
    }
    for name in ("uncertainty_declared", "correlation"):
        _number(value.get(name), f"{path}.{name}")
    inferred = inferred_isotope_fields(delta=delta, isof_standard=isof_standard,
                                       uncertainty=uncertainty)
    # Only what the reader cannot infer: a plain 2SE ratio needs no extension at all.
    extension = {name: value.get(name) for name in ISOTOPE_EXTENSION_FIELDS
                 if value.get(name) != inferred[name]}
    if extension:
        record[EXTENSION_KEY] = extension
    return record


# --- Methods, pipelines, yields, assignments -----------------------------------------------

def _key(record: Record, path: str) -> str:
    key = record.get("key")
    if not isinstance(key, str) or not key:
        raise IsofError(f"{path}: no key")
    return key


def _method(method: Record, path: str) -> tuple[str, dict[str, Any]]:
    equipment = method.get("equipment")
    if equipment is not None:
        equipment = {name: equipment.get(name) for name in EQUIPMENT_FIELDS}
        equipment["resin_volume_ml"] = _number(equipment["resin_volume_ml"],
                                               f"{path}.equipment.resin_volume_ml")
    reference = method.get("reference")
    steps = [{**{name: step.get(name) for name in STEP_FIELDS},
              "num": _whole(step.get("num"), f"{path}.steps[{index}].num"),
              # The reader takes a missing `final` for false: write what it will read.
              "final": bool(step.get("final"))}
             for index, step in enumerate(method.get("steps") or [])]
    return _key(method, path), {
        "name": method.get("name"),
        "type": method.get("type"),
        "element": method.get("element"),
        "target_matrices": list(method.get("target_matrices") or []),
        "duration": method.get("duration"),
        "duration_hours": _number(method.get("duration_hours"), f"{path}.duration_hours"),
        "yield_min_pct": _number(method.get("yield_min_pct"), f"{path}.yield_min_pct"),
        "yield_max_pct": _number(method.get("yield_max_pct"), f"{path}.yield_max_pct"),
        "equipment": equipment,
        "steps": steps,
        "reference": None if reference is None else {name: reference.get(name)
                                                     for name in REFERENCE_FIELDS},
        "notes": method.get("notes"),
    }


def _pipeline(pipeline: Record, path: str) -> tuple[str, dict[str, Any]]:
    stages = [{**{name: stage.get(name) for name in STAGE_FIELDS},
               "order": _whole(stage.get("order"), f"{path}.stages[{index}].order")}
              for index, stage in enumerate(pipeline.get("stages") or [])]
    return _key(pipeline, path), {"name": pipeline.get("name"),
                                  "element": pipeline.get("element"),
                                  "description": pipeline.get("description"),
                                  "stages": stages}


def _yield(entry: Record, path: str) -> tuple[str, dict[str, Any]]:
    element = entry.get("element")
    if not isinstance(element, str) or not element:
        raise IsofError(f"{path}: no element")
    percent = _number(entry.get("yield_percent"), f"{path}.yield_percent")
    if percent is None:
        raise IsofError(f"{path}: no yield_percent")
    # The format keys a yield by "<sample id>_<element>" and splits it at the last "_".
    key = f"{_sample_ref(entry, path)}_{element}"
    return key, {"value_pct": percent, **{name: entry.get(name) for name in YIELD_FIELDS}}


def _assignment(assignment: Record, path: str) -> dict[str, Any]:
    return {"sample_id": _sample_ref(assignment, path),
            "method_key": assignment.get("method_key"),
            "pipeline_key": assignment.get("pipeline_key"),
            "assigned_at": assignment.get("assigned_at"),
            "assigned_by": assignment.get("assigned_by")}
