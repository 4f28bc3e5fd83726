"""``frontend()``: serve a built frontend (a Vite ``dist/``...) below every other route.

``app.frontend("/", directory="dist")`` and ``router.frontend(...)`` (FastAPI 0.165's API) add
a :class:`FrontendRoute` to the router's low-priority routes (see :mod:`tether.routing.router`):
it is tried only when no path operation, WebSocket route or mount matched and no slash redirect
applies. Among the frontends of one router the longest path prefix wins, whatever the order they
were declared in; the prefix matches whole segments (``/app`` serves ``/app/x``, not
``/application``).

What a request gets (:class:`FrontendFiles`, a :class:`~tether.staticfiles.StaticFiles`, so the
``ETag`` / ``Last-Modified`` / 304 handling is the same):

* a file, or a directory's ``index.html`` (``/about`` redirects to ``/about/`` first), for
  ``GET`` and ``HEAD``; another method gets 405 there, and 404 where only a fallback would answer;
* for a missing file, per ``fallback``: ``"404.html"`` serves that file with status 404;
  ``"index.html"`` serves the app shell with 200, but only to a navigation (an ``Accept`` that
  names ``text/html`` or ``application/xhtml+xml`` with a non-zero quality), so a missing
  script stays a 404; ``"auto"`` (the default) is ``404.html`` when the directory has one, else
  ``index.html`` when it has that; ``None`` is a plain 404 (``HTTPException``);
* a path leaving the directory (``..``, a symlink pointing out) is not found.

The route runs the router's dependencies (application's, ``include_router``'s, router's, in
that order, with ``dependency_overrides``) through an :class:`~tether.applications.APIRoute`
that is never listed, so the OpenAPI document does not show it; headers and cookies a
dependency sets on its ``Response`` are copied onto the file's response, and its background
tasks run after it. Under telemetry the request's server span has the route template
``<prefix>/{path}``, and no operation spans (serving a file is not a path operation).

``check_dir``: ``True`` raises ``RuntimeError`` now when the directory (or an explicit fallback
file in it) is missing; ``False`` waits for the first request; ``"auto"`` is ``True`` unless
``FASTAPI_ENV`` (or ``TETHER_ENV``) is ``development``, where a missing directory is a
``UserWarning`` pointing at the caller's line.

``include_router`` copies frontends as it copies routes: with the include's prefix and
dependencies applied, into the including router's low-priority routes.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

from tether.datastructures import URL
from tether.dependencies.solver import OBSERVER_KEY
from tether.exceptions import HTTPException
from tether.requests import Request
from tether.responses import RedirectResponse, Response
from tether.routing import BaseRoute, Match, NoMatchFound, get_route_path
from tether.staticfiles import PathLike, StaticFiles
from tether.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "Fallback",
    "FrontendFiles",
    "FrontendRoute",
    "FrontendRoutes",
    "accepts_page",
    "add_frontend",
    "include_frontends",
]

Fallback = Literal["auto", "index.html", "404.html"] | None
"""What a missing file gets: see the module docstring."""

_FALLBACKS: Final = ("auto", "index.html", "404.html", None)
_PAGE_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
_PATH_KEY: Final = "tether.frontend_path"
_ROUTE_KEY: Final = "tether.frontend_route"
_PACKAGE: Final = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

_Resource = tuple[str, os.stat_result, bool]  # (full path, stat, is a directory's index)


def accepts_page(accept: str) -> bool:
    """Whether an ``Accept`` header asks for an HTML page (a browser navigation).

    Only ``text/html`` and ``application/xhtml+xml`` count, with a quality above zero; a
    wildcard does not, and an unreadable ``q`` counts as 1 (RFC 9110 section 12.5.1).
    """
    for item in accept.split(","):
        media_type, *params = item.split(";")
        if media_type.strip().lower() in _PAGE_TYPES and _quality(params) > 0:
            return True
    return False


def _quality(params: Sequence[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 1.0
    return 1.0


def _missing(what: str, directory: PathLike) -> RuntimeError:
    absolute = os.path.realpath(os.fspath(directory))
    return RuntimeError(f"{what} does not exist (resolved to {absolute!r})")


class FrontendFiles(StaticFiles):
    """The files of one frontend build, with its fallback rule.

    Raises:
        RuntimeError: (with ``check_dir``, now; else on the first request) ``directory`` does
            not exist, or an explicit fallback file is not in it.
    """

    def __init__(self, *, directory: PathLike, fallback: Fallback, check_dir: bool) -> None:
        if check_dir and not os.path.isdir(directory):
            raise _missing(f"Frontend directory '{os.fspath(directory)}'", directory)
        super().__init__(directory=directory, html=True, check_dir=False, follow_symlink=False)
        self.fallback = fallback
        if check_dir and fallback in ("index.html", "404.html"):
            _, found = self.lookup_path(str(fallback))
            if found is None or not stat.S_ISREG(found.st_mode):
                raise self._missing_fallback(str(fallback))

    def _missing_fallback(self, name: str) -> RuntimeError:
        assert self.directory is not None
        where = f"directory '{os.fspath(self.directory)}'"
        return _missing(f"Frontend fallback file '{name}' in {where}", self.directory)

    def get_path(self, scope: Scope) -> str:
        """The requested path below the frontend's prefix, normalised for the file system."""
        relative: str = scope.get(_PATH_KEY, "")
        return os.path.normpath(os.path.join(*relative.split("/")))

    async def respond(self, scope: Scope) -> Response:
        """The response for the request ``scope`` (see the module docstring)."""
        if not self.config_checked:
            await self.check_config()
            self.config_checked = True
        return await self.get_response(self.get_path(scope), scope)

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file, its directory's index, a redirect, 304, the fallback or ``HTTPException``."""
        resource = await self._resource(path)
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405 if resource is not None else 404)
        if resource is None:
            return await self._fallback_response(scope)
        full_path, stat_result, is_index = resource
        if is_index and not scope["path"].endswith("/"):
            url = URL(scope=scope)
            return RedirectResponse(url=str(url.replace(path=url.path + "/")))
        return self.file_response(full_path, stat_result, scope)

    async def _resource(self, path: str) -> _Resource | None:
        full_path, found = await self._lookup(path)
        if found is not None and stat.S_ISREG(found.st_mode):
            return full_path, found, False
        if found is not None and stat.S_ISDIR(found.st_mode):
            full_path, found = await self._lookup(os.path.join(path, "index.html"))
            if found is not None and stat.S_ISREG(found.st_mode):
                return full_path, found, True
        return None

    async def _fallback_response(self, scope: Scope) -> Response:
        fallback = self.fallback
        if fallback == "auto":
            if await self._is_file("404.html"):
                fallback = "404.html"
            elif await self._is_file("index.html"):
                fallback = "index.html"
        if fallback == "404.html":
            return await self._serve_fallback("404.html", scope, 404)
        if fallback == "index.html" and accepts_page(_accept(scope)):
            return await self._serve_fallback("index.html", scope, 200)
        raise HTTPException(404)

    async def _is_file(self, name: str) -> bool:
        _, found = await self._lookup(name)
        return found is not None and stat.S_ISREG(found.st_mode)

    async def _serve_fallback(self, name: str, scope: Scope, status_code: int) -> Response:
        full_path, found = await self._lookup(name)
        if found is None or not stat.S_ISREG(found.st_mode):
            raise self._missing_fallback(name)
        return self.file_response(full_path, found, scope, status_code=status_code)

    async def _lookup(self, path: str) -> tuple[str, os.stat_result | None]:
        try:
            return await super()._lookup(path)
        except ValueError:  # a path the OS cannot name (an embedded NUL): not a file here
            raise HTTPException(404) from None


