"""The library's routers: methods, pipelines, sample links, publications."""

from __future__ import annotations

from isofind.reference.library.router_methods import router as methods_router
from isofind.reference.library.router_pipelines import router as pipelines_router
from isofind.reference.library.router_publications import router as publications_router
from isofind.reference.library.router_samples import router as samples_router

routers = (methods_router, pipelines_router, samples_router, publications_router)
