"""Rules for isotopic standards and the normalization of isotope values against them.

Standards are versioned (see :mod:`isofind.reference.standards.models`): writing one appends
a version, and every normalized value names the standard versions and calculated shifts it
used. Standards are found by name the way labs write them: case, accents, spaces and hyphens
aside, ``NIST`` dropped and ``NBS`` read as ``SRM`` (``NBS 981`` is ``SRM 981``).

Services never commit: the request's unit of work does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import Conflict, Forbidden, NotFound, Unprocessable
from isofind.identity.models import User
from isofind.reference.standards.models import (
    CrmIsotope,
    ShiftRecord,
    Standard,
    StandardVersion,
)
from isofind.reference.standards.normalization import (
    PER_MIL,
    InvalidInputError,
    StandardValue,
    ValueKind,
    bracket_ratio,
    canonical_uncertainty_type,
    delta_scale_change,
    delta_scale_change_uncertainty,
    to_two_sigma,
)
from isofind.reference.standards.schemas import StandardIn, StandardUpdate
from isofind.reference.standards.shifts import (
    Conversion,
    NoConversionPath,
    Shift,
    convert,
    delta_shift,
    ratio_shift,
)
from isofind.samples.models import IsotopeValue, SampleIndex
from isofind.samples.vocabulary import (
    fold,
    normalise_doi,
    normalise_element,
    parse_isotope_quantity,
)
from isofind.timeutil import utcnow

UNSTATED = "unstated"
DEFAULT_UNCERTAINTY_TYPE = "2SD"
# Fields a lab may change on a built-in standard: the certified ones belong to the source.
LAB_FIELDS = frozenset(
    {"is_reference", "measured_value", "measured_uncertainty", "measured_uncertainty_type"}
)
VERSION_FIELDS = (
    "name", "abbreviation", "element", "kind", "quantity", "scale", "value", "uncertainty",
    "uncertainty_type", "normalization", "note", "citation", "doi", "is_reference",
    "measured_value", "measured_uncertainty", "measured_uncertainty_type",
)
REQUIRED_FIELDS = frozenset(
    {"name", "abbreviation", "element", "quantity", "value", "uncertainty_type", "is_reference"}
)


# --- names ----------------------------------------------------------------------------------


def standard_key(name: str) -> str:
    """What makes two spellings the same standard: ``NBS-981``, ``nist srm 981`` → ``srm981``."""
    key = "".join(char for char in fold(name) if char not in " -_.")
    key = key.removeprefix("nist")
    if key.startswith("nbs"):
        key = "srm" + key[3:]
    return key


def kind_of(quantity: str) -> ValueKind:
    return ValueKind.DELTA if quantity.startswith("δ") else ValueKind.RATIO


# --- reading --------------------------------------------------------------------------------


def _current_versions_query(
    include_deleted: bool = False,
) -> Select[tuple[Standard, StandardVersion]]:
    latest = (
        select(StandardVersion.standard_id, func.max(StandardVersion.version).label("version"))
        .group_by(StandardVersion.standard_id)
        .subquery()
    )
    query = (
        select(Standard, StandardVersion)
        .join(latest, latest.c.standard_id == Standard.id)
        .join(StandardVersion, and_(StandardVersion.standard_id == Standard.id,
                                    StandardVersion.version == latest.c.version))
    )
    if not include_deleted:
        query = query.where(Standard.deleted_at.is_(None))
    return query


def list_standards(
    db: Session, *, element: str | None = None, quantity: str | None = None
) -> list[tuple[Standard, StandardVersion]]:
    """Current standards, optionally of one element (symbol or name) and one quantity."""
    query = _current_versions_query()
    if element:
        query = query.where(StandardVersion.element == (normalise_element(element) or element))
    if quantity:
        parsed = parse_isotope_quantity(quantity)
        query = query.where(StandardVersion.quantity == (parsed.name if parsed else quantity))
    query = query.order_by(StandardVersion.element, StandardVersion.quantity,
                           Standard.is_custom, StandardVersion.abbreviation, Standard.id)
    return [(row[0], row[1]) for row in db.execute(query).all()]


def get_standard(db: Session, standard_id: int) -> tuple[Standard, StandardVersion]:
    row = db.execute(_current_versions_query().where(Standard.id == standard_id)).first()
    if row is None:
        raise NotFound(f"standard {standard_id} does not exist")
    return row[0], row[1]


def standard_versions(db: Session, standard_ids: Iterable[int]) -> dict[int, list[StandardVersion]]:
    ids = list(standard_ids)
    history: dict[int, list[StandardVersion]] = {i: [] for i in ids}
    if not ids:
        return history
    rows = db.scalars(select(StandardVersion).where(StandardVersion.standard_id.in_(ids))
                      .order_by(StandardVersion.standard_id, StandardVersion.version))
    for version in rows:
        history[version.standard_id].append(version)
    return history


def uncertainty_2s(uncertainty: float | None, uncertainty_type: str | None) -> float | None:
    """The 2σ value of a declared uncertainty, or None when none is stated."""
    if uncertainty is None or uncertainty_type is None:
        return None
    if canonical_uncertainty_type(uncertainty_type) == UNSTATED:
        return None
    return to_two_sigma(uncertainty, uncertainty_type)


def certified_value(version: StandardVersion, warnings: list[str]) -> StandardValue:
    """The certified value as the maths uses it; an unstated uncertainty counts as 0.

    Labs normalize to a reference value without propagating its uncertainty when its source
    states none; the result says so in ``warnings`` rather than refusing.
    """
    two_sigma = uncertainty_2s(version.uncertainty, version.uncertainty_type)
    if two_sigma is None:
        two_sigma = 0.0
        warnings.append(
            f"{version.abbreviation} {version.quantity}: the source states no uncertainty "
            "level; its uncertainty is not propagated"
        )
    return StandardValue(
        standard=version.abbreviation, quantity=version.quantity, value=version.value,
        uncertainty=two_sigma, scale=version.scale or version.abbreviation,
        version=version.version, citation=version.citation,
    )


def measured_value(version: StandardVersion) -> StandardValue | None:
    if version.measured_value is None:
        return None
    return StandardValue(
        standard=version.abbreviation, quantity=version.quantity, value=version.measured_value,
        uncertainty=to_two_sigma(version.measured_uncertainty or 0.0,
                                 version.measured_uncertainty_type or DEFAULT_UNCERTAINTY_TYPE),
        scale=f"{version.abbreviation} (lab)", version=version.version,
    )


@dataclass(frozen=True, slots=True)
class LabShift:
    value: float
    uncertainty: float
    offset_permil: float
    offset_uncertainty: float


def lab_shift(version: StandardVersion) -> LabShift | None:
    """Shift from the lab's measured mean of a standard to its certified value."""
    measured = measured_value(version)
    if measured is None:
        return None
    certified = certified_value(version, [])
    try:
        if version.kind == ValueKind.RATIO:
            value, uncertainty = ratio_shift(measured, certified)
            return LabShift(value, uncertainty, (value - 1.0) * PER_MIL, uncertainty * PER_MIL)
        value, uncertainty = delta_shift(measured, certified)
    except InvalidInputError:
        return None
    return LabShift(value, uncertainty, value, uncertainty)


