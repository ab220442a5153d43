"""One worker-thread call per request: deferred dependencies (computed once, before the
body), the endpoint, the end of its unit of work; and the route matching around it."""

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from starlette.routing import Match

from isofind.app import add_routes, install_error_handlers
from isofind.config import Settings
from isofind.db import Database
from isofind.errors import NotFound, Unauthorized
from isofind.identity.dependencies import Db, get_db
from isofind.routing import Route, api_router, on_endpoint_thread

_set_by_dependency: ContextVar[str] = ContextVar("set_by_dependency", default="unset")


def _on_an_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def _serve(router: APIRouter, database_url: str | None = None) -> Iterator[TestClient]:
    """The router's routes in an app with IsoFind's error answers (and a database)."""
    app = FastAPI()
    if database_url is not None:
        app.state.database = Database(database_url)
    add_routes(app, [router])
    install_error_handlers(app)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        if database_url is not None:
            app.state.database.dispose()


def test_a_deferred_dependency_runs_in_the_endpoints_own_worker_thread_call() -> None:
    # A sync dependency runs in a worker-thread call of its own, in a copy of the request's
    # context: what it sets there is gone when the endpoint runs. Here the endpoint sees it.
    @on_endpoint_thread
    def marker() -> int:
        _set_by_dependency.set("set")
        return threading.get_ident()

    router = api_router()

    @router.get("/where")
    def where(dependency_thread: Annotated[int, Depends(marker)]) -> dict[str, object]:
        return {"same_thread": dependency_thread == threading.get_ident(),
                "context": _set_by_dependency.get(),
                "on_an_event_loop": _on_an_event_loop()}

    with _serve(router) as client:
        assert client.get("/where").json() == {
            "same_thread": True, "context": "set", "on_an_event_loop": False}


def test_a_deferred_dependency_is_computed_once_per_request_for_all_its_users() -> None:
    calls: list[str] = []

    @on_endpoint_thread
    def base() -> str:
        calls.append("base")
        return "value"

    @on_endpoint_thread
    def first(value: Annotated[str, Depends(base)]) -> str:
        return value + "-1"

    @on_endpoint_thread
    def second(value: Annotated[str, Depends(base)]) -> str:
        return value + "-2"

    router = api_router()

    @router.get("/both")
    def both(a: Annotated[str, Depends(first)], b: Annotated[str, Depends(second)],
             c: Annotated[str, Depends(base)]) -> list[str]:
        return [a, b, c]

    with _serve(router) as client:
        assert client.get("/both").json() == ["value-1", "value-2", "value"]
        assert calls == ["base"]
        client.get("/both")
        assert calls == ["base", "base"]


def test_a_failing_deferred_dependency_answers_before_the_endpoint_body_runs() -> None:
    ran: list[str] = []

    @on_endpoint_thread
    def refuse() -> None:
        raise Unauthorized("no credentials")

    router = api_router()

    @router.post("/guarded")
    def guarded(_: Annotated[None, Depends(refuse)]) -> dict[str, str]:
        ran.append("body")
        return {}

    with _serve(router) as client:
        response = client.post("/guarded")
    assert (response.status_code, response.json()) == (401, {"detail": "no credentials"})
    assert ran == []


@on_endpoint_thread
def _deferred() -> str:
    return "value"


Deferred = Annotated[str, Depends(_deferred)]


@pytest.mark.parametrize(("taken", "call"), [(Deferred, _deferred), (Db, get_db)])
def test_a_route_that_would_leave_a_value_unused_is_refused(
    taken: Any, call: Callable[..., object],
) -> None:
    # A deferred value never computed (a check skipped), or a session used outside the
    # endpoint's call (never ended when a request does not reach it).
    def plain(value: taken) -> object:
        return value

    async def async_plain(value: taken) -> object:
        return value

    router = api_router()
    refused = r"route {} \({}\): only a sync endpoint's argument .* of " + call.__name__
    with pytest.raises(TypeError, match=refused.format("/unused", "unused")):
        @router.get("/unused", dependencies=[Depends(call)])
        def unused() -> None:
            return None
    with pytest.raises(TypeError, match=refused.format("/through-plain", "through_plain")):
        @router.get("/through-plain")
        def through_plain(value: Annotated[object, Depends(plain)]) -> object:
            return value
    with pytest.raises(TypeError, match=refused.format("/through-async", "through_async")):
        @router.get("/through-async")
        def through_async(value: Annotated[object, Depends(async_plain)]) -> object:
            return value
    with pytest.raises(TypeError, match=refused.format("/async", "async_endpoint")):
        @router.get("/async")
        async def async_endpoint(value: taken) -> object:
            return value


