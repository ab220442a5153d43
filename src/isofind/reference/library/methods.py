"""Rules for the methods library.

A method is found by id in the routes and by key in `.isof` files, pipelines and
purification yields; keys are unique. A method linked to samples or used by a pipeline is
not deleted: the samples' history and the pipelines would lose a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isofind.activity.service import record
from isofind.errors import Conflict, NotFound
from isofind.identity.models import User
from isofind.reference.library.common import Loc, element_filter, element_symbol, require_editor
from isofind.reference.library.models import Method, Pipeline, PipelineStage, SampleMethod
from isofind.reference.library.schemas import MethodIn, YieldRangeOut
from isofind.timeutil import utcnow

WHAT = "the methods library"


def list_methods(db: Session, *, type: str | None = None,
                 element: str | None = None) -> Sequence[Method]:
    query = select(Method).order_by(Method.key)
    if type is not None:
        query = query.where(Method.type == type)
    symbol = element_filter(db, element)
    if symbol is not None:
        query = query.where(Method.element == symbol)
    return db.scalars(query).all()


def get_method(db: Session, method_id: int) -> Method:
    method = db.get(Method, method_id)
    if method is None:
        raise NotFound(f"method {method_id} not found")
    return method


def method_by_key(db: Session, key: str) -> Method | None:
    return db.scalar(select(Method).where(Method.key == key))


def method_values(db: Session, body: MethodIn, loc: Loc = ("body",)) -> dict[str, Any]:
    """Column values of a method body; the element is normalised (422 when unknown)."""
    equipment = body.equipment.model_dump() if body.equipment else None
    reference = body.reference
    return {
        "key": body.key,
        "name": body.name,
        "type": body.type,
        "element": element_symbol(db, body.element, [*loc, "element"]),
        "target_matrices": list(body.target_matrices),
        "duration": body.duration,
        "duration_hours": body.duration_hours,
        "yield_min_pct": body.yield_min_pct,
        "yield_max_pct": body.yield_max_pct,
        # An all-empty equipment block is no equipment, as the .isof reader takes it.
        "equipment": equipment if equipment and any(v is not None for v in equipment.values())
        else None,
        "steps": [step.model_dump() for step in body.steps],
        "reference_doi": reference.doi if reference else None,
        "reference_citation": reference.citation if reference else None,
        "notes": body.notes,
    }


def differs(method: Method, values: dict[str, Any]) -> bool:
    return any(getattr(method, name) != value for name, value in values.items())


def _check_key_free(db: Session, key: str, method_id: int | None) -> None:
    other = db.scalar(select(Method.id).where(Method.key == key))
    if other is not None and other != method_id:
        raise Conflict(f"a method with key {key!r} already exists (id {other})")


def _flush(db: Session, key: str) -> None:
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"a method with key {key!r} already exists") from None


def insert_method(db: Session, user: User, values: dict[str, Any]) -> Method:
    method = Method(created_by=user.id, **values)
    db.add(method)
    _flush(db, values["key"])
    return method


def replace_method(db: Session, method: Method, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(method, name, value)
    method.updated_at = utcnow()
    _flush(db, values["key"])


def create_method(db: Session, user: User, body: MethodIn, *,
                  client_address: str | None = None) -> Method:
    require_editor(user, WHAT)
    _check_key_free(db, body.key, None)
    method = insert_method(db, user, method_values(db, body))
    record(db, "method.created", user_id=user.id, target_type="method", target_id=method.id,
           details={"key": method.key}, client_address=client_address)
    return method


def update_method(db: Session, user: User, method_id: int, body: MethodIn, *,
                  client_address: str | None = None) -> Method:
    require_editor(user, WHAT)
    method = get_method(db, method_id)
    previous_key = method.key
    _check_key_free(db, body.key, method.id)
    replace_method(db, method, method_values(db, body))
    details = {"key": method.key}
    if previous_key != method.key:
        details["previous_key"] = previous_key
    record(db, "method.updated", user_id=user.id, target_type="method", target_id=method.id,
           details=details, client_address=client_address)
    return method


def _usage(db: Session, method_id: int) -> list[str]:
    linked = db.scalar(select(func.count(func.distinct(SampleMethod.sample_id)))
                       .where(SampleMethod.method_id == method_id)) or 0
    pipelines = db.scalars(
        select(Pipeline.key).join(PipelineStage, PipelineStage.pipeline_id == Pipeline.id)
        .where(PipelineStage.method_id == method_id).distinct().order_by(Pipeline.key)).all()
    usage = []
    if linked:
        usage.append(f"linked to {linked} sample{'s' if linked > 1 else ''}")
    if pipelines:
        usage.append("a stage of pipeline" + ("s " if len(pipelines) > 1 else " ")
                     + ", ".join(repr(key) for key in pipelines))
    return usage


def delete_method(db: Session, user: User, method_id: int, *,
                  client_address: str | None = None) -> str:
    require_editor(user, WHAT)
    method = get_method(db, method_id)
    usage = _usage(db, method.id)
    if usage:
        raise Conflict(f"method {method.key!r} cannot be deleted: it is {' and '.join(usage)}")
    key = method.key
    db.delete(method)
    db.flush()
    record(db, "method.deleted", user_id=user.id, target_type="method", target_id=method_id,
           details={"key": key}, client_address=client_address)
    return key


def yield_ranges(db: Session, element: str | None = None) -> dict[str, YieldRangeOut]:
    """Methods with an acceptable yield range (either bound), keyed by method key."""
    query = (select(Method)
             .where((Method.yield_min_pct.is_not(None)) | (Method.yield_max_pct.is_not(None)))
             .order_by(Method.key))
    symbol = element_filter(db, element)
    if symbol is not None:
        query = query.where(Method.element == symbol)
    return {
        method.key: YieldRangeOut(method_id=method.id, name=method.name, type=method.type,
                                  element=method.element, yield_min_pct=method.yield_min_pct,
                                  yield_max_pct=method.yield_max_pct)
        for method in db.scalars(query)
    }


def yield_range(db: Session, method_key: str) -> tuple[float | None, float | None] | None:
    """(min, max) yield percentages of the method with this key; None if no such method."""
    row = db.execute(select(Method.yield_min_pct, Method.yield_max_pct)
                     .where(Method.key == method_key)).first()
    return None if row is None else (row[0], row[1])