# --- validation -----------------------------------------------------------------------------


def _invalid(exc: InvalidInputError) -> Unprocessable:
    return Unprocessable(str(exc))


def check_uncertainty_type(field_name: str, uncertainty: float | None, declared: str) -> str:
    if canonical_uncertainty_type(declared) == UNSTATED:
        return UNSTATED
    try:
        to_two_sigma(uncertainty or 0.0, declared)
    except InvalidInputError as exc:
        reason = str(exc).split(": ", 1)[1]
        if exc.field == "uncertainty_type":
            raise Unprocessable(f"{field_name}={declared!r}: {reason}") from None
        raise Unprocessable(f"{field_name.removesuffix('_type')}={uncertainty!r}: {reason}") \
            from None
    return declared


def check_value(field_name: str, kind: str, value: float) -> None:
    if kind == ValueKind.RATIO and value <= 0:
        raise Unprocessable(f"{field_name}={value!r}: an isotope ratio must be > 0")
    if kind == ValueKind.DELTA and value <= -PER_MIL:
        raise Unprocessable(f"{field_name}={value!r}: a delta value must be > −1000 ‰")


def checked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Canonical, consistent standard fields, or 422 naming the first wrong one."""
    quantity = parse_isotope_quantity(fields["quantity"], {fields["element"]})
    if quantity is None:
        raise Unprocessable(
            f"quantity {fields['quantity']!r} is not an isotope ratio or delta "
            "(e.g. 206Pb/204Pb, δ65Cu)"
        )
    element = normalise_element(fields["element"], quantity.elements)
    if element is None or element not in quantity.elements:
        raise Unprocessable(
            f"element {fields['element']!r} is not an element of {quantity.name}"
        )
    checked = dict(fields, quantity=quantity.name, element=element, kind=quantity.kind)
    if quantity.kind == ValueKind.DELTA and not checked.get("scale"):
        raise Unprocessable(
            f"scale: a delta standard names the standard whose scale {quantity.name} is on"
        )
    check_value("value", quantity.kind, checked["value"])
    checked["uncertainty_type"] = check_uncertainty_type(
        "uncertainty_type", checked.get("uncertainty"), checked["uncertainty_type"]
    )
    if checked.get("measured_value") is not None:
        check_value("measured_value", quantity.kind, checked["measured_value"])
        checked["measured_uncertainty_type"] = checked.get("measured_uncertainty_type") or (
            DEFAULT_UNCERTAINTY_TYPE)
        declared = checked["measured_uncertainty_type"]
        if canonical_uncertainty_type(declared) == UNSTATED:
            raise Unprocessable(
                "measured_uncertainty_type: the lab's own uncertainty needs a level (e.g. 2SD)"
            )
        check_uncertainty_type("measured_uncertainty_type",
                                checked.get("measured_uncertainty"), declared)
    else:
        checked["measured_uncertainty"] = None
        checked["measured_uncertainty_type"] = None
    if checked.get("doi"):
        doi = normalise_doi(checked["doi"])
        if doi is None:
            raise Unprocessable(f"doi {checked['doi']!r} is not a DOI (10.xxxx/…)")
        checked["doi"] = doi
    return checked


def _require_writer(user: User) -> None:
    if user.is_readonly:
        raise Forbidden("read-only accounts cannot change standards")


# Any constant works: it only has to be the same for every transaction that writes standards.
_STANDARDS_LOCK = 0x57A4DA2D


def serialize_writes(db: Session, lock: int = _STANDARDS_LOCK) -> None:
    """Write standards one transaction at a time: versions are numbered from the last one read
    and one "Set ref" per element must hold. SQLite already runs one writer at a time (BEGIN
    IMMEDIATE); PostgreSQL needs a lock.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(lock)))