def test_add_routes_refuses_routes_that_would_not_compute_deferred_dependencies() -> None:
    router = APIRouter()

    @router.get("/plain")
    def plain() -> dict[str, str]:
        return {}

    with pytest.raises(TypeError, match=r"isofind\.routing\.api_router"):
        add_routes(FastAPI(), [router])


def test_every_route_of_the_app_computes_deferred_dependencies(app: FastAPI) -> None:
    offline_docs = {"/docs", "/docs/oauth2-redirect", "/redoc"}  # fastapi_offline's own
    routes = [route for route in app.routes
              if isinstance(route, APIRoute) and route.path not in offline_docs]
    assert len(routes) > 250
    assert [route.path for route in routes if not isinstance(route, Route)] == []


def test_the_suite_refuses_sql_run_on_the_event_loop(
    settings_for: Callable[..., Settings],
) -> None:
    # conftest's guard: every route's statements must run on a worker thread.
    database = Database(settings_for().effective_database_url)
    app = FastAPI()

    @app.get("/on-loop")
    async def on_loop() -> int:
        with database.session(write=False) as db:
            return db.execute(text("SELECT 1")).scalar_one()

    @app.get("/on-thread")
    def on_thread() -> int:
        with database.session(write=False) as db:
            return db.execute(text("SELECT 1")).scalar_one()

    with TestClient(app) as client:
        assert client.get("/on-thread").json() == 1
        with pytest.raises(AssertionError, match="SQL on the event loop"):
            client.get("/on-loop")
    database.dispose()


_set_by_endpoint: ContextVar[str] = ContextVar("set_by_endpoint", default="unset")


@pytest.mark.parametrize(("fails", "ending", "answer"), [
    (False, "after_commit", (200, {"one": 1})),
    (True, "after_rollback", (404, {"detail": "nothing here"})),
])
def test_the_request_ends_in_the_endpoints_worker_thread_call(
    settings_for: Callable[..., Settings], fails: bool, ending: str,
    answer: tuple[int, object],
) -> None:
    # Seen from the commit or rollback, a value the endpoint set in its context: same call.
    seen_at_end: list[str] = []
    router = api_router()

    @router.post("/write")
    def write(db: Db) -> dict[str, int]:
        event.listen(db, ending, lambda _session: seen_at_end.append(_set_by_endpoint.get()))
        _set_by_endpoint.set("set by the endpoint")
        one = db.execute(text("SELECT 1")).scalar_one()
        if fails:
            raise NotFound("nothing here")
        return {"one": one}

    with _serve(router, settings_for().effective_database_url) as client:
        response = client.post("/write")
    assert (response.status_code, response.json()) == answer
    assert seen_at_end == ["set by the endpoint"]


def test_a_route_matches_as_its_path_expression_says() -> None:
    router = api_router()

    @router.get("/items/{item_id}")
    def item(item_id: int) -> int:
        return item_id

    (route,) = router.routes
    assert isinstance(route, Route)

    def match(path: str, method: str = "GET", root_path: str = "") -> Match:
        scope = {"type": "http", "path": path, "method": method, "root_path": root_path}
        return route.matches(scope)[0]

    assert match("/items/3") is Match.FULL
    assert match("/base/items/3", root_path="/base") is Match.FULL
    assert match("/items/3", method="POST") is Match.PARTIAL
    assert match("/items") is Match.NONE
    assert match("/item/3") is Match.NONE
    assert match("/other/items/3") is Match.NONE
    with _serve(router) as client:
        assert client.get("/items/3").json() == 3
        assert client.post("/items/3").status_code == 405
        assert client.get("/items/x").status_code == 422
