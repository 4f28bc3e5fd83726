"""The route template of a served scope (``http.route``), found after routing, off the hot path.

Routing writes the matched route into ``scope["route"]`` (the innermost one when mounts nest,
since the scope dict is shared). The template is that route's ``path_format`` behind the
templates of the mounts that lead to it, so this walks the application's routes again, once
per traced request or connection, following the mounts that match the path. Routing itself
is not touched: an app without telemetry pays nothing for templates. The router's low-priority
routes (``app.frontend()``) are searched after its routes, a group of them (the frontends of
one router) member by member.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tether.routing import Mount

__all__ = ["redirect_template", "route_template"]

_DEPTH = 16  # mounts nest a few levels at most; a cycle of apps must not loop forever


def route_template(app: Any, route_path: str, matched: Any, root_path: str = "") -> str | None:
    """The template of ``matched`` reached from ``app``'s routes for ``route_path``, or None.

    ``root_path`` (the scope's, before routing) prefixes the result, as FastAPI's
    ``http.route`` does behind a proxy prefix.
    """
    if matched is None:
        return None
    found = _find(getattr(app, "routes", ()), route_path, matched, _DEPTH)
    if found is None:
        low = getattr(getattr(app, "router", app), "_low_priority_routes", ())
        found = _find(_ungrouped(low), route_path, matched, _DEPTH)
    return None if found is None else root_path + found


def _ungrouped(routes: Iterable[Any]) -> Iterator[Any]:
    # A group of low-priority routes (a router's frontends) lists its members under the same
    # prefix: they are searched as if listed there.
    for route in routes:
        members = None if isinstance(route, Mount) else getattr(route, "routes", None)
        if isinstance(members, list):
            yield from members
        else:
            yield route


def _find(routes: Iterable[Any], path: str, matched: Any, depth: int) -> str | None:
    if depth == 0:
        return None
    for route in routes:
        if route is matched:
            return str(route.path_format)
        if isinstance(route, Mount):
            found = route.path_regex.match(path)
            if found is None:
                continue
            inner = _find(route.routes, "/" + found.group("path"), matched, depth - 1)
            if inner is not None:
                return route.path_format.removesuffix("/{path}") + inner
    return None


def redirect_template(app: Any, route_path: str, root_path: str = "") -> str | None:
    """The template of the route a trailing-slash redirect points to, or None.

    The router answers ``/items/1`` with a redirect to ``/items/1/`` (or back) when only the
    other spelling has a route; FastAPI names the request after that route, and so does this.
    """
    if route_path == "/":
        return None
    other = route_path[:-1] if route_path.endswith("/") else route_path + "/"
    found = _find_path(getattr(app, "routes", ()), other, _DEPTH)
    return None if found is None else root_path + found


def _find_path(routes: Iterable[Any], path: str, depth: int) -> str | None:
    if depth == 0:
        return None
    for route in routes:
        regex = getattr(route, "path_regex", None)
        found = None if regex is None else regex.match(path)
        if found is None:
            continue
        if not isinstance(route, Mount):
            return str(route.path_format)
        inner = _find_path(route.routes, "/" + found.group("path"), depth - 1)
        if inner is not None:
            return route.path_format.removesuffix("/{path}") + inner
    return None
