"""Routes that delegate to another app: :class:`Mount` (by path prefix) and :class:`Host`.

Both match HTTP and WebSocket scopes alike. URL building goes through them: a name
``"mount:child"`` (or just ``"child"`` for an unnamed mount) finds the child route and prefixes
its path, keeping the child's protocol so a WebSocket route still yields a ``ws://`` URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tether._routing_paths import (
    Match,
    NoMatchFound,
    compile_path,
    get_route_path,
    literal_prefix,
    replace_params,
)
from tether._routing_routes import BaseRoute, IndexKey, _wrap_middleware
from tether.datastructures import Headers, URLPath
from tether.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from tether.middleware import Middleware

__all__ = ["Host", "Mount"]


def _child_url(routes: Sequence[BaseRoute], name: str, params: dict[str, Any]) -> URLPath | None:
    for route in routes:
        try:
            return route.url_path_for(name, **params)
        except NoMatchFound:
            continue
    return None


class _DelegatingRoute(BaseRoute):
    """What Mount and Host share: a name, an app served whole, URL building through it."""

    name: str | None
    app: ASGIApp
    param_convertors: dict[str, Any]

    def _served(self) -> Any:
        """The app whose ``routes`` URL building searches."""
        return self.app

    @property
    def routes(self) -> list[BaseRoute]:
        """The served app's routes (empty when it is not a router)."""
        return list(getattr(self._served(), "routes", []))

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        url: URLPath | None = None
        if self.name is not None and name == self.name and "path" in path_params:
            url = self._own_url(dict(path_params))
        elif self.name is None or name.startswith(self.name + ":"):
            child_name = name if self.name is None else name[len(self.name) + 1 :]
            url = self._url_through(child_name, dict(path_params))
        if url is None:
            raise NoMatchFound(name, path_params)
        return url

    def _own_url(self, params: dict[str, Any]) -> URLPath | None:
        """The URL of this route itself (``name`` with a ``path``); None: parameters left."""
        raise NotImplementedError()

    def _url_through(self, child_name: str, params: dict[str, Any]) -> URLPath | None:
        """The URL of the served app's route ``child_name``; None: no such route."""
        raise NotImplementedError()

    def _pop_own(self, params: dict[str, Any]) -> dict[str, Any]:
        return {key: params.pop(key) for key in list(params) if key in self.param_convertors}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class Mount(_DelegatingRoute):
    """Serve ``app`` (or a router built from ``routes``) below the path prefix ``path``.

    The child sees ``root_path`` extended by the matched prefix and ``path_params`` merged with
    the prefix's parameters. Raises ``AssertionError`` for a path not starting with ``/`` or
    when neither ``app`` nor ``routes`` is given.
    """

    def __init__(
        self,
        path: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path == "" or path.startswith("/"), "a routed path must start with '/'"
        assert app is not None or routes is not None, "Mount needs either app= or routes="
        self.path = path.rstrip("/")
        if app is not None:
            self._base_app: ASGIApp = app
        else:
            from tether.routing import Router  # routing imports this module

            self._base_app = Router(routes=routes)
        self.app = _wrap_middleware(self._base_app, middleware)
        self.name = name
        self.path_regex, self.path_format, self.param_convertors = compile_path(
            self.path + "/{path:path}"
        )

    def _served(self) -> Any:
        return self._base_app  # the routes are found inside the mount's own middleware

    def index_key(self) -> IndexKey:
        if type(self).matches is not Mount.matches:
            return None
        return literal_prefix(self.path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        route_path = get_route_path(scope)
        found = self.path_regex.match(route_path)
        if found is None:
            return Match.NONE, {}
        params = {
            key: self.param_convertors[key].convert(value)
            for key, value in found.groupdict().items()
        }
        remaining = "/" + params.pop("path")
        matched = route_path[: -len(remaining)]
        path_params = dict(scope.get("path_params", {}))
        path_params.update(params)
        root_path = scope.get("root_path", "")
        return Match.FULL, {
            "path_params": path_params,
            "app_root_path": scope.get("app_root_path", root_path),
            "root_path": root_path + matched,
            "endpoint": self.app,
        }

    def _own_url(self, params: dict[str, Any]) -> URLPath | None:
        params["path"] = str(params["path"]).lstrip("/")
        path, remaining = replace_params(self.path_format, self.param_convertors, params)
        return None if remaining else URLPath(path)

    def _url_through(self, child_name: str, params: dict[str, Any]) -> URLPath | None:
        child_path = params.pop("path", None)
        own = self._pop_own(params)
        prefix, _ = replace_params(self.path_format, self.param_convertors, {**own, "path": ""})
        if child_path is not None:
            params["path"] = child_path
        url = _child_url(self.routes, child_name, params)
        if url is None:
            return None
        return URLPath(prefix.rstrip("/") + str(url), protocol=url.protocol, host=url.host)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mount) and (self.path, self.app) == (other.path, other.app)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(path={self.path!r}, name={self.name or ''!r}, app={self.app!r})"
        )


class Host(_DelegatingRoute):
    """Serve ``app`` for requests whose ``Host`` header (port ignored) fits ``host``.

    Matching is case-insensitive; ``{sub}.example.org`` puts ``sub`` into ``path_params``.
    """

    def __init__(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        assert not host.startswith("/"), "a Host pattern must not start with '/'"
        self.host = host
        self.app = app
        self.name = name
        self.host_regex, self.host_format, self.param_convertors = compile_path(host)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        host = Headers(scope=scope).get("host", "").split(":")[0]
        found = self.host_regex.match(host)
        if found is None:
            return Match.NONE, {}
        path_params = dict(scope.get("path_params", {}))
        for key, value in found.groupdict().items():
            path_params[key] = self.param_convertors[key].convert(value)
        return Match.FULL, {"path_params": path_params, "endpoint": self.app}

    def _own_url(self, params: dict[str, Any]) -> URLPath | None:
        path = str(params.pop("path"))
        host, remaining = replace_params(self.host_format, self.param_convertors, params)
        return None if remaining else URLPath(path, host=host)

    def _url_through(self, child_name: str, params: dict[str, Any]) -> URLPath | None:
        host, _ = replace_params(self.host_format, self.param_convertors, self._pop_own(params))
        url = _child_url(self.routes, child_name, params)
        if url is None:
            return None
        return URLPath(str(url), protocol=url.protocol, host=host)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Host) and (self.host, self.app) == (other.host, other.app)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(host={self.host!r}, name={self.name or ''!r}, app={self.app!r})"
        )
