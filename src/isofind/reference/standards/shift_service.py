"""Rules for calculated inter-standard shifts, their history and conversions between standards.

A shift is calculated on a CRM isotope value the lab has measured: from the standard the lab
measured it against (``measured_standard``) to the standard its certified value is expressed
on (``scale``; a ratio whose certificate names none is taken on the measured standard, and the
shift then corrects the lab's realisation of that standard). The maths is in
:mod:`isofind.reference.standards.shifts`; every calculation is stored with its inputs, the
CRM version and who asked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.activity.service import record as record_activity
from isofind.errors import Forbidden, NotFound, Unprocessable
from isofind.identity.models import User
from isofind.reference.standards.crm import get_crm
from isofind.reference.standards.models import Crm, CrmIsotope, ShiftRecord
from isofind.reference.standards.normalization import (
    PER_MIL,
    InvalidInputError,
    StandardValue,
    ValueKind,
    to_two_sigma,
)
from isofind.reference.standards.schemas import ConvertIn
from isofind.reference.standards.service import (
    DEFAULT_UNCERTAINTY_TYPE,
    Library,
    conversion_sources,
    standard_key,
    uncertainty_2s,
)
from isofind.reference.standards.shifts import (
    NoConversionPath,
    calculate_shift,
    convert,
    delta_shift,
    ratio_shift,
)
from isofind.samples.vocabulary import normalise_element, parse_isotope_quantity
from isofind.timeutil import utcnow


def _quantity(field_name: str, text: str) -> tuple[str, str]:
    quantity = parse_isotope_quantity(text)
    if quantity is None:
        raise Unprocessable(
            f"{field_name} {text!r} is not an isotope ratio or delta (e.g. 206Pb/204Pb, δ65Cu)"
        )
    return quantity.name, quantity.element


def _element(text: str, quantity: str) -> str:
    parsed = parse_isotope_quantity(quantity)
    element = normalise_element(text)
    if element is None or parsed is None or element not in parsed.elements:
        raise Unprocessable(f"element {text!r} is not an element of {quantity}")
    return element


def _require_writer(user: User) -> None:
    if user.is_readonly:
        raise Forbidden("read-only accounts cannot calculate shifts")


def calculate(
    db: Session, user: User, crm_id: int, element: str, isotope_ratio: str,
    measured: dict[str, Any] | None = None, client: str | None = None,
) -> ShiftRecord:
    """Calculate and store the shift of one CRM isotope value.

    ``measured`` may give ``measured_value``, ``measured_uncertainty``,
    ``measured_uncertainty_type`` and ``measured_standard`` for this calculation instead of
    those stored on the CRM's isotope value.
    """
    _require_writer(user)
    crm = get_crm(db, crm_id)
    quantity, _ = _quantity("isotope_ratio", isotope_ratio)
    symbol = _element(element, quantity)
    isotope = db.scalar(select(CrmIsotope).where(CrmIsotope.crm_id == crm_id,
                                                 CrmIsotope.ratio == quantity))
    if isotope is None:
        raise NotFound(f"CRM {crm_id} ({crm.name}) has no certified value for {quantity}")
    shift_record = _calculated(crm, isotope, symbol, measured or {}, user)
    db.add(shift_record)
    db.flush()
    record_activity(db, "shift.calculated", user_id=user.id, target_type="shift",
                    target_id=shift_record.id, client_address=client,
                    details={"crm_id": crm_id, "ratio": quantity,
                             "from": shift_record.from_standard, "to": shift_record.to_standard})
    return shift_record


def _calculated(
    crm: Crm, isotope: CrmIsotope, element: str, override: dict[str, Any], user: User
) -> ShiftRecord:
    label = f"CRM {crm.id} ({crm.name}) {isotope.ratio}"
    given = {name: value for name, value in override.items() if value is not None}
    measured_mean = given.get("measured_value", isotope.measured_value)
    if measured_mean is None:
        raise Unprocessable(
            f"{label} has no measured value: add measured_value to the CRM's isotope value "
            "or pass measured_value"
        )
    if "measured_value" in given:
        measured_u = given.get("measured_uncertainty", 0.0)
        measured_type = given.get("measured_uncertainty_type", DEFAULT_UNCERTAINTY_TYPE)
    else:
        measured_u = given.get("measured_uncertainty", isotope.measured_uncertainty or 0.0)
        measured_type = given.get("measured_uncertainty_type",
                                  isotope.measured_uncertainty_type or DEFAULT_UNCERTAINTY_TYPE)
    from_standard = given.get("measured_standard", isotope.measured_standard)
    if not from_standard:
        raise Unprocessable(
            f"{label} names no measured_standard: the standard the lab measured it against"
        )
    to_standard = isotope.scale or from_standard
    warnings: list[str] = []
    certified_u = uncertainty_2s(isotope.uncertainty, isotope.uncertainty_type)
    if certified_u is None:
        certified_u = 0.0
        warnings.append(f"{label}: the certificate states no uncertainty level; its "
                        "uncertainty is not propagated")
    try:
        measured_2s = to_two_sigma(measured_u, measured_type)
        measured = StandardValue(crm.name, isotope.ratio, measured_mean, measured_2s,
                                 scale=from_standard)
        certified = StandardValue(crm.name, isotope.ratio, isotope.value, certified_u,
                                  scale=to_standard, version=crm.version,
                                  citation=isotope.citation)
        kind = ValueKind(isotope.kind)
        if standard_key(from_standard) != standard_key(to_standard):
            shift = calculate_shift(measured, certified, element=element, kind=kind)
            value, uncertainty = shift.value, shift.uncertainty
            offset, offset_u = shift.offset_permil, shift.offset_uncertainty
        elif kind is ValueKind.RATIO:
            value, uncertainty = ratio_shift(measured, certified)
            offset, offset_u = (value - 1.0) * PER_MIL, uncertainty * PER_MIL
        else:
            value, uncertainty = delta_shift(measured, certified)
            offset, offset_u = value, uncertainty
    except InvalidInputError as exc:
        raise Unprocessable(f"{label}: {exc}") from None
    return ShiftRecord(
        crm_id=crm.id, crm_name=crm.name, crm_version=crm.version, element=element,
        quantity=isotope.ratio, kind=isotope.kind, from_standard=from_standard,
        to_standard=to_standard, measured_value=measured_mean, measured_uncertainty=measured_2s,
        certified_value=isotope.value, certified_uncertainty=certified_u, value=value,
        uncertainty=uncertainty, offset_permil=offset, offset_uncertainty=offset_u,
        basis={
            "measured": {"value": measured_mean, "uncertainty": measured_u,
                         "uncertainty_type": measured_type, "standard": from_standard},
            "certified": {"value": isotope.value, "uncertainty": isotope.uncertainty,
                          "uncertainty_type": isotope.uncertainty_type, "scale": isotope.scale,
                          "citation": isotope.citation, "doi": isotope.doi,
                          "crm_version": crm.version},
            "warnings": warnings,
        },
        user_id=user.id, utc_datetime=utcnow(),
    )


def calculate_all(db: Session, user: User, client: str | None = None) -> dict[str, Any]:
    """A shift for every CRM isotope value the lab has measured; the others are listed."""
    _require_writer(user)
    rows = db.execute(select(Crm, CrmIsotope).join(CrmIsotope, CrmIsotope.crm_id == Crm.id)
                      .order_by(Crm.id, CrmIsotope.element, CrmIsotope.ratio)).all()
    calculated: list[ShiftRecord] = []
    skipped: list[dict[str, Any]] = []
    for crm, isotope in rows:
        if isotope.measured_value is None:
            skipped.append({"crm_id": crm.id, "crm_name": crm.name,
                            "isotope_ratio": isotope.ratio, "reason": "no measured value"})
            continue
        try:
            shift_record = _calculated(crm, isotope, isotope.element, {}, user)
        except Unprocessable as exc:
            skipped.append({"crm_id": crm.id, "crm_name": crm.name,
                            "isotope_ratio": isotope.ratio, "reason": str(exc.detail)})
            continue
        db.add(shift_record)
        calculated.append(shift_record)
    db.flush()
    if calculated:
        record_activity(db, "shift.calculated_all", user_id=user.id, target_type="shift",
                        client_address=client,
                        details={"calculated": len(calculated), "skipped": len(skipped),
                                 "shift_ids": [r.id for r in calculated]})
    return {"calculated": len(calculated), "skipped": len(skipped), "shifts": calculated,
            "skipped_values": skipped}


def history(
    db: Session, *, crm_id: int | None = None, element: str | None = None,
    isotope_ratio: str | None = None, limit: int = 100, offset: int = 0,
) -> tuple[int, list[ShiftRecord]]:
    """Calculated shifts, newest first."""
    query = select(ShiftRecord)
    if crm_id is not None:
        query = query.where(ShiftRecord.crm_id == crm_id)
    if element:
        query = query.where(ShiftRecord.element == (normalise_element(element) or element))
    if isotope_ratio:
        quantity, _ = _quantity("isotope_ratio", isotope_ratio)
        query = query.where(ShiftRecord.quantity == quantity)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(ShiftRecord.id.desc()).limit(limit).offset(offset))
    return total, list(rows)


def convert_value(db: Session, body: ConvertIn) -> dict[str, Any]:
    """Carry a value from one standard to another through the shortest chain of known shifts.

    The known shifts are the delta standards expressed on another standard's scale and the
    latest calculated shift between each pair of standards. Refused with 422 naming the
    missing link when no chain exists.
    """
    quantity, _ = _quantity("isotope_ratio", body.isotope_ratio)
    element = _element(body.element, quantity)
    library = Library.load(db)
    start, goal = library.canonical(body.from_standard), library.canonical(body.to_standard)
    shifts, sources = library.edges(element, quantity)
    try:
        conversion = convert(body.value, start, goal, shifts, element=element,
                             quantity=quantity, uncertainty=body.uncertainty)
    except NoConversionPath as exc:
        raise Unprocessable(str(exc)) from None
    except InvalidInputError as exc:
        raise Unprocessable(str(exc)) from None
    used, warnings = conversion_sources(conversion, sources)
    steps = []
    for step, source in zip(conversion.steps, used, strict=True):
        oriented = step.shift.reversed() if step.reversed else step.shift
        steps.append({
            "from_standard": oriented.from_standard, "to_standard": oriented.to_standard,
            "shift_value": oriented.value, "shift_uncertainty": oriented.uncertainty,
            "reversed": step.reversed, "value": step.value, "uncertainty": step.uncertainty,
            "source": source,
        })
    return {
        "element": element, "isotope_ratio": quantity, "value": conversion.value,
        "uncertainty": conversion.uncertainty, "input_value": conversion.input_value,
        "input_uncertainty": conversion.input_uncertainty, "from_standard": start,
        "to_standard": goal, "path": list(conversion.path), "steps": steps,
        "warnings": list(dict.fromkeys(warnings)),
    }

