"""IsoFind routes of standards, CRMs and inter-standard shifts (HTTP only; rules in the services).

Reading needs a signed-in user (the local owner in single-user mode); creating, editing and
deleting standards and CRMs needs the manager role; calculating shifts needs an analyst.
The fixed CRM paths (``list``, ``statistics``, ``georem/...``) are declared before
``/api/crm/{crm_id}`` so they are never taken for an id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from isofind.identity.dependencies import AnalystUser, CurrentUser, Db, ManagerUser, client_address
from isofind.reference.standards import crm as crm_service
from isofind.reference.standards import service, shift_service
from isofind.reference.standards.models import (
    Crm,
    CrmConcentration,
    CrmIsotope,
    ShiftRecord,
    Standard,
    StandardVersion,
)
from isofind.reference.standards.schemas import (
    CalculateAllOut,
    ConcentrationIn,
    ConcentrationOut,
    ConvertIn,
    ConvertOut,
    CrmIn,
    CrmOut,
    CrmStatisticsOut,
    CrmSummaryOut,
    CrmUpdate,
    CrmVersionOut,
    DeletedOut,
    GeoremImportOut,
    GeoremSearchOut,
    IsotopeIn,
    IsotopeOut,
    LabShiftOut,
    Reference,
    ShiftHistoryOut,
    ShiftOut,
    StandardIn,
    StandardOut,
    StandardUpdate,
    StandardVersionOut,
)
from isofind.routing import api_router

router = api_router()

STANDARDS = "Standards and Isotopic Normalization"
CRMS = "CRM and Inter-standard Shifts"

RowId = Annotated[int, Path(ge=-(2**31), le=2**31 - 1)]


# --- views ----------------------------------------------------------------------------------


def _standard_out(
    standard: Standard, version: StandardVersion, history: list[StandardVersion] | None = None
) -> StandardOut:
    shift = service.lab_shift(version)
    return StandardOut(
        id=standard.id, is_custom=standard.is_custom, version=version.version, name=version.name,
        abbreviation=version.abbreviation, element=version.element, kind=version.kind,
        quantity=version.quantity, scale=version.scale, value=version.value,
        uncertainty=version.uncertainty, uncertainty_type=version.uncertainty_type,
        uncertainty_2s=service.uncertainty_2s(version.uncertainty, version.uncertainty_type),
        normalization=version.normalization, note=version.note,
        reference=Reference(citation=version.citation, doi=version.doi),
        is_reference=version.is_reference, measured_value=version.measured_value,
        measured_uncertainty=version.measured_uncertainty,
        measured_uncertainty_type=version.measured_uncertainty_type,
        lab_shift=LabShiftOut(value=shift.value, uncertainty=shift.uncertainty,
                              offset_permil=shift.offset_permil,
                              offset_uncertainty=shift.offset_uncertainty) if shift else None,
        updated_at=version.utc_datetime, updated_by=version.user_id,
        versions=None if history is None else [
            StandardVersionOut(
                version=v.version, change=v.change, value=v.value, uncertainty=v.uncertainty,
                uncertainty_type=v.uncertainty_type, scale=v.scale, is_reference=v.is_reference,
                measured_value=v.measured_value, measured_uncertainty=v.measured_uncertainty,
                measured_uncertainty_type=v.measured_uncertainty_type,
                reference=Reference(citation=v.citation, doi=v.doi), user_id=v.user_id,
                utc_datetime=v.utc_datetime,
            ) for v in history
        ],
    )


def _concentration_out(c: CrmConcentration | dict[str, Any]) -> ConcentrationOut:
    get = c.get if isinstance(c, dict) else lambda name: getattr(c, name)
    return ConcentrationOut(
        element=get("element"), value=get("value"), uncertainty=get("uncertainty"),
        uncertainty_type=get("uncertainty_type"), unit=get("unit"),
        reference=Reference(citation=get("citation"), doi=get("doi")),
    )


def _isotope_out(i: CrmIsotope | dict[str, Any]) -> IsotopeOut:
    get = i.get if isinstance(i, dict) else lambda name: getattr(i, name)
    return IsotopeOut(
        element=get("element"), ratio=get("ratio"), kind=get("kind"), value=get("value"),
        uncertainty=get("uncertainty"), uncertainty_type=get("uncertainty_type"),
        uncertainty_2s=service.uncertainty_2s(get("uncertainty"), get("uncertainty_type")),
        technique=get("technique"), scale=get("scale"),
        reference=Reference(citation=get("citation"), doi=get("doi")), note=get("note"),
        measured_value=get("measured_value"), measured_uncertainty=get("measured_uncertainty"),
        measured_uncertainty_type=get("measured_uncertainty_type"),
        measured_standard=get("measured_standard"),
    )


def _crm_out(db: Session, crm: Crm, version: int | None = None) -> CrmOut:
    versions = crm_service.versions_of(db, crm.id)
    history = [CrmVersionOut(version=v.version, change=v.change, user_id=v.user_id,
                             utc_datetime=v.utc_datetime) for v in versions]
    if version is not None:
        past = crm_service.crm_at_version(db, crm.id, version)
        data = past.data
        return CrmOut(
            id=crm.id, name=data["name"], material=data["material"], producer=data["producer"],
            description=data["description"], georem_id=data["georem_id"],
            version=past.version, created_at=crm.created_at, updated_at=past.utc_datetime,
            updated_by=past.user_id,
            concentrations=[_concentration_out(c) for c in data["concentrations"]],
            isotopes=[_isotope_out(i) for i in data["isotopes"]], versions=history,
        )
    return CrmOut(
        id=crm.id, name=crm.name, material=crm.material, producer=crm.producer,
        description=crm.description, georem_id=crm.georem_id, version=crm.version,
        created_at=crm.created_at, updated_at=crm.updated_at, updated_by=crm.updated_by,
        concentrations=[_concentration_out(c) for c in crm_service.concentrations_of(db, crm.id)],
        isotopes=[_isotope_out(i) for i in crm_service.isotopes_of(db, crm.id)],
        versions=history,
    )


def _shift_out(r: ShiftRecord) -> ShiftOut:
    return ShiftOut(
        id=r.id, crm_id=r.crm_id, crm_name=r.crm_name, crm_version=r.crm_version,
        element=r.element, isotope_ratio=r.quantity, kind=r.kind,
        from_standard=r.from_standard, to_standard=r.to_standard,
        measured_value=r.measured_value, measured_uncertainty=r.measured_uncertainty,
        certified_value=r.certified_value, certified_uncertainty=r.certified_uncertainty,
        value=r.value, uncertainty=r.uncertainty, offset_permil=r.offset_permil,
        offset_uncertainty=r.offset_uncertainty, warnings=list(r.basis.get("warnings", [])),
        user_id=r.user_id, utc_datetime=r.utc_datetime,
    )


# --- standards ------------------------------------------------------------------------------


@router.get("/api/standards", response_model=list[StandardOut], tags=[STANDARDS])
def list_standards(
    user: CurrentUser, db: Db,
    element: Annotated[str | None, Query(description="Only this element.")] = None,
    quantity: Annotated[str | None, Query(description="Only this ratio or delta.")] = None,
    history: Annotated[bool, Query(description="Include every version of each.")] = False,
) -> list[StandardOut]:
    """All isotopic standards (built-in and custom) with their current values and citations."""
    rows = service.list_standards(db, element=element, quantity=quantity)
    versions = service.standard_versions(db, (s.id for s, _ in rows)) if history else {}
    return [_standard_out(s, v, versions.get(s.id) if history else None) for s, v in rows]


@router.post("/api/standards/custom", response_model=StandardOut,
             status_code=status.HTTP_201_CREATED, tags=[STANDARDS])
def create_custom_standard(
    body: StandardIn, request: Request, user: ManagerUser, db: Db
) -> StandardOut:
    """Create a custom standard (manager role)."""
    standard, version = service.create_custom(db, user, body, client_address(request))
    return _standard_out(standard, version)


@router.put("/api/standards/{standard_id}", response_model=StandardOut, tags=[STANDARDS])
def update_standard(
    standard_id: RowId, body: StandardUpdate, request: Request, user: ManagerUser, db: Db
) -> StandardOut:
    """Update a standard; the previous values stay as an earlier version (manager role)."""
    standard, version = service.update_standard(db, user, standard_id, body,
                                                client_address(request))
    return _standard_out(standard, version)


@router.delete("/api/standards/{standard_id}", response_model=DeletedOut, tags=[STANDARDS])
def delete_standard(standard_id: RowId, request: Request, user: ManagerUser, db: Db) -> DeletedOut:
    """Delete a custom standard that nothing uses (manager role); its versions are kept."""
    final = service.delete_standard(db, user, standard_id, client_address(request))
    return DeletedOut(message=f"standard {standard_id} ({final.abbreviation} {final.quantity}) "
                              "deleted")


# --- CRMs: fixed paths first ----------------------------------------------------------------


@router.get("/api/crm/list", response_model=list[CrmSummaryOut], tags=[CRMS])
def list_crms(
    user: CurrentUser, db: Db,
    search: Annotated[str | None, Query(description="Words of name, material or producer.")]
    = None,
    element: Annotated[str | None, Query(description="Only CRMs with values of it.")] = None,
) -> list[CrmSummaryOut]:
    """All certified reference materials."""
    return [
        CrmSummaryOut(id=crm.id, name=crm.name, material=crm.material, producer=crm.producer,
                      georem_id=crm.georem_id, version=crm.version, elements=elements,
                      concentration_count=n_concentrations, isotope_count=n_isotopes)
        for crm, elements, n_concentrations, n_isotopes
        in crm_service.list_crms(db, search=search, element=element)
    ]


@router.get("/api/crm/statistics", response_model=CrmStatisticsOut, tags=[CRMS])
def crm_statistics(user: CurrentUser, db: Db) -> CrmStatisticsOut:
    """Counts, and per element the number of CRMs and the spread of their values."""
    return CrmStatisticsOut.model_validate(crm_service.statistics_of(db))


@router.get("/api/crm/georem/search", response_model=GeoremSearchOut, tags=[CRMS])
def georem_search(
    request: Request, user: CurrentUser, db: Db,
    q: Annotated[str, Query(max_length=200, description="Words to find; empty lists all.")]
    = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> GeoremSearchOut:
    """Search GeoReM reference materials: the shipped catalogue, online only when allowed."""
    found = crm_service.georem_search(db, request.app.state.settings, q, limit)
    return GeoremSearchOut.model_validate(found)


@router.post("/api/crm/georem/import/{georem_id}/full", response_model=GeoremImportOut,
             status_code=status.HTTP_201_CREATED, tags=[CRMS])
def georem_import(
    georem_id: RowId, request: Request, user: ManagerUser, db: Db
) -> GeoremImportOut:
    """Create a CRM from a GeoReM material with all its cited values (manager role)."""
    source, crm = crm_service.georem_import(db, user, request.app.state.settings, georem_id,
                                            client_address(request))
    return GeoremImportOut(source=source, crm=_crm_out(db, crm))


@router.post("/api/crm/add", response_model=CrmOut, status_code=status.HTTP_201_CREATED,
             tags=[CRMS])
def add_crm(body: CrmIn, request: Request, user: ManagerUser, db: Db) -> CrmOut:
    """Add a CRM, optionally with its concentrations and isotope values (manager role)."""
    crm = crm_service.add_crm(db, user, body, client_address(request))
    return _crm_out(db, crm)


# --- CRMs by id -----------------------------------------------------------------------------


@router.get("/api/crm/{crm_id}", response_model=CrmOut, tags=[CRMS])
def get_crm(
    crm_id: RowId, user: CurrentUser, db: Db,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                         description="A past version.")] = None,
) -> CrmOut:
    """A CRM with its concentrations, isotope values and version history."""
    return _crm_out(db, crm_service.get_crm(db, crm_id), version)


@router.put("/api/crm/{crm_id}/edit", response_model=CrmOut, tags=[CRMS])
def edit_crm(
    crm_id: RowId, body: CrmUpdate, request: Request, user: ManagerUser, db: Db
) -> CrmOut:
    """Update a CRM's name, material, producer or description (manager role)."""
    crm = crm_service.edit_crm(db, user, crm_id, body, client_address(request))
    return _crm_out(db, crm)