def _same_standard(
    db: Session, abbreviation: str, quantity: str, excluding: int | None = None
) -> tuple[Standard, StandardVersion] | None:
    key = standard_key(abbreviation)
    for standard, version in list_standards(db, quantity=quantity):
        if standard.id != excluding and standard_key(version.abbreviation) == key:
            return standard, version
    return None


# --- writing --------------------------------------------------------------------------------


def _append_version(
    db: Session, standard: Standard, previous: StandardVersion | None, fields: dict[str, Any],
    change: str, user: User,
) -> StandardVersion:
    version = StandardVersion(
        standard_id=standard.id, version=(previous.version + 1) if previous else 1,
        change=change, user_id=user.id, utc_datetime=utcnow(),
        **{name: fields.get(name) for name in VERSION_FIELDS},
    )
    db.add(version)
    db.flush()
    return version


def _snapshot(version: StandardVersion) -> dict[str, Any]:
    return {name: getattr(version, name) for name in VERSION_FIELDS}


def _unset_other_references(
    db: Session, standard_id: int, element: str, quantity: str, user: User
) -> None:
    """One "Set ref" per element and quantity: the previous holder gets a new version."""
    others = [
        (standard, version) for standard, version in list_standards(
            db, element=element, quantity=quantity)
        if version.is_reference and standard.id != standard_id
    ]
    for standard, version in others:
        _append_version(db, standard, version, dict(_snapshot(version), is_reference=False),
                        "updated", user)


