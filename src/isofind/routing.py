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

The same worker-thread call then finishes the request's unit of work
(:func:`finishing_on_endpoint_thread`), and FastAPI validates and serializes the result on the
event loop: a write's commit and the response's validation were worker-thread calls of their
own. A PUT of a permission made three; it now makes one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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

_DEFERRED_MARK = "__isofind_on_endpoint_thread__"


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

    setattr(defer, _DEFERRED_MARK, True)
    return defer


def _is_deferred(call: Callable[..., Any] | None) -> bool:
    return getattr(call, _DEFERRED_MARK, False)


Finish = Callable[[BaseException | None], None]
_finish: ContextVar[Finish | None] = ContextVar("isofind_finish", default=None)


@contextmanager
def finishing_on_endpoint_thread(finish: Finish) -> Iterator[None]:
    """Within this block (a request's dependency), a sync endpoint calls ``finish`` on its own
    thread when it has returned (with None) or raised (with the error), before its result is
    validated and serialized or its error answered.

    What the result holds must then be loaded already: the request's session is ended.
    """
    token = _finish.set(finish)
    try:
        yield
    finally:
        _finish.reset(token)


def _in_one_worker_thread_call(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` with its deferred arguments computed first and the request finished
    after, all in one worker-thread call; async to FastAPI, which then needs no other."""

    def run_and_finish(arguments: dict[str, Any]) -> Any:
        finish = _finish.get()
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
        return await run_in_threadpool(run_and_finish, arguments)

    return run


class Route(APIRoute):
    """Every IsoFind route: a sync endpoint runs in one worker-thread call with its deferred
    dependencies and the end of its unit of work (see the module)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        is_async = inspect.iscoroutinefunction(endpoint)
        super().__init__(path, endpoint if is_async else _in_one_worker_thread_call(endpoint),
                         **kwargs)
        _refuse_unresolved_deferred(self.dependant, f"{path} ({endpoint.__name__})",
                                    endpoint_resolves=not is_async)
        self._literal_prefix = path.partition("{")[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # FastAPI tries the routes in order, each with its regular expression: 0.84 µs a route,
        # 0.19 ms before a sample route was reached. A path without the route's literal
        # beginning cannot match its expression, which begins with it; the path is Starlette's
        # own (root_path removed), so both agree.
        if scope["type"] == "http" and not get_route_path(scope).startswith(self._literal_prefix):
            return Match.NONE, {}
        return super().matches(scope)


def _refuse_unresolved_deferred(dependant: Dependant, route: str, *,
                                endpoint_resolves: bool) -> None:
    """A deferred value that would reach neither the endpoint nor another deferred dependency
    would never be computed: a check skipped. Refused when the route is declared."""
    for needed in dependant.dependencies:
        taken_as_argument = endpoint_resolves and needed.name is not None
        if _is_deferred(needed.call) and not (taken_as_argument or _is_deferred(dependant.call)):
            raise TypeError(f"route {route}: {getattr(needed.call, '__name__', needed.call)} "
                            f"is computed on the endpoint's thread, so only a sync endpoint's "
                            f"argument or another such dependency may take its value")
        _refuse_unresolved_deferred(needed, route, endpoint_resolves=False)


def api_router(**kwargs: Any) -> APIRouter:
    """An IsoFind router: its routes are :class:`Route`."""
    return APIRouter(route_class=Route, **kwargs)