@router.post("/api/crm/{crm_id}/concentration", response_model=CrmOut,
             status_code=status.HTTP_201_CREATED, tags=[CRMS])
def add_concentration(
    crm_id: RowId, body: ConcentrationIn, request: Request, response: Response,
    user: ManagerUser, db: Db,
) -> CrmOut:
    """Add an element's concentration (201), or replace it (200) (manager role)."""
    crm, created = crm_service.add_concentration(db, user, crm_id, body, client_address(request))
    if not created:
        response.status_code = status.HTTP_200_OK
    return _crm_out(db, crm)


@router.post("/api/crm/{crm_id}/isotope", response_model=CrmOut,
             status_code=status.HTTP_201_CREATED, tags=[CRMS])
def add_isotope(
    crm_id: RowId, body: IsotopeIn, request: Request, response: Response,
    user: ManagerUser, db: Db,
) -> CrmOut:
    """Add an isotope value (201), or replace the one of the same ratio (200) (manager role)."""
    crm, created = crm_service.add_isotope(db, user, crm_id, body, client_address(request))
    if not created:
        response.status_code = status.HTTP_200_OK
    return _crm_out(db, crm)


@router.delete("/api/crm/{crm_id}/concentration/{element}", response_model=CrmOut,
               tags=[CRMS])