def create_custom(
    db: Session, user: User, body: StandardIn, client: str | None = None
) -> tuple[Standard, StandardVersion]:
    _require_writer(user)
    serialize_writes(db)
    fields = checked_fields(body.model_dump())
    existing = _same_standard(db, fields["abbreviation"], fields["quantity"])
    if existing is not None:
        raise Conflict(
            f"standard {existing[0].id} already holds {existing[1].abbreviation} "
            f"{existing[1].quantity}: update it instead"
        )
    standard = Standard(is_custom=True, created_by=user.id, created_at=utcnow())
    db.add(standard)
    db.flush()
    if fields["is_reference"]:
        _unset_other_references(db, standard.id, fields["element"], fields["quantity"], user)
    version = _append_version(db, standard, None, fields, "created", user)
    record_activity(db, "standard.created", user_id=user.id, target_type="standard",
                    target_id=standard.id, client_address=client,
                    details={"abbreviation": version.abbreviation, "quantity": version.quantity})
    return standard, version


def update_standard(
    db: Session, user: User, standard_id: int, body: StandardUpdate, client: str | None = None
) -> tuple[Standard, StandardVersion]:
    _require_writer(user)
    serialize_writes(db)
    standard, current = get_standard(db, standard_id)
    sent = body.model_dump(exclude_unset=True)
    for name in sorted(REQUIRED_FIELDS & sent.keys()):
        if sent[name] is None:
            raise Unprocessable(f"{name} cannot be null")
    old = _snapshot(current)
    fields = checked_fields({**old, **sent})
    changed = sorted(name for name in VERSION_FIELDS if old.get(name) != fields.get(name))
    if not standard.is_custom and set(changed) - LAB_FIELDS:
        raise Conflict(
            f"standard {standard_id} ({current.abbreviation} {current.quantity}) is built in: "
            f"its certified values come from the cited source and cannot be changed "
            f"({', '.join(sorted(set(changed) - LAB_FIELDS))}); create a custom standard for "
            f"other values. A built-in standard takes: {', '.join(sorted(LAB_FIELDS))}"
        )
    if not changed:
        return standard, current
    if fields["abbreviation"] != old["abbreviation"] or fields["quantity"] != old["quantity"]:
        clash = _same_standard(db, fields["abbreviation"], fields["quantity"],
                               excluding=standard_id)
        if clash is not None:
            raise Conflict(
                f"standard {clash[0].id} already holds {clash[1].abbreviation} "
                f"{clash[1].quantity}"
            )
        # Data names standards as written: a new name or quantity would orphan it.
        renamed = standard_key(fields["abbreviation"]) != standard_key(old["abbreviation"])
        moved = fields["quantity"] != old["quantity"]
        uses = standard_uses(db, current) if renamed or moved else []
        if uses:
            raise Conflict(
                f"standard {standard_id} ({current.abbreviation} {current.quantity}) is in use "
                f"and keeps its name and quantity: {'; '.join(uses)}"
            )
    if fields["is_reference"]:
        _unset_other_references(db, standard_id, fields["element"], fields["quantity"], user)
    current = _append_version(db, standard, current, fields, "updated", user)
    record_activity(db, "standard.updated", user_id=user.id, target_type="standard",
                    target_id=standard_id, client_address=client,
                    details={"version": current.version, "fields": changed})
    return standard, current


