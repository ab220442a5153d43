"""Rules for certified reference materials (CRMs) and their import from GeoReM.

Every change of a CRM (metadata, a concentration, an isotope value) bumps its version and
appends a full snapshot to ``crm_versions``, so the values a shift was calculated from can be
read back at the version the shift names. Adding a concentration or isotope value that the CRM
already has replaces it (the old value stays in the previous snapshot).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.config import Settings
from isofind.errors import (
    ApiError,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from isofind.identity.models import User
from isofind.names import same_name
from isofind.reference.standards import georem
from isofind.reference.standards.models import Crm, CrmConcentration, CrmIsotope, CrmVersion
from isofind.reference.standards.normalization import ValueKind, canonical_uncertainty_type
from isofind.reference.standards.schemas import ConcentrationIn, CrmIn, CrmUpdate, IsotopeIn
from isofind.reference.standards.service import (
    DEFAULT_UNCERTAINTY_TYPE,
    UNSTATED,
    check_uncertainty_type,
    check_value,
    serialize_writes,
)
from isofind.samples.vocabulary import (
    fold,
    normalise_doi,
    normalise_element,
    parse_isotope_quantity,
)
from isofind.timeutil import utcnow

# Spellings of the same unit; anything else is refused so statistics never mix units silently.
UNITS = {
    "µg/g": "µg/g", "μg/g": "µg/g", "ug/g": "µg/g", "ppm": "µg/g", "mg/kg": "mg/kg",
    "ng/g": "ng/g", "ppb": "ng/g", "µg/kg": "µg/kg", "ug/kg": "µg/kg", "wt%": "wt%",
    "wt.%": "wt%", "%": "wt%", "mg/g": "mg/g", "g/kg": "g/kg", "pg/g": "pg/g",
}
CONCENTRATION_FIELDS = ("element", "value", "uncertainty", "uncertainty_type", "unit",
                        "citation", "doi")
ISOTOPE_FIELDS = ("element", "ratio", "kind", "value", "uncertainty", "uncertainty_type",
                  "technique", "scale", "citation", "doi", "note", "measured_value",
                  "measured_uncertainty", "measured_uncertainty_type", "measured_standard")


def _require_writer(user: User) -> None:
    if user.is_readonly:
        raise Forbidden("read-only accounts cannot change CRMs")


# CRM names (and GeoReM ids) are unique: creations and renames run one at a time.
_CRM_NAMES_LOCK = 0x0C2B_4A3E


# --- reading --------------------------------------------------------------------------------


def get_crm(db: Session, crm_id: int, *, lock: bool = False) -> Crm:
    crm = db.get(Crm, crm_id, with_for_update=lock or None)
    if crm is None:
        raise NotFound(f"CRM {crm_id} does not exist")
    return crm


def concentrations_of(db: Session, crm_id: int) -> list[CrmConcentration]:
    return list(db.scalars(select(CrmConcentration).where(CrmConcentration.crm_id == crm_id)
                           .order_by(CrmConcentration.element)))


def isotopes_of(db: Session, crm_id: int) -> list[CrmIsotope]:
    return list(db.scalars(select(CrmIsotope).where(CrmIsotope.crm_id == crm_id)
                           .order_by(CrmIsotope.element, CrmIsotope.ratio)))


def versions_of(db: Session, crm_id: int) -> list[CrmVersion]:
    return list(db.scalars(select(CrmVersion).where(CrmVersion.crm_id == crm_id)
                           .order_by(CrmVersion.version)))


def snapshot(db: Session, crm: Crm) -> dict[str, Any]:
    """The CRM as its detail route shows it, in plain JSON types."""
    return {
        "id": crm.id, "name": crm.name, "material": crm.material, "producer": crm.producer,
        "description": crm.description, "georem_id": crm.georem_id, "version": crm.version,
        "concentrations": [{name: getattr(c, name) for name in CONCENTRATION_FIELDS}
                           for c in concentrations_of(db, crm.id)],
        "isotopes": [{name: getattr(i, name) for name in ISOTOPE_FIELDS}
                     for i in isotopes_of(db, crm.id)],
    }


def crm_at_version(db: Session, crm_id: int, version: int) -> CrmVersion:
    get_crm(db, crm_id)
    row = db.scalar(select(CrmVersion).where(CrmVersion.crm_id == crm_id,
                                             CrmVersion.version == version))
    if row is None:
        raise NotFound(f"CRM {crm_id} has no version {version}")
    return row


def list_crms(
    db: Session, *, search: str | None = None, element: str | None = None
) -> list[tuple[Crm, list[str], int, int]]:
    """CRMs by name, each with its elements and its numbers of concentrations and isotopes."""
    query = select(Crm).order_by(Crm.name, Crm.id)
    crms = list(db.scalars(query))
    if search:
        words = fold(search).split()
        crms = [crm for crm in crms if all(
            word in fold(" ".join(filter(None, (crm.name, crm.material, crm.producer))))
            for word in words)]
    concentrations: dict[int, list[str]] = defaultdict(list)
    for crm_id, symbol in db.execute(select(CrmConcentration.crm_id, CrmConcentration.element)):
        concentrations[crm_id].append(symbol)
    isotopes: dict[int, list[str]] = defaultdict(list)
    for crm_id, symbol in db.execute(select(CrmIsotope.crm_id, CrmIsotope.element)):
        isotopes[crm_id].append(symbol)
    wanted = normalise_element(element) or element if element else None
    rows = []
    for crm in crms:
        elements = sorted(set(concentrations[crm.id]) | set(isotopes[crm.id]))
        if wanted and wanted not in elements:
            continue
        rows.append((crm, elements, len(concentrations[crm.id]), len(isotopes[crm.id])))
    return rows


def statistics_of(db: Session) -> dict[str, Any]:
    """Counts, and per element how many CRMs and the spread of their values."""
    crms = list(db.scalars(select(Crm)))
    concentrations = list(db.scalars(select(CrmConcentration)))
    isotopes = list(db.scalars(select(CrmIsotope)))
    producers: dict[str | None, int] = defaultdict(int)
    for crm in crms:
        producers[crm.producer] += 1
    by_element: dict[str, set[int]] = defaultdict(set)
    by_unit: dict[tuple[str, str], list[float]] = defaultdict(list)
    by_ratio: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c in concentrations:
        by_element[c.element].add(c.crm_id)
        by_unit[(c.element, c.unit)].append(c.value)
    for i in isotopes:
        by_element[i.element].add(i.crm_id)
        by_ratio[(i.element, i.ratio)].append(i.value)
    return {
        "crm_count": len(crms),
        "concentration_count": len(concentrations),
        "isotope_count": len(isotopes),
        "imported_from_georem": sum(1 for crm in crms if crm.georem_id is not None),
        "producers": [{"producer": producer, "crm_count": count} for producer, count in
                      sorted(producers.items(), key=lambda item: (-item[1], item[0] or ""))],
        "elements": [
            {
                "element": symbol,
                "crm_count": len(by_element[symbol]),
                "concentrations": [dict(_spread(values), unit=unit) for (e, unit), values
                                   in sorted(by_unit.items()) if e == symbol],
                "isotopes": [dict(_spread(values), ratio=ratio) for (e, ratio), values
                             in sorted(by_ratio.items()) if e == symbol],
            }
            for symbol in sorted(by_element)
        ],
    }


def _spread(values: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(values), "min": min(values), "max": max(values),
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else None,
    }


# --- validation -----------------------------------------------------------------------------


def _doi(text: str | None) -> str | None:
    if not text:
        return None
    doi = normalise_doi(text)
    if doi is None:
        raise Unprocessable(f"doi {text!r} is not a DOI (10.xxxx/…)")
    return doi


def checked_concentration(fields: dict[str, Any]) -> dict[str, Any]:
    element = normalise_element(fields["element"])
    if element is None:
        raise Unprocessable(f"element {fields['element']!r} is not a known element")
    written = fields["unit"].strip().replace(" ", "").replace("μ", "µ")
    unit = UNITS.get(written) or UNITS.get(written.lower())
    if unit is None:
        known = ", ".join(sorted(set(UNITS.values())))
        raise Unprocessable(f"unit {fields['unit']!r} is not one of {known}")
    if fields["value"] <= 0:
        raise Unprocessable(f"value={fields['value']!r}: a concentration must be > 0")
    return {
        "element": element, "value": fields["value"], "uncertainty": fields.get("uncertainty"),
        "uncertainty_type": check_uncertainty_type(
            "uncertainty_type", fields.get("uncertainty"),
            fields.get("uncertainty_type") or DEFAULT_UNCERTAINTY_TYPE),
        "unit": unit, "citation": fields.get("citation"), "doi": _doi(fields.get("doi")),
    }


def checked_isotope(fields: dict[str, Any]) -> dict[str, Any]:
    quantity = parse_isotope_quantity(fields["ratio"])
    if quantity is None:
        raise Unprocessable(
            f"ratio {fields['ratio']!r} is not an isotope ratio or delta (e.g. 206Pb/204Pb, δ65Cu)"
        )
    scale = fields.get("scale")
    if quantity.kind == ValueKind.DELTA and not scale:
        raise Unprocessable(
            f"scale: a delta value names the standard whose scale {quantity.name} is on"
        )
    check_value("value", quantity.kind, fields["value"])
    checked = {
        "element": quantity.element, "ratio": quantity.name, "kind": quantity.kind,
        "value": fields["value"], "uncertainty": fields.get("uncertainty"),
        "uncertainty_type": check_uncertainty_type(
            "uncertainty_type", fields.get("uncertainty"),
            fields.get("uncertainty_type") or DEFAULT_UNCERTAINTY_TYPE),
        "technique": fields.get("technique"), "scale": scale,
        "citation": fields.get("citation"), "doi": _doi(fields.get("doi")),
        "note": fields.get("note"), "measured_value": fields.get("measured_value"),
        "measured_uncertainty": None, "measured_uncertainty_type": None,
        "measured_standard": fields.get("measured_standard"),
    }
    if checked["measured_value"] is not None:
        check_value("measured_value", quantity.kind, checked["measured_value"])
        declared = fields.get("measured_uncertainty_type") or DEFAULT_UNCERTAINTY_TYPE
        if canonical_uncertainty_type(declared) == UNSTATED:
            raise Unprocessable(
                "measured_uncertainty_type: the lab's own uncertainty needs a level (e.g. 2SD)")
        checked["measured_uncertainty"] = fields.get("measured_uncertainty")
        checked["measured_uncertainty_type"] = check_uncertainty_type(
            "measured_uncertainty_type", checked["measured_uncertainty"], declared)
    return checked


# --- writing --------------------------------------------------------------------------------


def _record_version(db: Session, crm: Crm, change: str, user: User | None) -> CrmVersion:
    db.flush()
    row = CrmVersion(crm_id=crm.id, version=crm.version, change=change,
                     data=snapshot(db, crm), user_id=user.id if user else None,
                     utc_datetime=utcnow())
    db.add(row)
    return row


def _bump(crm: Crm, user: User) -> None:
    crm.version += 1
    crm.updated_at = utcnow()
    crm.updated_by = user.id


def _name_free(db: Session, name: str, excluding: int | None = None) -> None:
    clash = same_name(db, Crm.id, Crm.name, name)
    if clash is not None and clash[0] != excluding:
        raise Conflict(f"a CRM named {clash[1]!r} already exists (id {clash[0]})")


def add_crm(db: Session, user: User, body: CrmIn, client: str | None = None) -> Crm:
    _require_writer(user)
    serialize_writes(db, _CRM_NAMES_LOCK)
    crm = _create(db, user, body.model_dump(), georem_id=None)
    _record_version(db, crm, "created", user)
    record_activity(db, "crm.created", user_id=user.id, target_type="crm", target_id=crm.id,
                    client_address=client, details={"name": crm.name})
    return crm


def _create(db: Session, user: User, fields: dict[str, Any], georem_id: int | None) -> Crm:
    _name_free(db, fields["name"])
    concentrations = [checked_concentration(c) for c in fields.get("concentrations", [])]
    isotopes = [checked_isotope(i) for i in fields.get("isotopes", [])]
    for label, items, key in (("concentration of", concentrations, "element"),
                              ("isotope value", isotopes, "ratio")):
        seen: set[str] = set()
        for item in items:
            if item[key] in seen:
                raise Unprocessable(f"{label} {item[key]} is given twice")
            seen.add(item[key])
    now = utcnow()
    crm = Crm(name=fields["name"], material=fields.get("material"),
              producer=fields.get("producer"), description=fields.get("description"),
              georem_id=georem_id, version=1, created_at=now, created_by=user.id,
              updated_at=now, updated_by=user.id)
    db.add(crm)
    db.flush()
    db.add_all(CrmConcentration(crm_id=crm.id, **c) for c in concentrations)
    db.add_all(CrmIsotope(crm_id=crm.id, **i) for i in isotopes)
    return crm


def edit_crm(
    db: Session, user: User, crm_id: int, body: CrmUpdate, client: str | None = None
) -> Crm:
    _require_writer(user)
    serialize_writes(db, _CRM_NAMES_LOCK)
    crm = get_crm(db, crm_id, lock=True)
    sent = body.model_dump(exclude_unset=True)
    if "name" in sent and sent["name"] is None:
        raise Unprocessable("name cannot be null")
    changed = sorted(name for name, value in sent.items() if getattr(crm, name) != value)
    if not changed:
        return crm
    if "name" in changed:
        _name_free(db, sent["name"], excluding=crm_id)
    for name in changed:
        setattr(crm, name, sent[name])
    _bump(crm, user)
    _record_version(db, crm, "edited: " + ", ".join(changed), user)
    record_activity(db, "crm.edited", user_id=user.id, target_type="crm", target_id=crm_id,
                    client_address=client, details={"fields": changed, "version": crm.version})
    return crm


def _upsert_entry(db: Session, user: User, crm_id: int, model: type[Any], key: str,
                  fields: dict[str, Any], what: str, client: str | None) -> tuple[Crm, bool]:
    """Add or replace one concentration or isotope value of a CRM (a new CRM version only
    when something changes); True when it is new."""
    _require_writer(user)
    crm = get_crm(db, crm_id, lock=True)
    row = db.scalar(select(model).where(model.crm_id == crm_id,
                                        getattr(model, key) == fields[key]))
    created = row is None
    if row is None:
        db.add(model(crm_id=crm_id, **fields))
    elif all(getattr(row, name) == value for name, value in fields.items()):
        return crm, False
    else:
        for name, value in fields.items():
            setattr(row, name, value)
    _bump(crm, user)
    verb = "added" if created else "replaced"
    _record_version(db, crm, f"{what} {fields[key]} {verb}", user)
    record_activity(db, f"crm.{what}_{verb}", user_id=user.id, target_type="crm",
                    target_id=crm_id, client_address=client,
                    details={key: fields[key], "version": crm.version})
    return crm, created


def add_concentration(
    db: Session, user: User, crm_id: int, body: ConcentrationIn, client: str | None = None
) -> tuple[Crm, bool]:
    """Add (or replace) one element's concentration; True when it is new."""
    return _upsert_entry(db, user, crm_id, CrmConcentration, "element",
                         checked_concentration(body.model_dump()), "concentration", client)


