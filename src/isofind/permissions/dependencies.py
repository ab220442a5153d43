"""The viewer of an IsoFind route: the signed-in user (the local owner in single-user mode)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from isofind.identity.dependencies import CurrentUser
from isofind.permissions.service import Viewer
from isofind.routing import on_endpoint_thread


@on_endpoint_thread
def current_viewer(user: CurrentUser) -> Viewer:
    return Viewer(user)


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