def standard_uses(db: Session, version: StandardVersion) -> list[str]:
    """What refers to this standard's value: isotope values, CRM values, other standards."""
    key = standard_key(version.abbreviation)
    uses: list[str] = []
    written = db.execute(
        select(IsotopeValue.standard, IsotopeValue.normalized_standard).distinct()
        .where(IsotopeValue.quantity == version.quantity)
    ).all()
    spellings = {
        text for pair in written for text in pair
        if text is not None and standard_key(text) == key
    }
    if spellings:
        samples = db.execute(
            select(IsotopeValue.sample_id, SampleIndex.name).distinct()
            .join(SampleIndex, SampleIndex.sample_id == IsotopeValue.sample_id)
            .where(IsotopeValue.quantity == version.quantity)
            .where(or_(IsotopeValue.standard.in_(spellings),
                       IsotopeValue.normalized_standard.in_(spellings)))
            .order_by(IsotopeValue.sample_id)
        ).all()
        listed = ", ".join(f"{sample_id} ({name})" for sample_id, name in samples[:10])
        more = f" and {len(samples) - 10} more" if len(samples) > 10 else ""
        uses.append(f"{version.quantity} values of samples {listed}{more}")
    crm_rows = db.execute(
        select(CrmIsotope.crm_id, CrmIsotope.ratio, CrmIsotope.scale, CrmIsotope.measured_standard)
        .where(CrmIsotope.ratio == version.quantity)
    ).all()
    crms = sorted({
        crm_id for crm_id, _, scale, measured in crm_rows
        if any(text is not None and standard_key(text) == key for text in (scale, measured))
    })
    if crms:
        uses.append(f"{version.quantity} values of CRMs {', '.join(map(str, crms))}")
    dependants = sorted(
        other_version.abbreviation
        for other, other_version in list_standards(db, quantity=version.quantity)
        if other.id != version.standard_id and other_version.scale
        and standard_key(other_version.scale) == key
        and standard_key(other_version.abbreviation) != key
    )
    if dependants:
        uses.append(f"standards expressed on its scale: {', '.join(dependants)}")
    return uses


def delete_standard(
    db: Session, user: User, standard_id: int, client: str | None = None
) -> StandardVersion:
    _require_writer(user)
    serialize_writes(db)
    standard, current = get_standard(db, standard_id)
    label = f"standard {standard_id} ({current.abbreviation} {current.quantity})"
    if not standard.is_custom:
        raise Conflict(f"{label} is built in and cannot be deleted")
    uses = standard_uses(db, current)
    if uses:
        raise Conflict(f"{label} is in use and cannot be deleted: {'; '.join(uses)}")
    final = _append_version(db, standard, current, _snapshot(current), "deleted", user)
    standard.deleted_at = final.utc_datetime
    standard.deleted_by = user.id
    record_activity(db, "standard.deleted", user_id=user.id, target_type="standard",
                    target_id=standard_id, client_address=client,
                    details={"abbreviation": current.abbreviation, "quantity": current.quantity,
                             "version": final.version})
    return final


# --- the graph of known shifts --------------------------------------------------------------


