"""Routes of the methods library: /api/v2/methods and its yield ranges."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, status

from isofind.identity.dependencies import AnalystUser, CurrentUser, Db, client_address
from isofind.identity.schemas import Success
from isofind.reference.library import methods as service
from isofind.reference.library.schemas import MethodIn, MethodOut, MethodType, YieldRangeOut
from isofind.routing import api_router

TAG = "Methods, pipelines, and publications (v2)"
router = api_router(tags=[TAG])

MethodId = Annotated[int, Path(ge=-(2**31), le=2**31 - 1)]
ElementQuery = Annotated[str | None, Query(max_length=50,
                                           description="symbol or name: Pb, lead, plomb")]


@router.get("/api/v2/methods", response_model=list[MethodOut])
def list_methods(user: CurrentUser, db: Db,
                 type: Annotated[MethodType | None, Query()] = None,
                 element: ElementQuery = None) -> list[MethodOut]:
    """Methods of the library by key, filtered by type and element."""
    return [MethodOut.of(method) for method in service.list_methods(db, type=type,
                                                                    element=element)]


# Declared before /api/v2/methods/{method_id}, which would otherwise take "yield-ranges".
@router.get("/api/v2/methods/yield-ranges", response_model=dict[str, YieldRangeOut])
def yield_ranges(user: CurrentUser, db: Db, element: ElementQuery = None
                 ) -> dict[str, YieldRangeOut]:
    """Acceptable purification yields (percent) of each method that declares a range, keyed
    by method key; a yield outside its method's range is flagged on the sample."""
    return service.yield_ranges(db, element)


@router.get("/api/v2/methods/{method_id}", response_model=MethodOut)
def read_method(method_id: MethodId, user: CurrentUser, db: Db) -> MethodOut:
    return MethodOut.of(service.get_method(db, method_id))


@router.post("/api/v2/methods", response_model=MethodOut, status_code=status.HTTP_201_CREATED)
def create_method(body: MethodIn, request: Request, user: AnalystUser, db: Db) -> MethodOut:
    """Add a method (analyst or above); its key must be new (409)."""
    method = service.create_method(db, user, body, client_address=client_address(request))
    return MethodOut.of(method)


@router.put("/api/v2/methods/{method_id}", response_model=MethodOut)
def update_method(method_id: MethodId, body: MethodIn, request: Request, user: AnalystUser,
                  db: Db) -> MethodOut:
    """Replace a method (analyst or above); the body is the whole method, as for POST."""
    method = service.update_method(db, user, method_id, body,
                                   client_address=client_address(request))
    return MethodOut.of(method)


@router.delete("/api/v2/methods/{method_id}", response_model=Success)
def delete_method(method_id: MethodId, request: Request, user: AnalystUser, db: Db) -> Success:
    """Delete a method (analyst or above); refused (409) while linked to samples or used by a
    pipeline."""
    key = service.delete_method(db, user, method_id, client_address=client_address(request))
    return Success(message=f"method {key!r} deleted")
