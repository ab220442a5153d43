"""Match Analysis, Geographic Zones and Statistics routes: HTTP only, rules in the services."""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, FastAPI, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from isofind.activity.service import record as record_activity
from isofind.csv_export import stream_csv
from isofind.identity.dependencies import CurrentUser, Db, ManagerUser, client_address
from isofind.matching import reports, service, zones
from isofind.matching.schemas import (
    DEFAULT_THRESHOLD,
    AdvancedIn,
    Algorithm,
    AnalyzeIn,
    BatchIn,
    ManualAnalyzeIn,
    MatchingManualIn,
    MatchingOptionsIn,
    ZoneIn,
)
from isofind.matching.service import MatchingRuntime
from isofind.permissions.dependencies import CurrentViewer
from isofind.routing import api_router

router = api_router(tags=["Match Analysis"])
zones_router = api_router(tags=["Geographic Zones and Statistics"])


class ErrorOut(BaseModel):
    detail: Any


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in codes}


ANALYSIS_ERRORS = _errors(401, 404, 422, 503)


_runtime_lock = threading.Lock()


def runtime_of(app: FastAPI) -> MatchingRuntime:
    """The app's matching runtime (caches), created on first use: one per process and app."""
    found = getattr(app.state, "matching", None)
    if found is None:
        with _runtime_lock:
            found = getattr(app.state, "matching", None)
            if found is None:
                found = app.state.matching = MatchingRuntime.create(app.state.settings)
    return found


async def get_runtime(request: Request) -> MatchingRuntime:
    # Async: it builds empty caches at most, and a sync dependency costs a worker-thread call.
    return runtime_of(request.app)


Runtime = Annotated[MatchingRuntime, Depends(get_runtime)]
AnswerDict = dict[str, Any]


@router.post("/analyze", responses=ANALYSIS_ERRORS)
def analyze(body: AnalyzeIn, request: Request, viewer: CurrentViewer, db: Db,
            runtime: Runtime) -> AnswerDict:
    """Where does this stored sample come from? Groups best first (``matched`` = score ≥
    threshold), the nearest individual sources with coordinates, warnings, and the id of
    the stored report."""
    analysis = service.analysis_options(body, "analyze", runtime.settings, db)
    query = service.stored_query(db, viewer, body.sample_id, body.isotope_data)
    return service.analyze(db, runtime, viewer, query, analysis,
                           client_address=client_address(request))


@router.post("/analyze/manual", responses=ANALYSIS_ERRORS)
def analyze_manual(body: ManualAnalyzeIn, request: Request, viewer: CurrentViewer, db: Db,
                   runtime: Runtime) -> AnswerDict:
    """Manual analysis of values typed in: a temporary sample, never stored."""
    analysis = service.analysis_options(body, "analyze/manual", runtime.settings, db)
    query = service.manual_query(db, body)
    return service.analyze(db, runtime, viewer, query, analysis,
                           client_address=client_address(request))


