"""The IsoFind sample routes: HTTP only; the rules live in the samples services."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from isofind.activity.service import record as record_activity
from isofind.identity.dependencies import Db, ManagerUser, client_address
from isofind.permissions.dependencies import CurrentViewer
from isofind.permissions.service import Viewer
from isofind.routing import api_router
from isofind.samples import curation, exporting, importing, normalizing, service, yields
from isofind.samples.schemas import NormalizeIn, PurificationYieldIn, SampleIn, SamplePatch

router = api_router(tags=["samples"])

@router.get("/api/samples", response_class=Response, responses={200: {"content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}})
def list_samples(
    viewer: CurrentViewer, db: Db,
    limit: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    sort: Annotated[Literal["asc", "desc"], Query()] = "desc",
    include_archived: Annotated[bool, Query(description="Extension: archived samples too.")]
    = False,
) -> Response:
    """Samples with their isotopic data, newest first (``sort=asc``: oldest first)."""
    return Response(service.list_samples_json(db, viewer, limit=limit, sort=sort,
                                              include_archived=include_archived),
                    media_type="application/json")


@router.get("/api/samples/isotopic-data")
def isotopic_data(viewer: CurrentViewer, db: Db) -> list[dict[str, Any]]:
    """Every isotope value, with its normalization indicators."""
    return service.isotopic_data(db, viewer)


@router.get("/api/samples/metadata")
def sample_metadata(viewer: CurrentViewer, db: Db) -> dict[str, dict[str, Any]]:
    """GPS, project, dates and description, keyed by sample_id."""
    return service.metadata(db, viewer)


@router.get("/api/samples/stats")
def sample_stats(viewer: CurrentViewer, db: Db) -> dict[str, Any]:
    return service.stats(db, viewer)


@router.get("/api/samples/export", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
def export_samples(request: Request, viewer: CurrentViewer, db: Db) -> StreamingResponse:
    """Every sample's metadata as CSV; cells a spreadsheet would run are neutralised."""
    record_activity(db, "samples.exported", user_id=viewer.user_id, target_type="samples",
                    details={"format": "csv"}, client_address=client_address(request))
    return StreamingResponse(
        exporting.export_csv(request.app.state.database, viewer),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="isofind-samples.csv"'},
    )


@router.post("/api/v2/samples/export-batch")
def export_batch(
    viewer: CurrentViewer, db: Db,
    sample_ids: Annotated[list[int], Body(max_length=100_000)],
) -> list[dict[str, Any]]:
    """The listed samples with isotopes, methods, publications and pipeline."""
    return exporting.export_batch(db, viewer, sample_ids)


@router.post("/api/v2/samples/export-isof", response_class=Response,
             responses={200: {"content": {"application/json": {}}}})