def delete_concentration(
    crm_id: RowId, element: str, request: Request, user: ManagerUser, db: Db
) -> CrmOut:
    """Delete one element's concentration (manager role)."""
    crm = crm_service.delete_concentration(db, user, crm_id, element, client_address(request))
    return _crm_out(db, crm)


@router.delete("/api/crm/{crm_id}/isotope/{ratio:path}", response_model=CrmOut, tags=[CRMS])
def delete_isotope(
    crm_id: RowId, ratio: str, request: Request, user: ManagerUser, db: Db
) -> CrmOut:
    """Delete one isotope value; the ratio may be raw (``206Pb/204Pb``) or percent-encoded."""
    crm = crm_service.delete_isotope(db, user, crm_id, ratio, client_address(request))
    return _crm_out(db, crm)


# --- shifts ---------------------------------------------------------------------------------


@router.post("/api/shifts/calculate/{crm_id}", response_model=ShiftOut,
             status_code=status.HTTP_201_CREATED, tags=[CRMS])
def calculate_shift(
    crm_id: RowId, request: Request, user: AnalystUser, db: Db,
    element: Annotated[str, Query(min_length=1, max_length=20)],
    isotope_ratio: Annotated[str, Query(min_length=1, max_length=40)],
    measured_value: Annotated[float | None, Query(
        allow_inf_nan=False, description="Instead of the CRM's stored measured value.")] = None,
    measured_uncertainty: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
    measured_uncertainty_type: Annotated[str | None, Query(max_length=40)] = None,
    measured_standard: Annotated[str | None, Query(max_length=100)] = None,
) -> ShiftOut:
    """Shift between the lab's measured value of a CRM and its certified value (analyst)."""
    shift_record = shift_service.calculate(
        db, user, crm_id, element, isotope_ratio,
        {"measured_value": measured_value, "measured_uncertainty": measured_uncertainty,
         "measured_uncertainty_type": measured_uncertainty_type,
         "measured_standard": measured_standard},
        client_address(request),
    )
    return _shift_out(shift_record)


