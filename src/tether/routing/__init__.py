"""Routing: match a scope to a route, build URLs from route names (Starlette's ``routing``).

The public face of the routing subsystem. Its modules, lowest first:
:mod:`.paths` (path templates, ``Match``), :mod:`.errors` (running endpoints and denials),
:mod:`.routes` (``Route``, ``WebSocketRoute``), :mod:`.index` (route lookup without a scan),
:mod:`.mounts` (``Host`` and the delegating base) and :mod:`.router` (``Router``, ``Mount``).

Owns: matching scopes and building URLs. Knows nothing of dependency injection. May import:
types, status, exceptions, datastructures, requests, websockets, responses, convertors,
concurrency.
"""

from __future__ import annotations

from tether.routing.router import (
    BaseRoute,
    Convertor,
    Host,
    Match,
    Mount,
    NoMatchFound,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
    get_name,
    get_route_path,
    register_url_convertor,
    replace_params,
    request_response,
    websocket_session,
)

__all__ = [
    "BaseRoute",
    "Convertor",
    "Host",
    "Match",
    "Mount",
    "NoMatchFound",
    "Route",
    "Router",
    "WebSocketRoute",
    "compile_path",
    "get_name",
    "get_route_path",
    "register_url_convertor",
    "replace_params",
    "request_response",
    "websocket_session",
]

_PING_INTERVAL: float = 15.0
"""Seconds of silence before a generator endpoint's event stream sends a keep-alive comment.

Read per stream by the application layer from this face; private but patchable, as ``fastapi.routing._PING_INTERVAL``
is in the peer's tests."""