@dataclass
class Library:
    """Current standards and latest calculated shifts, loaded once for many calculations."""

    versions: list[tuple[Standard, StandardVersion]]
    shift_records: list[ShiftRecord]
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Session) -> Library:
        library = cls(list_standards(db), latest_shift_records(db))
        for _, version in library.versions:
            library.names.setdefault(standard_key(version.abbreviation), version.abbreviation)
        for _, version in library.versions:
            library.names.setdefault(standard_key(version.name), version.abbreviation)
        for shift_record in library.shift_records:
            for name in (shift_record.from_standard, shift_record.to_standard):
                library.names.setdefault(standard_key(name), name)
        return library

    def canonical(self, name: str) -> str:
        """The library's spelling of a standard name, or the name as written."""
        return self.names.get(standard_key(name), name.strip())

    def standard(self, name: str, quantity: str) -> StandardVersion | None:
        wanted = standard_key(self.canonical(name))
        for _, version in self.versions:
            if version.quantity == quantity and standard_key(version.abbreviation) == wanted:
                return version
        return None

    def reference(self, element: str, quantity: str) -> StandardVersion | None:
        for _, version in self.versions:
            if version.element == element and version.quantity == quantity \
                    and version.is_reference:
                return version
        return None

    def edges(self, element: str, quantity: str) -> tuple[list[Shift], dict[str, dict[str, Any]]]:
        """Known shifts between two different standards, and each one's source by label.

        A delta standard expressed on another's scale is one edge (AA-ETH → JMC-Lyon); each
        calculated shift between two named standards is another (the latest per pair).
        """
        kind = kind_of(quantity)
        shifts: list[Shift] = []
        sources: dict[str, dict[str, Any]] = {}
        for _, version in self.versions:
            if version.quantity != quantity or version.element != element or not version.scale:
                continue
            start, end = version.abbreviation, self.canonical(version.scale)
            if kind is not ValueKind.DELTA or standard_key(start) == standard_key(end):
                continue
            warnings: list[str] = []
            value = certified_value(version, warnings)
            label = f"standard:{version.standard_id}:{version.version}"
            shifts.append(Shift(element, quantity, kind, start, end, value.value,
                                value.uncertainty, (value,), label))
            sources[label] = {
                "type": "standard", "standard_id": version.standard_id,
                "version": version.version, "standard": start, "scale": end,
                "value": version.value, "citation": version.citation, "doi": version.doi,
                "warnings": warnings,
            }
        for shift_record in self.shift_records:
            if shift_record.quantity != quantity or shift_record.element != element:
                continue
            start = self.canonical(shift_record.from_standard)
            end = self.canonical(shift_record.to_standard)
            if standard_key(start) == standard_key(end):
                continue
            label = f"shift:{shift_record.id}"
            shifts.append(Shift(element, quantity, kind, start, end, shift_record.value,
                                shift_record.uncertainty, (), label))
            sources[label] = shift_source(shift_record)
        return shifts, sources

    def lab_shift_from(
        self, name: str, element: str, quantity: str, prefer: str
    ) -> ShiftRecord | None:
        """The calculated shift carrying values measured against ``name`` onto a standard."""
        key = standard_key(name)
        candidates = [
            r for r in self.shift_records
            if r.element == element and r.quantity == quantity
            and standard_key(r.from_standard) == key
        ]
        if not candidates:
            return None

        def rank(r: ShiftRecord) -> tuple[int, int]:
            to_key = standard_key(r.to_standard)
            order = 0 if to_key == standard_key(prefer) else 1 if to_key == key else 2
            return order, -r.id

        return min(candidates, key=rank)


def latest_shift_records(db: Session) -> list[ShiftRecord]:
    """The most recent calculated shift per element, quantity and pair of standards."""
    rows = db.scalars(select(ShiftRecord).order_by(ShiftRecord.id.desc())).all()
    seen: set[tuple[str, str, str, str]] = set()
    latest: list[ShiftRecord] = []
    for row in rows:
        key = (row.element, row.quantity, standard_key(row.from_standard),
               standard_key(row.to_standard))
        if key not in seen:
            seen.add(key)
            latest.append(row)
    return latest


def shift_source(shift_record: ShiftRecord) -> dict[str, Any]:
    return {
        "type": "calculated_shift", "shift_id": shift_record.id, "crm_id": shift_record.crm_id,
        "crm": shift_record.crm_name, "crm_version": shift_record.crm_version,
        "from_standard": shift_record.from_standard, "to_standard": shift_record.to_standard,
        "value": shift_record.value, "uncertainty": shift_record.uncertainty,
        "warnings": list(shift_record.basis.get("warnings", [])),
    }


def standard_source(version: StandardVersion, role: str) -> dict[str, Any]:
    return {
        "type": role, "standard_id": version.standard_id, "version": version.version,
        "standard": version.abbreviation, "quantity": version.quantity,
        "value": version.value if role == "certified" else version.measured_value,
        "uncertainty": version.uncertainty if role == "certified"
        else version.measured_uncertainty,
        "uncertainty_type": version.uncertainty_type if role == "certified"
        else version.measured_uncertainty_type,
        "citation": version.citation if role == "certified" else None,
        "doi": version.doi if role == "certified" else None,
    }


