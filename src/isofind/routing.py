"""Routes that make one worker-thread call per request: credentials, endpoint and commit.

FastAPI runs every sync dependency on a worker thread of its own, then the sync endpoint on
another. A round trip to a worker thread cost ~0.25 ms on this machine (in process, bare
FastAPI: 40 µs for an async endpoint, 300 µs for a sync one), more than reading an object
version; the caller's credentials, checked on a thread of their own, doubled that (issue 3).

A dependency marked :func:`on_endpoint_thread` is an async one that does no work: it hands
FastAPI a :class:`Deferred`, which :class:`Route` computes on the endpoint's thread before the
endpoint's body runs. It still runs before the endpoint, and before any of its arguments are
used: every route that declares one authenticates first. What changes is that the request's
parameters are validated before it, so a malformed request answers 422 without credentials.

The same worker-thread call then ends the request's unit of work (:func:`unit_of_work`), and
FastAPI validates and serializes the result on the event loop: a write's commit and the
response's validation were worker-thread calls of their own. A PUT of a permission made
three; it now makes one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any, Generic, ParamSpec, TypeVar

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import Scope

T = TypeVar("T")
P = ParamSpec("P")

# What a dependency is to Route, set on it: "deferred" (on_endpoint_thread) or "unit of work".
_ROLE = "__isofind_role__"


class Deferred(Generic[T]):
    """A dependency's value, computed once, on the thread that asks for it first."""

    __slots__ = ("_compute", "_computed", "_value")

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute = compute
        self._computed = False
        self._value: Any = None

    def value(self) -> T:
        if not self._computed:
            self._value = self._compute()
            self._computed = True
        return self._value  # type: ignore[no-any-return]


def _resolved(argument: object) -> object:
    return argument.value() if isinstance(argument, Deferred) else argument


def on_endpoint_thread(dependency: Callable[P, T]) -> Callable[P, Any]:
    """Compute the sync ``dependency`` on its endpoint's worker thread (see the module).

    Its arguments may be values of other such dependencies: they are computed first. FastAPI
    reads the signature of ``dependency`` itself (through ``__wrapped__``).
    """

    @wraps(dependency)
    async def defer(*args: P.args, **kwargs: P.kwargs) -> Deferred[T]:
        return Deferred(lambda: dependency(*[_resolved(a) for a in args],  # type: ignore[arg-type]
                                           **{k: _resolved(v) for k, v in kwargs.items()}))

    setattr(defer, _ROLE, "deferred")
    return defer


def _role(call: Callable[..., Any] | None) -> str | None:
    return getattr(call, _ROLE, None)


Finish = Callable[[BaseException | None], None]
_finish: ContextVar[Finish | None] = ContextVar("isofind_finish", default=None)


def unit_of_work(dependency: Callable[P, T]) -> Callable[P, T]:
    """Mark an async dependency whose value the route ends: it calls :func:`end_with` with
    the ending, which the endpoint's worker-thread call runs once the endpoint has returned
    (with None) or raised (with the error), before its result is validated and serialized.

    Only a sync endpoint, or a dependency computed in its call, may take the value: the value
    is used in that call only, so nothing else is left to end when a request never reaches it
    (a 422). What the result holds must be loaded by then.
    """
    setattr(dependency, _ROLE, "unit of work")
    return dependency


def end_with(finish: Finish) -> None:
    """The ending of this request's unit of work (see :func:`unit_of_work`)."""
    _finish.set(finish)


def _in_one_worker_thread_call(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` with its deferred arguments computed first and the request finished
    after, all in one worker-thread call; async to FastAPI, which then needs no other."""

    def run_and_finish(arguments: dict[str, Any], finish: Finish | None) -> Any:
        try:
            result = endpoint(**{name: _resolved(value) for name, value in arguments.items()})
        except BaseException as error:
            if finish is not None:
                finish(error)
            raise
        if finish is not None:
            finish(None)
        return result

    @wraps(endpoint)
    async def run(**arguments: Any) -> Any:
        finish = _finish.get()
        _finish.set(None)  # this request's own: not for a later one in the same task
        return await run_in_threadpool(run_and_finish, arguments, finish)

    return run


class Route(APIRoute):
    """Every IsoFind route: a sync endpoint runs in one worker-thread call with its deferred
    dependencies and the end of its unit of work (see the module)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        is_async = inspect.iscoroutinefunction(endpoint)
        super().__init__(path, endpoint if is_async else _in_one_worker_thread_call(endpoint),
                         **kwargs)
        _refuse_values_left_unused(self.dependant, f"{path} ({endpoint.__name__})",
                                   endpoint_takes=not is_async)
        self._literal_prefix = path.partition("{")[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # FastAPI tries the routes in order, each with its regular expression: 0.84 µs a route,
        # 0.19 ms before a sample route was reached. A path without the route's literal
        # beginning cannot match its expression, which begins with it; the path is Starlette's
        # own (root_path removed), so both agree.
        if scope["type"] == "http" and not get_route_path(scope).startswith(self._literal_prefix):
            return Match.NONE, {}
        return super().matches(scope)


def _refuse_values_left_unused(dependant: Dependant, route: str, *,
                               endpoint_takes: bool) -> None:
    """A deferred value must reach the endpoint's call, or it is never computed (a check
    skipped); a unit of work must be used only there, or it may never be ended. Either must be
    a sync endpoint's argument or a deferred dependency's. Refused when the route is
    declared."""
    for needed in dependant.dependencies:
        taken_in_the_call = ((endpoint_takes and needed.name is not None)
                             or _role(dependant.call) == "deferred")
        if _role(needed.call) is not None and not taken_in_the_call:
            raise TypeError(f"route {route}: only a sync endpoint's argument or a dependency "
                            f"computed on its thread may take the value of "
                            f"{getattr(needed.call, '__name__', needed.call)}")
        _refuse_values_left_unused(needed, route, endpoint_takes=False)


def api_router(**kwargs: Any) -> APIRouter:
    """An IsoFind router: its routes are :class:`Route`."""
    return APIRouter(route_class=Route, **kwargs)
