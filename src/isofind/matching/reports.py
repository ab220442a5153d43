"""Stored analyses: every analysis run through the routes, readable and exportable later.

A report keeps what was asked (the sample's values and every option), on which data (engine
version, index generation) and the full answer, so a result can be cited and re-examined
after the database has changed. A user reads their own reports; an administrator reads all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isofind.errors import NotFound
from isofind.identity.models import Role, User
from isofind.matching.engine import ENGINE_VERSION
from isofind.matching.models import MatchingReport
from isofind.timeutil import iso_timestamp

CSV_COLUMNS = (
    "report_id", "created_at", "sample_id", "sample_name", "algorithm", "threshold",
    "engine_version", "index_generation", "kind", "rank", "group", "score", "p_value",
    "posterior", "n_sources", "matched", "compatible", "centroid_latitude",
    "centroid_longitude", "source_sample_id", "source_name", "sector", "distance", "latitude",
    "longitude", "message",
)


def store(db: Session, *, user_id: int | None, route: str, inputs: dict[str, Any],
          options: dict[str, Any], result: dict[str, Any], generation: int) -> MatchingReport:
    report = MatchingReport(
        user_id=user_id, route=route, sample_id=inputs.get("sample_id"),
        sample_name=inputs.get("name"), algorithm=result.get("algorithm", options["algorithm"]),
        threshold=result.get("threshold", options["threshold"]), engine_version=ENGINE_VERSION,
        index_generation=generation, inputs=inputs, options=options, result=result,
    )
    db.add(report)
    db.flush()
    return report


def summary(report: MatchingReport) -> dict[str, Any]:
    groups = report.result.get("groups") or []
    best = groups[0] if groups else None
    return {
        "id": report.id, "created_at": iso_timestamp(report.created_at),
        "user_id": report.user_id, "route": report.route, "sample_id": report.sample_id,
        "sample_name": report.sample_name, "algorithm": report.algorithm,
        "threshold": report.threshold, "engine_version": report.engine_version,
        "index_generation": report.index_generation,
        "best_group": None if best is None else best.get("group"),
        "best_score": None if best is None else best.get("score"),
        "groups_matched": report.result.get("groups_matched", 0),
    }


def report_view(report: MatchingReport) -> dict[str, Any]:
    return {**summary(report), "inputs": report.inputs, "options": report.options,
            "result": {**report.result, "report_id": report.id}}


def _may_read_all(user: User) -> bool:
    return user.role >= Role.ADMIN


def get_report(db: Session, user: User, report_id: int) -> MatchingReport:
    """The report if it is the user's (or the user is an administrator); 404 otherwise, as
    for a report that does not exist."""
    report = db.get(MatchingReport, report_id)
    if report is None or (report.user_id != user.id and not _may_read_all(user)):
        raise NotFound(f"report {report_id} not found")
    return report


def list_reports(db: Session, user: User, *, limit: int, offset: int,
                 sample_id: int | None = None) -> dict[str, Any]:
    query = select(MatchingReport)
    if not _may_read_all(user):
        query = query.where(MatchingReport.user_id == user.id)
    if sample_id is not None:
        query = query.where(MatchingReport.sample_id == sample_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(MatchingReport.id.desc()).limit(limit).offset(offset))
    return {"total": total, "limit": limit, "offset": offset,
            "reports": [summary(report) for report in rows]}


def count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(MatchingReport)) or 0


def csv_rows(report: MatchingReport) -> Iterator[list[object]]:
    """One row per group (best first), per nearest source and per warning."""
    head = [report.id, iso_timestamp(report.created_at), report.sample_id, report.sample_name,
            report.algorithm, report.threshold, report.engine_version, report.index_generation]
    blank = [None] * (len(CSV_COLUMNS) - len(head) - 2)  # all but kind and message
    result = report.result
    for rank, group in enumerate(result.get("groups") or [], start=1):
        centroid = group.get("centroid") or {}
        yield [*head, "group", rank, group.get("group"), group.get("score"),
               group.get("p_value"), group.get("posterior"), group.get("n_sources"),
               group.get("matched"), group.get("compatible"), centroid.get("latitude"),
               centroid.get("longitude"), None, None, None, group.get("distance"), None, None,
               None]
    for rank, source in enumerate(result.get("matches") or [], start=1):
        yield [*head, "source", rank, source.get("group"), source.get("score"), None, None,
               None, None, None, None, None, source.get("sample_id"), source.get("name"),
               source.get("sector"), source.get("distance"), source.get("latitude"),
               source.get("longitude"), None]
    for warning in result.get("warnings") or []:
        yield [*head, "warning", *blank, warning]