def conversion_sources(
    conversion: Conversion, sources: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    used: list[dict[str, Any]] = []
    warnings: list[str] = []
    for step in conversion.steps:
        source = dict(sources.get(step.shift.label or "", {}))
        warnings.extend(source.pop("warnings", []))
        used.append(source)
    return used, warnings


# --- normalization --------------------------------------------------------------------------


def apply_shift_record(
    value: float, uncertainty: float, shift_record: ShiftRecord
) -> tuple[float, float]:
    """Carry a value measured against the shift's standard onto its certified side.

    Ratio: R' = R·f with (u'/R')² = (u/R)² + (u_f/f)². Delta: the scale change
    δ' = δ + d + 10⁻³·δ·d with its partial-derivative propagation.
    """
    if shift_record.kind == ValueKind.RATIO:
        result = value * shift_record.value
        relative = math.hypot(uncertainty / value, shift_record.uncertainty / shift_record.value)
        return result, abs(result) * relative
    return (
        delta_scale_change(value, shift_record.value),
        delta_scale_change_uncertainty(value, uncertainty, shift_record.value,
                                       shift_record.uncertainty),
    )


class _Skip(Exception):
    """A value that cannot be normalized; the message says why."""


def normalize_values(
    library: Library, values: Sequence[dict[str, Any]], target_standard: str | None
) -> list[dict[str, Any]]:
    """Normalize plain isotope values to ``target_standard`` (None: each one's "Set ref"),
    with the standards and shifts of ``library`` (:meth:`Library.load`, once for many samples).

    Each value is a dict with at least ``element``, ``ratio`` (ratio or delta, canonical or
    not), ``value``, ``uncertainty`` (2σ, may be None) and ``standard`` (what it was measured
    against; for a delta, ``reference_scale`` wins when given); other keys are passed
    through. Each answer is the input plus either

    * ``normalized: True``, ``normalized_value``, ``normalized_uncertainty`` (None when the
      input had none), ``normalized_to``, ``method``, ``path`` (standards passed through),
      ``used`` (every standard version and calculated shift the result depends on, with ids
      and versions) and ``warnings``; or
    * ``normalized: False`` and ``reason``.

    A ratio first needs the lab's correction for its measuring standard S: standard
    bracketing with S's lab-measured mean (R_meas × R_cert / R_std,meas, see
    :func:`~isofind.reference.standards.normalization.bracket_ratio`), or else the latest
    calculated shift from S. A delta is already on S's scale (a calculated shift from S, when
    there is one, corrects the lab's realisation of S). The value is then carried to the
    target through the shortest chain of known shifts
    (:func:`~isofind.reference.standards.shifts.convert`).
    """
    return [_normalize_one(library, dict(item), target_standard) for item in values]


def _normalize_one(
    library: Library, item: dict[str, Any], target_standard: str | None
) -> dict[str, Any]:
    try:
        return {**item, "normalized": True, **_normalized(library, item, target_standard)}
    except _Skip as skip:
        return {**item, "normalized": False, "reason": str(skip)}


def _normalized(
    library: Library, item: dict[str, Any], target_standard: str | None
) -> dict[str, Any]:
    written_element, written = item.get("element"), item.get("ratio") or item.get("quantity")
    value, uncertainty = item.get("value"), item.get("uncertainty")
    if not written_element or not written:
        raise _Skip("the value names no element or ratio")
    parsed = parse_isotope_quantity(str(written))
    quantity = parsed.name if parsed else str(written)
    element = normalise_element(str(written_element)) or str(written_element)
    measured_against = item.get("standard")
    if kind_of(quantity) is ValueKind.DELTA and item.get("reference_scale"):
        # A delta is expressed on its reference scale, whatever standard bracketed it.
        measured_against = item["reference_scale"]
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Skip("the value is not a number")
    if target_standard:
        target = library.canonical(target_standard)
    else:
        reference = library.reference(element, quantity)
        if reference is None:
            raise _Skip(f"no reference standard is set for {element} {quantity}: name one")
        target = reference.abbreviation
    if not measured_against:
        raise _Skip("the value names no standard it was measured against")
    start = library.canonical(measured_against)
    kind = kind_of(quantity)
    used: list[dict[str, Any]] = []
    warnings: list[str] = []
    current, current_uncertainty = float(value), float(uncertainty or 0.0)
    method: list[str] = []
    node = start
    try:
        if kind is ValueKind.RATIO:
            target_version = library.standard(target, quantity)
            if target_version is None:
                raise _Skip(f"standard {target!r} has no certified value for {quantity}")
            current, current_uncertainty, node = _lab_step(
                library, element, quantity, start, target, current, current_uncertainty,
                used, warnings, method)
        else:
            shift_record = library.lab_shift_from(start, element, quantity, prefer=target)
            if shift_record is not None:
                current, current_uncertainty = apply_shift_record(
                    current, current_uncertainty, shift_record)
                node = library.canonical(shift_record.to_standard)
                used.append(shift_source(shift_record))
                method.append(f"calculated shift {start} → {node}")
        path = [start] if node == start else [start, node]
        if standard_key(node) != standard_key(target):
            shifts, sources = library.edges(element, quantity)
            conversion = convert(current, node, target, shifts, element=element,
                                 quantity=quantity, uncertainty=current_uncertainty)
            current, current_uncertainty = conversion.value, conversion.uncertainty
            steps, step_warnings = conversion_sources(conversion, sources)
            used.extend(steps)
            warnings.extend(step_warnings)
            path.extend(conversion.path[1:])
            method.append("shift chain " + " → ".join(conversion.path))
    except NoConversionPath as exc:
        raise _Skip(str(exc)) from None
    except InvalidInputError as exc:
        raise _Skip(str(exc)) from None
    for entry in used:
        warnings.extend(entry.pop("warnings", []))
    return {
        "normalized_value": current,
        "normalized_uncertainty": current_uncertainty if uncertainty is not None else None,
        "normalized_to": target,
        "method": "; ".join(method) or f"already on {target}",
        "path": path,
        "used": used,
        "warnings": list(dict.fromkeys(warnings)),
    }


def _lab_step(
    library: Library, element: str, quantity: str, start: str, target: str, value: float,
    uncertainty: float, used: list[dict[str, Any]], warnings: list[str], method: list[str],
) -> tuple[float, float, str]:
    """Correct a measured ratio for the lab's realisation of its measuring standard."""
    version = library.standard(start, quantity)
    if version is not None and version.measured_value is not None:
        certified = certified_value(version, warnings)
        measured = measured_value(version)
        assert measured is not None
        result = bracket_ratio(value, uncertainty, certified, measured)
        used.append(standard_source(version, "certified"))
        used.append(standard_source(version, "measured"))
        method.append(f"standard bracketing with {version.abbreviation} "
                      f"(R_meas × {version.value} / {version.measured_value})")
        return result.value, result.uncertainty, version.abbreviation
    shift_record = library.lab_shift_from(start, element, quantity, prefer=target)
    if shift_record is None:
        raise _Skip(
            f"no lab-measured value of {start} for {quantity} and no calculated shift from "
            f"{start}: enter the standard's measured mean or calculate a shift on a CRM"
        )
    result, result_uncertainty = apply_shift_record(value, uncertainty, shift_record)
    used.append(shift_source(shift_record))
    node = library.canonical(shift_record.to_standard)
    method.append(f"calculated shift {start} → {node} (× {shift_record.value})")
    return result, result_uncertainty, node


def reference_standard(db: Session, element: str, quantity: str) -> StandardVersion | None:
    """The lab's chosen reference ("Set ref") for an element and quantity, if any."""
    return Library.load(db).reference(element, quantity)
