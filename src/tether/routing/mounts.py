"""Routes that delegate to another app: the shared base of ``Mount`` and :class:`Host`.

:class:`~tether.routing.router.Mount` lives beside the ``Router`` it builds for ``routes=``
(and that ``Router.mount`` builds in turn): keeping the two in one module is what keeps the
routing package free of import circles.

Both match HTTP and WebSocket scopes alike. URL building goes through them: a name
``"mount:child"`` (or just ``"child"`` for an unnamed mount) finds the child route and prefixes
its path, keeping the child's protocol so a WebSocket route still yields a ``ws://`` URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tether.datastructures import Headers, URLPath
from tether.routing.paths import (
    Match,
    NoMatchFound,
    compile_path,
    replace_params,
)
from tether.routing.routes import BaseRoute
from tether.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    pass

__all__ = ["DelegatingRoute", "Host", "child_url"]


def child_url(routes: Sequence[BaseRoute], name: str, params: dict[str, Any]) -> URLPath | None:
    """The URL of the first of ``routes`` that can build ``name`` from ``params``, else None."""
    for route in routes:
        try:
            return route.url_path_for(name, **params)
        except NoMatchFound:
            continue
    return None


class DelegatingRoute(BaseRoute):
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


class Host(DelegatingRoute):
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
        url = child_url(self.routes, child_name, params)
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
