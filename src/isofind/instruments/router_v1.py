"""SampleDB routes of the instruments room."""

from __future__ import annotations

from isofind.api_v1.wire import v1_router

router = v1_router(prefix="/api/v1", tags=["SampleDB: Instruments"])
