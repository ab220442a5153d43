"""Who is looking, in the terms the permission module understands."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from isofind.errors import Unauthorized
from isofind.identity.dependencies import Db, authenticate
from isofind.permissions.service import Viewer
from isofind.routing import on_endpoint_thread


@on_endpoint_thread
def v1_viewer(request: Request, db: Db) -> Viewer:
    """A signed-in user, or an anonymous viewer when anonymous access is enabled."""
    principal = authenticate(request, db)
    anonymous = request.app.state.settings.anonymous_access
    if principal is None and not anonymous:
        raise Unauthorized("Authentication required",
                           headers={"WWW-Authenticate": 'Basic realm="IsoFind"'})
    return Viewer(principal.user if principal else None, anonymous_enabled=anonymous)


V1Viewer = Annotated[Viewer, Depends(v1_viewer)]
