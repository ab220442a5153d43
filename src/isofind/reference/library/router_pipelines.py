"""Routes of the pipelines library: /api/v2/pipelines."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, status

from isofind.identity.dependencies import CurrentUser, Db, ManagerUser, client_address
from isofind.reference.library import pipelines as service
from isofind.reference.library.router_methods import TAG
from isofind.reference.library.schemas import PipelineIn, PipelineOut
from isofind.routing import api_router

router = api_router(tags=[TAG])


@router.get("/api/v2/pipelines", response_model=list[PipelineOut])
def list_pipelines(
    user: CurrentUser, db: Db,
    element: Annotated[str | None, Query(max_length=50, description="target element")] = None,
) -> list[PipelineOut]:
    """Pipelines by key, each with its ordered stages."""
    return [PipelineOut.of(pipeline) for pipeline in service.list_pipelines(db, element=element)]


@router.post("/api/v2/pipelines", response_model=PipelineOut,
             status_code=status.HTTP_201_CREATED,
             summary="Create a pipeline (IsoFind extension)",
             openapi_extra={"x-isofind-extension": True})
def create_pipeline(body: PipelineIn, request: Request, user: ManagerUser,
                    db: Db) -> PipelineOut:
    """**Extension**: the IsoFind API document lists pipelines but has no route to define one.

    Managers and administrators only. Stages name methods of the library by key, in
    `order` (default: their position); the key must be new (409)."""
    pipeline = service.create_pipeline(db, user, body, client_address=client_address(request))
    return PipelineOut.of(pipeline)