def export_isof(
    viewer: CurrentViewer, db: Db,
    sample_ids: Annotated[list[int] | None, Body(max_length=100_000)] = None,
) -> Response:
    """Extension: an unsigned .isof document of the listed samples (every readable sample when
    no list is given), with methods, pipelines, yields and assignments."""
    content = exporting.export_isof(db, viewer, sample_ids)
    return Response(content, media_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="isofind-samples.isof"'})


@router.get("/api/samples/{sample_id}")
def get_sample(sample_id: int, viewer: CurrentViewer, db: Db) -> dict[str, Any]:
    return service.get_sample(db, viewer, sample_id)


@router.get("/api/v2/samples/{sample_id}/full")
def get_full_sample(sample_id: int, viewer: CurrentViewer, db: Db) -> dict[str, Any]:
    """The sample with isotopes, methods, publications and pipeline."""
    return exporting.full_sample(db, viewer, sample_id)


@router.post("/api/samples", status_code=status.HTTP_201_CREATED)
def create_sample(body: SampleIn, request: Request, viewer: CurrentViewer,
                  db: Db) -> dict[str, Any]:
    """Material type and classification are normalised; the creating user is recorded."""
    return service.create_sample(db, viewer, body, client_address=client_address(request))


@router.put("/api/samples/{sample_id}")
def replace_sample(sample_id: int, body: SampleIn, request: Request, viewer: CurrentViewer,
                   db: Db) -> dict[str, Any]:
    """Replace every field; isotope values identical to stored ones keep their ids."""
    return service.replace_sample(db, viewer, sample_id, body,
                                  client_address=client_address(request))


@router.patch("/api/samples/{sample_id}")
def patch_sample(sample_id: int, body: SamplePatch, request: Request, viewer: CurrentViewer,
                 db: Db) -> dict[str, Any]:
    """Change only the fields given."""
    return service.patch_sample(db, viewer, sample_id, body,
                                client_address=client_address(request))


@router.delete("/api/samples/{sample_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_sample(sample_id: int, request: Request, viewer: CurrentViewer, db: Db) -> Response:
    """The sample disappears from both APIs; its versions are kept, restorable by an admin."""
    service.delete_sample(db, viewer, sample_id, client_address=client_address(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/api/samples/{sample_id}/isotope/{isotope_id}")
def delete_isotope(sample_id: int, isotope_id: int, request: Request, viewer: CurrentViewer,
                   db: Db) -> dict[str, Any]:
    """A new version of the sample without this isotope value."""
    return service.delete_isotope(db, viewer, sample_id, isotope_id,
                                  client_address=client_address(request))


@router.get("/api/samples/{sample_id}/purification-yields")
def list_yields(sample_id: int, viewer: CurrentViewer, db: Db) -> list[dict[str, Any]]:
    return yields.list_yields(db, viewer, sample_id)


@router.post("/api/samples/{sample_id}/purification-yields")
def record_yield(sample_id: int, body: PurificationYieldIn, request: Request,
                 viewer: CurrentViewer, db: Db) -> dict[str, Any]:
    """One yield per (sample, element): recorded, or replacing the previous one; suspicious
    yields are flagged, not refused."""
    return yields.record_yield(db, viewer, sample_id, body,
                               client_address=client_address(request))


@router.delete("/api/samples/{sample_id}/purification-yields/{element}",
               status_code=status.HTTP_204_NO_CONTENT)
def delete_yield(sample_id: int, element: str, request: Request, viewer: CurrentViewer,
                 db: Db) -> Response:
    yields.delete_yield(db, viewer, sample_id, element, client_address=client_address(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/samples/auto-normalize")
def auto_normalize(request: Request, manager: ManagerUser, db: Db) -> dict[str, Any]:
    """Normalize every sample you may change to each element's reference standard, wherever a
    measured standard value or a calculated shift allows it; counts and reasons for skips."""
    return normalizing.auto_normalize(db, Viewer(manager), client_address=client_address(request))


@router.post("/api/samples/reset-all-normalizations")
def reset_all_normalizations(request: Request, manager: ManagerUser, db: Db) -> dict[str, Any]:
    """Back to measured values (never overwritten): a new version where one was normalized."""
    return normalizing.reset_all(db, Viewer(manager), client_address=client_address(request))


@router.post("/api/samples/{sample_id}/normalize")
def normalize_sample(sample_id: int, request: Request, viewer: CurrentViewer, db: Db,
                     body: Annotated[NormalizeIn | None, Body()] = None) -> dict[str, Any]:
    """Normalize the sample's values to a reference standard (default: each element's "Set
    ref"); measured and normalized values side by side."""
    target = body.reference_standard if body else None
    return normalizing.normalize_sample(db, viewer, sample_id, target,
                                        client_address=client_address(request))


@router.post("/api/samples/normalize-materials")
def normalize_materials(request: Request, manager: ManagerUser, db: Db) -> dict[str, Any]:
    """Material types of every sample you may change, in canonical form (a new version only
    where one changes)."""
    return curation.normalize_materials(db, Viewer(manager),
                                        client_address=client_address(request))


@router.post("/api/samples/normalize-all-data")
def normalize_all_data(request: Request, manager: ManagerUser, db: Db) -> dict[str, Any]:
    """Materials, classifications, isotope ratios and element symbols in one pass."""
    return curation.normalize_all_data(db, Viewer(manager),
                                       client_address=client_address(request))


@router.post("/api/import-isof")
def import_isof(
    request: Request, viewer: CurrentViewer, db: Db,
    file: Annotated[UploadFile, File(description="The .isof document.")],
    archive_mode: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Extension: import an .isof document (signature verified when present) in one
    transaction: methods, pipelines, samples merged by name, yields and assignments."""
    return importing.import_isof(db, viewer, file.file.read(), archive_mode=archive_mode,
                                 filename=file.filename, client_address=client_address(request),
                                 workers=request.app.state.settings.import_worker_count)


@router.post("/api/import-csv")
def import_csv(
    request: Request, viewer: CurrentViewer, db: Db,
    file: Annotated[UploadFile, File(description="The CSV file.")],
    archive_mode: Annotated[bool, Form()] = False,
    mapping: Annotated[str | None, Form(description=(
        'JSON: field → column, list of columns joined with ", ", or {"value": constant}.'))]
    = None,
    profile: Annotated[str | None, Form(description="A shipped mapping, e.g. globalid.")]
    = None,
) -> dict[str, Any]:
    """Import a sample CSV in one transaction: any bad row → 422 listing every problem with
    its line and column, and nothing imported."""
    raw = file.file.read()
    return importing.import_csv(db, viewer, raw, archive_mode=archive_mode, mapping=mapping,
                                profile=profile, filename=file.filename,
                                client_address=client_address(request),
                                workers=request.app.state.settings.import_worker_count)
