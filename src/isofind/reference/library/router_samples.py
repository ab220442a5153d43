"""Routes that tie the library to samples: method links and pipeline progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, status

from isofind.identity.dependencies import Db, client_address
from isofind.identity.schemas import Success
from isofind.permissions.dependencies import CurrentViewer
from isofind.reference.library import links as service
from isofind.reference.library.router_methods import TAG
from isofind.reference.library.schemas import (
    BatchLinkIn,
    BatchLinkOut,
    LinkIn,
    LinkOut,
    ProgressIn,
    SamplePipelineOut,
)
from isofind.routing import api_router

router = api_router(tags=[TAG])

RowId = Annotated[int, Path(ge=-(2**31), le=2**31 - 1)]


@router.get("/api/v2/samples/{sample_id}/methods", response_model=list[LinkOut])
def list_sample_methods(sample_id: RowId, viewer: CurrentViewer, db: Db) -> list[LinkOut]:
    """The sample's method and pipeline links, oldest first."""
    return service.list_links(db, viewer, sample_id)


@router.post("/api/v2/samples/{sample_id}/methods", response_model=LinkOut,
             status_code=status.HTTP_201_CREATED)
def link_sample_method(sample_id: RowId, body: LinkIn, request: Request, viewer: CurrentViewer,
                       db: Db) -> LinkOut:
    """Link a method and/or a pipeline (by id or key) to a sample one may change.

    A pipeline starts the sample's progress, every stage pending. A method already linked, or
    a second pipeline, is refused (409)."""
    return service.link_sample(db, viewer, sample_id, body,
                               client_address=client_address(request))


@router.post("/api/v2/samples/methods-batch", response_model=BatchLinkOut,
             status_code=status.HTTP_201_CREATED)
def link_samples_batch(body: BatchLinkIn, request: Request, viewer: CurrentViewer,
                       db: Db) -> BatchLinkOut:
    """Link one method and/or pipeline to many samples in one transaction.

    Any sample missing or unreadable (404) or read-only (403) is named and nothing is linked.
    Samples that already have the method (and pipeline) are skipped and listed."""
    return service.link_batch(db, viewer, body, client_address=client_address(request))


@router.delete("/api/v2/sample-methods/{sm_id}", response_model=Success)
def unlink_sample_method(sm_id: RowId, request: Request, viewer: CurrentViewer,
                         db: Db) -> Success:
    """Remove a link; a pipeline link takes the sample's progress through it along."""
    service.unlink(db, viewer, sm_id, client_address=client_address(request))
    return Success(message=f"sample-method link {sm_id} removed")


@router.get("/api/v2/samples/{sample_id}/pipeline", response_model=SamplePipelineOut | None)
def read_sample_pipeline(sample_id: RowId, viewer: CurrentViewer,
                         db: Db) -> SamplePipelineOut | None:
    """The sample's pipeline with each stage's progress; `null` when it follows none."""
    return service.read_sample_pipeline(db, viewer, sample_id)


@router.put("/api/v2/sample-pipelines/{sp_id}/progress", response_model=SamplePipelineOut)
def update_stage_progress(sp_id: RowId, body: ProgressIn, request: Request,
                          viewer: CurrentViewer, db: Db) -> SamplePipelineOut:
    """Set one stage's status (pending, in_progress, done, failed); the signed-in user and the
    time are recorded, with an optional operator and notes. Stages may be done in any order."""
    return service.update_progress(db, viewer, sp_id, body,
                                   client_address=client_address(request))
