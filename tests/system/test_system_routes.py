"""Readiness, health, version, statistics, offline docs, interface language."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from isofind import __version__
from isofind.app import add_routes, create_app

ADMIN = ("admin", "admin-password")


def test_ready_and_health(client: TestClient) -> None:
    assert client.get("/api/ready").json() == {"status": "ready"}
    assert client.get("/health").json() == {"status": "healthy"}


def test_health_answers_503_when_the_database_is_unreachable(settings_for) -> None:
    app = create_app(settings_for(
        database_url="postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"))
    with TestClient(app) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy",
                               "detail": "database unreachable: OperationalError"}


def test_version_info_and_mode(client: TestClient, backend: str) -> None:
    info = client.get("/api/version/info").json()
    assert info == {
        "version": __version__, "mode": "single_user", "build_date": "2026-11-21",
        "database_backend": backend,
        "features": {"multi_user": False, "air_gap": False, "sampledb_api": True,
                     "anonymous_access": False},
    }
    assert client.get("/api/system/mode").json() == {
        "mode": "single_user", "multi_user": False, "air_gap": False}


def test_system_stats_counts_sessions_and_describes_the_database(
    multi_client: TestClient, backend: str
) -> None:
    multi_client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
    stats = multi_client.get("/api/system/stats").json()
    assert stats["users"] == {"total": 1, "active_accounts": 1, "active_users": 1}
    assert stats["sessions"] == {"active": 1}
    assert stats["database"]["backend"] == backend
    assert stats["database"]["state"] == "ok"
    assert stats["database"]["size_bytes"] > 0


def test_docs_work_offline(client: TestClient) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        assert f"/static-offline-docs/{asset}" in html
        assert "cdn" not in html.lower() and "https://" not in html.split("<body>")[0]
        served = client.get(f"/static-offline-docs/{asset}")
        assert served.status_code == 200 and len(served.content) > 100_000


def test_openapi_documents_both_families(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/auth/login" in paths
    assert "/api/v1/users/" in paths
    assert "/api/v1/users" not in paths  # the slashless twin is hidden


def test_language_is_global_in_single_user_mode(client: TestClient) -> None:
    assert client.get("/api/config/language").json() == {"language": "en", "scope": "global"}
    assert client.post("/api/config/language", json={"language": "fr"}).json() == {
        "language": "fr", "scope": "global"}
    assert client.get("/api/config/language").json() == {"language": "fr", "scope": "global"}
    refused = client.post("/api/config/language", json={"language": "de"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "language"]


def test_language_is_per_user_in_multi_user_mode(multi_client: TestClient, add_user) -> None:
    add_user("jo")
    multi_client.post("/api/config/language", json={"language": "fr"}, auth=("jo", "password-123"))
    assert multi_client.get("/api/config/language", auth=("jo", "password-123")).json() == {
        "language": "fr", "scope": "user"}
    assert multi_client.get("/api/config/language", auth=ADMIN).json() == {
        "language": "en", "scope": "user"}


def test_unknown_routes_use_each_familys_error_body(client: TestClient) -> None:
    assert client.get("/api/nothing").json() == {"detail": "Not Found"}
    assert client.get("/api/v1/nothing", auth=ADMIN).json() == {"message": "Not Found"}


def test_nul_bytes_are_bad_input_not_server_errors(multi_client: TestClient) -> None:
    response = multi_client.post("/api/auth/login",
                                 json={"username": "ad\u0000min", "password": "x"})
    assert response.status_code == 422
    basic = multi_client.get("/api/system/mode", auth=("ad\u0000min", "x"))
    assert basic.status_code == 401
    profile = multi_client.put("/api/user/profile", auth=ADMIN,
                               json={"display_name": "a\u0000b"})
    assert profile.status_code == 422
    assert profile.json()["detail"][0]["loc"] == ["body", "display_name"]
    assert "NUL" in profile.json()["detail"][0]["msg"]


def test_every_route_is_served_from_the_app_route_list(app: FastAPI) -> None:
    # An included router is matched through a per-route view, twice per request (issue 4).
    assert all(isinstance(route, (APIRoute, Route, Mount)) for route in app.routes)
    paths = {route.path for route in app.routes if isinstance(route, APIRoute)}
    assert {"/api/samples/{sample_id}", "/api/v1/objects/{object_id}/versions/{version_id}",
            "/api/v2/publications", "/analyze/manual"} <= paths


def test_add_routes_refuses_a_router_that_includes_another() -> None:
    outer, inner = APIRouter(), APIRouter()

    @inner.get("/inner")
    def inner_route() -> dict[str, str]:
        return {}

    outer.include_router(inner)
    with pytest.raises(TypeError, match="nested routers"):
        add_routes(FastAPI(), [outer])