@router.post("/api/matching/find/{sample_id}", responses=ANALYSIS_ERRORS)
def find(
    sample_id: int, request: Request, viewer: CurrentViewer, db: Db, runtime: Runtime,
    threshold: Annotated[float | None, Query(ge=0, le=1, description="Default 0.85.")] = None,
    algorithm: Annotated[Algorithm, Query(description="Extension.")] = "hybrid",
) -> AnswerDict:
    """Simplified analysis of a stored sample with the default options."""
    analysis = service.analysis_options(
        MatchingOptionsIn(algorithm=algorithm), "matching/find", runtime.settings, db,
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
    query = service.stored_query(db, viewer, sample_id)
    return service.analyze(db, runtime, viewer, query, analysis,
                           client_address=client_address(request))


SampleIds = Annotated[list[int], Field(min_length=1, max_length=1000)]


@router.post("/api/matching/batch", responses=_errors(401, 422, 503))
def batch(
    request: Request, viewer: CurrentViewer, db: Db, runtime: Runtime,
    body: Annotated[SampleIds | BatchIn, Body(description=(
        "A list of sample ids, or an object with sample_ids and the analysis options."))],
    threshold: Annotated[float | None, Query(ge=0, le=1, description=(
        "Default 0.85; overrides the body's."))] = None,
) -> dict[str, AnswerDict]:
    """Several stored samples: sample_id → answer, or → ``{"error", "status_code"}`` for a
    sample that failed (unknown, unreadable, no usable values), isolated from the others."""
    options = body if isinstance(body, BatchIn) else MatchingOptionsIn()
    ids = body.sample_ids if isinstance(body, BatchIn) else body
    if threshold is None:
        threshold = body.threshold if isinstance(body, BatchIn) else DEFAULT_THRESHOLD
    analysis = service.analysis_options(options, "matching/batch", runtime.settings, db,
                                        threshold=threshold)
    return service.analyze_batch(db, runtime, viewer, ids, analysis,
                                 client_address=client_address(request))


@router.post("/api/matching/manual", responses=ANALYSIS_ERRORS)
def matching_manual(body: MatchingManualIn, request: Request, viewer: CurrentViewer, db: Db,
                    runtime: Runtime) -> AnswerDict:
    """Manual analysis choosing which elements and ratios take part."""
    analysis = service.analysis_options(body, "matching/manual", runtime.settings, db)
    query = service.manual_query(db, body)
    return service.analyze(db, runtime, viewer, query, analysis,
                           client_address=client_address(request))


@router.post("/api/matching/advanced/{sample_id}", responses=ANALYSIS_ERRORS)
def advanced(sample_id: int, body: AdvancedIn, request: Request, viewer: CurrentViewer,
             db: Db, runtime: Runtime) -> AnswerDict:
    """Analysis of a stored sample with source filters (materials, projects, bounding box,
    collection dates), grouping field, zone priors and database selection."""
    analysis = service.analysis_options(body, "matching/advanced", runtime.settings, db)
    query = service.stored_query(db, viewer, sample_id, body.isotope_data)
    return service.analyze(db, runtime, viewer, query, analysis,
                           client_address=client_address(request))


@router.get("/api/matching/config", responses=_errors(401))
def matching_config(_: CurrentUser, runtime: Runtime) -> dict[str, Any]:
    """Defaults of every analysis option, α (ISOFIND_MATCH_ALPHA) and the engine version."""
    return service.matching_config(runtime)


# --- reports (extensions) ---------------------------------------------------------------------


@router.get("/api/matching/reports", responses=_errors(401))
def list_reports(
    user: CurrentUser, db: Db,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    sample_id: Annotated[int | None, Query(description="Reports of this sample.")] = None,
) -> dict[str, Any]:
    """Extension: your stored analyses (an administrator sees everyone's), newest first."""
    return reports.list_reports(db, user, limit=limit, offset=offset, sample_id=sample_id)


def _csv_response(request: Request, db: Db, user: Any, report_id: int) -> StreamingResponse:
    report = reports.get_report(db, user, report_id)
    rows = list(reports.csv_rows(report))
    record_activity(db, "matching.report_exported", user_id=user.id,
                    target_type="matching_report", target_id=report.id,
                    details={"format": "csv"}, client_address=client_address(request))
    return StreamingResponse(
        stream_csv(reports.CSV_COLUMNS, rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition":
                 f'attachment; filename="isofind-report-{report.id}.csv"'})


@router.get("/api/matching/reports/{report_id}", responses={
    **_errors(401, 404), 200: {"content": {"text/csv": {}}}})
def get_report(
    report_id: int, request: Request, user: CurrentUser, db: Db,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv.")] = "json",
) -> Any:
    """Extension: a stored analysis with its inputs, options, engine version, index
    generation and full answer (``format=csv``: groups, nearest sources and warnings)."""
    if format == "csv":
        return _csv_response(request, db, user, report_id)
    return reports.report_view(reports.get_report(db, user, report_id))


@router.get("/api/matching/reports/{report_id}/export.csv", response_class=StreamingResponse,
            responses={**_errors(401, 404), 200: {"content": {"text/csv": {}}}})
def export_report(report_id: int, request: Request, user: CurrentUser,
                  db: Db) -> StreamingResponse:
    """Extension: the report as CSV; cells a spreadsheet would run are neutralised."""
    return _csv_response(request, db, user, report_id)


# --- zones and statistics ---------------------------------------------------------------------


@zones_router.get("/api/zones", responses=_errors(401))
def list_zones(_: CurrentUser, db: Db) -> list[dict[str, Any]]:
    """Reference geographic zones used in matching: GeoJSON geometry, prior weight."""
    return zones.list_zones(db)


@zones_router.get("/api/zones/{zone_id}", responses=_errors(401, 404))
def get_zone(zone_id: int, _: CurrentUser, db: Db) -> dict[str, Any]:
    """Extension: one zone."""
    return zones.get_zone(db, zone_id)


@zones_router.post("/api/zones", status_code=status.HTTP_201_CREATED,
                   responses=_errors(401, 403, 409, 422))
def create_zone(body: ZoneIn, request: Request, user: ManagerUser, db: Db) -> dict[str, Any]:
    """Extension (manager): a zone from a GeoJSON Polygon or MultiPolygon."""
    return zones.create_zone(db, user, body.model_dump(),
                             client_address=client_address(request))


@zones_router.put("/api/zones/{zone_id}", responses=_errors(401, 403, 404, 409, 422))
def replace_zone(zone_id: int, body: ZoneIn, request: Request, user: ManagerUser,
                 db: Db) -> dict[str, Any]:
    """Extension (manager): replace a zone; its version grows."""
    return zones.update_zone(db, user, zone_id, body.model_dump(),
                             client_address=client_address(request))


@zones_router.delete("/api/zones/{zone_id}", status_code=status.HTTP_204_NO_CONTENT,
                     responses=_errors(401, 403, 404))
def delete_zone(zone_id: int, request: Request, user: ManagerUser, db: Db) -> Response:
    """Extension (manager)."""
    zones.delete_zone(db, user, zone_id, client_address=client_address(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@zones_router.get("/api/stats", responses=_errors(401))
def stats(viewer: CurrentViewer, db: Db) -> dict[str, Any]:
    """Samples and elements you may read, zones, and matches calculated (stored reports)."""
    return service.stats(db, viewer)
