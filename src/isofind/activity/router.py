"""Activity log routes: /api/logs/activity and /api/logs/export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from isofind.activity import service
from isofind.identity.dependencies import CurrentUser, Db, client_address
from isofind.identity.models import Role, User
from isofind.routing import api_router

router = api_router(tags=["Logs and Journals"])


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    utc_datetime: datetime
    user_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    client_address: str | None


class ActivityPage(BaseModel):
    total: int
    limit: int
    offset: int
    entries: list[ActivityOut]


class ActivityFilters(BaseModel):
    user_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def visible_to(self, user: User) -> dict[str, Any]:
        """Administrators read the whole log; everyone else their own entries."""
        filters = self.model_dump()
        if user.role < Role.ADMIN:
            filters["user_id"] = user.id
        for moment in ("since", "until"):
            if filters[moment] is not None and filters[moment].tzinfo is not None:
                filters[moment] = filters[moment].astimezone(tz=None).replace(tzinfo=None)
        return filters


@router.get("/api/logs/activity", response_model=ActivityPage)
def activity(
    user: CurrentUser,
    db: Db,
    filters: Annotated[ActivityFilters, Query()],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ActivityPage:
    """The activity log, newest first, filtered by user, action (``sample.`` for a family),
    target and time range (UTC)."""
    total, entries = service.search(db, **filters.visible_to(user), limit=limit, offset=offset)
    return ActivityPage(total=total, limit=limit, offset=offset,
                        entries=[ActivityOut.model_validate(e) for e in entries])


@router.get("/api/logs/export", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
def export(
    request: Request, user: CurrentUser, db: Db, filters: Annotated[ActivityFilters, Query()]
) -> StreamingResponse:
    """The filtered activity log as CSV; cells that a spreadsheet would run are neutralised."""
    visible = filters.visible_to(user)
    service.record(db, "activity.exported", user_id=user.id, target_type="activity_log",
                   details={k: str(v) for k, v in visible.items() if v is not None},
                   client_address=client_address(request))
    return StreamingResponse(
        service.export_csv(request.app.state.database, **visible),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="isofind-activity.csv"'},
    )