def add_isotope(
    db: Session, user: User, crm_id: int, body: IsotopeIn, client: str | None = None
) -> tuple[Crm, bool]:
    """Add (or replace) one isotope value; True when it is new."""
    return _upsert_entry(db, user, crm_id, CrmIsotope, "ratio",
                         checked_isotope(body.model_dump()), "isotope", client)


def delete_concentration(
    db: Session, user: User, crm_id: int, element: str, client: str | None = None
) -> Crm:
    _require_writer(user)
    crm = get_crm(db, crm_id, lock=True)
    symbol = normalise_element(element) or element.strip()
    row = db.scalar(select(CrmConcentration).where(CrmConcentration.crm_id == crm_id,
                                                   CrmConcentration.element == symbol))
    if row is None:
        raise NotFound(f"CRM {crm_id} ({crm.name}) has no concentration of {symbol}")
    db.delete(row)
    _bump(crm, user)
    _record_version(db, crm, f"concentration {symbol} deleted", user)
    record_activity(db, "crm.concentration_deleted", user_id=user.id, target_type="crm",
                    target_id=crm_id, client_address=client,
                    details={"element": symbol, "version": crm.version})
    return crm


def delete_isotope(
    db: Session, user: User, crm_id: int, ratio: str, client: str | None = None
) -> Crm:
    _require_writer(user)
    crm = get_crm(db, crm_id, lock=True)
    quantity = parse_isotope_quantity(ratio)
    name = quantity.name if quantity else ratio.strip()
    row = db.scalar(select(CrmIsotope).where(CrmIsotope.crm_id == crm_id,
                                             CrmIsotope.ratio == name))
    if row is None:
        raise NotFound(f"CRM {crm_id} ({crm.name}) has no isotope value {name}")
    db.delete(row)
    _bump(crm, user)
    _record_version(db, crm, f"isotope {name} deleted", user)
    record_activity(db, "crm.isotope_deleted", user_id=user.id, target_type="crm",
                    target_id=crm_id, client_address=client,
                    details={"ratio": name, "version": crm.version})
    return crm


