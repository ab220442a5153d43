"""Rules for publications: bibliographic references found by their DOI.

DOIs are stored bare (`10.1016/j.gca.2020.01.001`) and compared case-insensitively, as the
DOI system does. Any signed-in user who may write can add one: a reference is a fact about
the literature, not a lab protocol.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isofind.activity.service import record
from isofind.errors import Conflict, NotFound, Unprocessable
from isofind.identity.models import User
from isofind.reference.library.common import require_editor
from isofind.reference.library.models import Publication
from isofind.reference.library.schemas import PublicationIn, bare_doi

_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def list_publications(db: Session) -> Sequence[Publication]:
    return db.scalars(select(Publication).order_by(Publication.year.desc().nulls_last(),
                                                   Publication.id.desc())).all()


def doi_from_path(text: str) -> str:
    """The bare DOI of a path parameter: raw, percent-encoded (once or twice), with a
    `https://doi.org/` or `doi:` prefix. 422 when it is no DOI."""
    # The server decodes the path once; a client that encoded the DOI before building the URL
    # leaves escapes such as %2F that only a second decoding turns back into `/`.
    decoded = unquote(text) if _ESCAPE.search(text) else text
    doi = bare_doi(decoded)
    if doi is None:
        raise Unprocessable(f"{text!r} is not a DOI (expected 10.xxxx/..., doi:10.xxxx/... or "
                            "https://doi.org/10.xxxx/...)")
    return doi


def find_by_doi(db: Session, text: str) -> Publication:
    doi = doi_from_path(text)
    publication = db.scalar(select(Publication).where(Publication.doi_key == doi.lower()))
    if publication is None:
        raise NotFound(f"no publication with DOI {doi}")
    return publication


def publications_for_dois(db: Session, dois: Collection[str]) -> list[Publication]:
    """The stored publications among `dois` (any accepted spelling), in the order given."""
    keys = [doi.lower() for doi in (bare_doi(text) for text in dois) if doi is not None]
    if not keys:
        return []
    found = {publication.doi_key: publication for publication in db.scalars(
        select(Publication).where(Publication.doi_key.in_(set(keys))))}
    return [found[key] for key in dict.fromkeys(keys) if key in found]


def create_publication(db: Session, user: User, body: PublicationIn, *,
                       client_address: str | None = None) -> Publication:
    require_editor(user, "publications")
    key = body.doi.lower() if body.doi else None
    if key is not None:
        other = db.scalar(select(Publication).where(Publication.doi_key == key))
        if other is not None:
            raise Conflict(f"a publication with DOI {other.doi} already exists (id {other.id})")
    publication = Publication(doi=body.doi, doi_key=key, title=body.title, authors=body.authors,
                              year=body.year, journal=body.journal, citation=body.citation,
                              created_by=user.id)
    db.add(publication)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"a publication with DOI {body.doi} already exists") from None
    record(db, "publication.created", user_id=user.id, target_type="publication",
           target_id=publication.id, details={"doi": publication.doi},
           client_address=client_address)
    return publication