@router.post("/api/shifts/calculate-all", response_model=CalculateAllOut, tags=[CRMS])
def calculate_all_shifts(request: Request, user: AnalystUser, db: Db) -> CalculateAllOut:
    """A shift for every measured CRM isotope value; the others are listed with why (analyst)."""
    result = shift_service.calculate_all(db, user, client_address(request))
    return CalculateAllOut(
        calculated=result["calculated"], skipped=result["skipped"],
        shifts=[_shift_out(r) for r in result["shifts"]],
        skipped_values=result["skipped_values"],
    )


@router.post("/api/shifts/convert", response_model=ConvertOut, tags=[CRMS])
def convert_value(body: ConvertIn, user: CurrentUser, db: Db) -> ConvertOut:
    """Carry a value from one standard to another through the shortest chain of shifts."""
    return ConvertOut.model_validate(shift_service.convert_value(db, body))


@router.get("/api/shifts/history", response_model=ShiftHistoryOut, tags=[CRMS])
def shift_history(
    user: CurrentUser, db: Db,
    crm_id: Annotated[int | None, Query(ge=-(2**31), le=2**31 - 1)] = None,
    element: Annotated[str | None, Query(max_length=20)] = None,
    isotope_ratio: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> ShiftHistoryOut:
    """Calculated shifts, newest first."""
    total, rows = shift_service.history(db, crm_id=crm_id, element=element,
                                        isotope_ratio=isotope_ratio, limit=limit, offset=offset)
    return ShiftHistoryOut(total=total, items=[_shift_out(r) for r in rows])