# --- GeoReM ---------------------------------------------------------------------------------


def _hit(entry: dict[str, Any], source: str, imported: dict[int, int]) -> dict[str, Any]:
    concentrations = entry.get("concentrations", [])
    isotopes = entry.get("isotopes", [])
    elements = {c.get("element") for c in concentrations}
    for isotope in isotopes:
        quantity = parse_isotope_quantity(str(isotope.get("ratio", "")))
        if quantity is not None:
            elements.add(quantity.element)
    return {
        "georem_id": entry["georem_id"], "name": entry["name"],
        "material": entry.get("material"), "producer": entry.get("producer"),
        "elements": sorted(e for e in elements if e),
        "ratios": [str(i.get("ratio")) for i in isotopes],
        "concentration_count": len(concentrations), "isotope_count": len(isotopes),
        "source": source, "imported_as": imported.get(entry["georem_id"]),
    }


def _imported(db: Session) -> dict[int, int]:
    return {georem_id: crm_id for crm_id, georem_id in
            db.execute(select(Crm.id, Crm.georem_id).where(Crm.georem_id.is_not(None)))}


def georem_search(db: Session, settings: Settings, query: str, limit: int) -> dict[str, Any]:
    """Catalogue hits, then online ones not already listed (online only when allowed)."""
    imported = _imported(db)
    results = [_hit(entry, "catalogue", imported)
               for entry in georem.search_catalogue(query, limit)]
    warnings: list[str] = []
    online = georem.OnlineSource.configured(settings)
    if online is not None:
        try:
            listed = {hit["georem_id"] for hit in results}
            for entry in online.search(query, limit):
                if entry["georem_id"] not in listed and len(results) < limit:
                    results.append(_hit(entry, "online", imported))
        except georem.GeoremUnavailable as exc:
            warnings.append(f"{exc}; answered from the shipped catalogue")
    return {"query": query, "online": online is not None, "results": results,
            "warnings": warnings}


