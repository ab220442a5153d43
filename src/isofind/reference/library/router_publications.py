"""Routes of the publications library: /api/v2/publications."""

from __future__ import annotations

from fastapi import Request, status

from isofind.identity.dependencies import CurrentUser, Db, client_address
from isofind.reference.library import publications as service
from isofind.reference.library.router_methods import TAG
from isofind.reference.library.schemas import PublicationIn, PublicationOut
from isofind.routing import api_router

router = api_router(tags=[TAG])


@router.get("/api/v2/publications", response_model=list[PublicationOut])
def list_publications(user: CurrentUser, db: Db) -> list[PublicationOut]:
    """Publications, newest first."""
    return [PublicationOut.of(publication) for publication in service.list_publications(db)]


@router.get("/api/v2/publications/doi/{doi:path}", response_model=PublicationOut)
def find_publication(doi: str, user: CurrentUser, db: Db) -> PublicationOut:
    """The publication with this DOI, in any case. The DOI may be given raw
    (`10.1016/j.gca.2020.01.001`), percent-encoded (`10.1016%2Fj.gca...`), or with a
    `doi:` or `https://doi.org/` prefix."""
    return PublicationOut.of(service.find_by_doi(db, doi))


@router.post("/api/v2/publications", response_model=PublicationOut,
             status_code=status.HTTP_201_CREATED)
def create_publication(body: PublicationIn, request: Request, user: CurrentUser,
                       db: Db) -> PublicationOut:
    """Add a bibliographic reference; its DOI is stored bare and must be new (409)."""
    publication = service.create_publication(db, user, body,
                                             client_address=client_address(request))
    return PublicationOut.of(publication)