def _accept(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return str(value.decode("latin-1"))
    return ""


def _frontend_endpoint(files: FrontendFiles) -> Callable[..., Any]:
    async def serve_frontend(request: Request, response: Response) -> Response:
        served = await files.respond(request.scope)
        served.raw_headers.extend(response.raw_headers)  # a dependency's headers and cookies
        return served

    return serve_frontend


class FrontendRoute(BaseRoute):
    """One frontend: its path prefix, its files (``app``) and the dependencies it runs.

    ``route_class`` (an :class:`~tether.applications.APIRoute`) runs the dependencies and the
    application's exception handlers around the file lookup.
    """

    def __init__(
        self,
        path: str,
        files: FrontendFiles,
        *,
        dependencies: Sequence[Any],
        route_class: Callable[..., BaseRoute],
    ) -> None:
        self.path = path
        self.path_format = path.rstrip("/") + "/{path}"  # the template telemetry reports
        self.app = files
        self.dependencies = list(dependencies)
        self.route_class = route_class
        self.operation = route_class(
            path, _frontend_endpoint(files), dependencies=self.dependencies, include_in_schema=False
        )
        self._operation_app: ASGIApp = self.operation.app  # type: ignore[attr-defined]

    def relative_path(self, route_path: str) -> str | None:
        """The part of ``route_path`` below this frontend's prefix; None when outside it."""
        prefix = self.path
        if prefix == "/":
            return route_path[1:]
        if route_path == prefix:
            return ""
        if route_path.startswith(prefix) and route_path[len(prefix)] == "/":
            return route_path[len(prefix) + 1 :]
        return None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        relative = self.relative_path(get_route_path(scope))
        if relative is None:
            return Match.NONE, {}
        return Match.FULL, {_PATH_KEY: relative, _ROUTE_KEY: self}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # a frontend has no name to build a URL from

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        observer = scope.get(OBSERVER_KEY)
        if observer is None:
            await self._operation_app(scope, receive, send)
            return
        # Serving a file is not a path operation: the server span is all telemetry reports
        # (with the template "<prefix>/{path}"), as in FastAPI; no operation spans.
        scope[OBSERVER_KEY] = None
        try:
            await self._operation_app(scope, receive, send)
        finally:
            scope[OBSERVER_KEY] = observer

    def included(self, prefix: str, dependencies: Sequence[Any]) -> FrontendRoute:
        """This frontend below ``prefix``, with ``dependencies`` run before its own."""
        return FrontendRoute(
            _join(prefix, self.path),
            self.app,
            dependencies=[*dependencies, *self.dependencies],
            route_class=self.route_class,
        )

    def __repr__(self) -> str:
        return f"FrontendRoute(path={self.path!r}, directory={self.app.directory!r})"


class FrontendRoutes(BaseRoute):
    """A router's frontends as one low-priority route: the longest matching prefix serves."""

    def __init__(self) -> None:
        self.routes: list[FrontendRoute] = []

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        best: tuple[Match, Scope] = (Match.NONE, {})
        longest = -1
        for route in self.routes:
            match, child_scope = route.matches(scope)
            # "/" is the shortest prefix of all; a longer one is more specific.
            length = 0 if route.path == "/" else len(route.path)
            if match is Match.FULL and length > longest:
                best, longest = (match, child_scope), length
        return best

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope.get(_ROUTE_KEY)
        if route is None:  # called without matching first
            match, child_scope = self.matches(scope)
            if match is Match.NONE:
                raise HTTPException(404)
            scope.update(child_scope)
            route = child_scope[_ROUTE_KEY]
        scope["route"] = route  # the frontend chosen, not the group
        await route.handle(scope, receive, send)


def _normalise(path: str) -> str:
    assert path, "a frontend path cannot be empty: use '/' for the site's root"
    assert path.startswith("/"), f"a frontend path must start with '/', got {path!r}"
    return path if path == "/" else path.rstrip("/") or "/"


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix if path == "/" else prefix + path


def _in_development() -> bool:
    return "development" in (os.environ.get("FASTAPI_ENV"), os.environ.get("TETHER_ENV"))


def _caller_stacklevel() -> int:
    # The first frame outside tether: the user's line that called frontend().
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def _resolve_check_dir(directory: PathLike, check_dir: bool | Literal["auto"]) -> bool:
    if check_dir != "auto":
        return bool(check_dir)
    if not _in_development():
        return True
    if not os.path.isdir(directory):
        message = str(_missing(f"Frontend directory '{os.fspath(directory)}'", directory))
        warnings.warn(f"{message}; it is served once it exists", stacklevel=_caller_stacklevel())
    return False


def _group(router: Any) -> FrontendRoutes:
    group: FrontendRoutes | None = getattr(router, "_frontend_routes", None)
    if group is None:
        group = router._frontend_routes = FrontendRoutes()
        router._low_priority_routes.append(group)
    return group


def add_frontend(
    router: Any,
    path: str,
    *,
    directory: PathLike,
    fallback: Fallback,
    check_dir: bool | Literal["auto"],
    route_class: Callable[..., BaseRoute],
) -> FrontendRoute:
    """Add a frontend to ``router`` (a :class:`tether.Router`) below its prefix.

    Raises ``AssertionError`` for a bad ``path`` or ``fallback``, ``RuntimeError`` for a
    missing directory or fallback file when checked (see the module docstring).
    """
    assert fallback in _FALLBACKS, (
        f"fallback must be 'auto', 'index.html', '404.html' or None, got {fallback!r}"
    )
    normalised = _normalise(path)
    checked = _resolve_check_dir(directory, check_dir)
    files = FrontendFiles(directory=directory, fallback=fallback, check_dir=checked)
    route = FrontendRoute(
        _join(router.prefix, normalised),
        files,
        dependencies=router.dependencies,
        route_class=route_class,
    )
    _group(router).routes.append(route)
    return route


def include_frontends(
    target: Any, group: FrontendRoutes, prefix: str, dependencies: Sequence[Any]
) -> None:
    """Copy ``group``'s frontends into ``target`` below ``prefix`` (``include_router``)."""
    for route in group.routes:
        _group(target).routes.append(route.included(prefix, dependencies))