def _not_imported(db: Session, georem_id: int) -> None:
    existing = db.scalar(select(Crm).where(Crm.georem_id == georem_id))
    if existing is not None:
        raise Conflict(
            f"GeoReM reference material {georem_id} is already imported as CRM {existing.id} "
            f"({existing.name})"
        )


def _entry_fields(entry: dict[str, Any], source: str) -> dict[str, Any]:
    def cited(item: dict[str, Any]) -> dict[str, Any]:
        reference = item.get("reference") or {}
        return {**item, "citation": reference.get("citation"), "doi": reference.get("doi")}

    return {
        "name": entry["name"], "material": entry.get("material"),
        "producer": entry.get("producer"),
        "description": f"Imported from GeoReM reference material {entry['georem_id']} "
                       f"({source}).",
        "concentrations": [cited(c) for c in entry.get("concentrations", [])],
        "isotopes": [cited(i) for i in entry.get("isotopes", [])],
    }


def georem_import(
    db: Session, user: User, settings: Settings, georem_id: int, client: str | None = None
) -> tuple[str, Crm]:
    """Create a CRM with every concentration and isotope value of a GeoReM material."""
    _require_writer(user)
    _not_imported(db, georem_id)
    entry, source = georem.catalogue_entry(georem_id), "catalogue"
    if entry is None:
        online = georem.OnlineSource.configured(settings)
        if online is None:
            raise NotFound(
                f"GeoReM reference material {georem_id} is not in the shipped catalogue "
                "(no online source is configured or air-gap mode is on)"
            )
        try:
            entry, source = online.entry(georem_id), "online"
        except georem.GeoremUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None
        if entry is None:
            raise NotFound(f"GeoReM reference material {georem_id} does not exist")
    # Locked only now: the online answer can take seconds and no lock is held meanwhile.
    serialize_writes(db, _CRM_NAMES_LOCK)
    _not_imported(db, georem_id)
    try:
        crm = _create(db, user, _entry_fields(entry, source), georem_id=georem_id)
    except ApiError as exc:
        if source == "catalogue":
            raise
        raise ServiceUnavailable(
            f"GeoReM reference material {georem_id} has an unusable value: {exc.detail}"
        ) from None
    _record_version(db, crm, f"imported from GeoReM {georem_id} ({source})", user)
    record_activity(db, "crm.imported", user_id=user.id, target_type="crm", target_id=crm.id,
                    client_address=client,
                    details={"georem_id": georem_id, "source": source, "name": crm.name})
    return source, crm

