"""Who counts as one client, and which routes authenticate: policies of :mod:`tether.limits`.

Kept apart from the enforcement so both the middleware and the direct path's inline limits
(:mod:`tether.runtime.limits_inline`) read the same answers.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tether.security.base import SecurityBase
from tether.types import Scope

__all__ = [
    "CLIENT_SPEAKS_FIRST",
    "authenticates",
    "client_speaks_first",
    "first_message_timeout",
    "remote_client_host",
]

_ATTR = "_tether_authenticates"

CLIENT_SPEAKS_FIRST = "_tether_client_speaks_first"
"""Set to True on an endpoint (function, method or class) whose protocol greets the client
first (tether's channels, Centrifuge): only a frame from the client meets its first-message
deadline. On every other route a data frame in either direction does (see
:func:`client_speaks_first`)."""


_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def remote_client_host(scope: Scope) -> str | None:
    """The client key of :meth:`WebSocketLimits.recommended`: the peer address, None on loopback.

    Loopback peers are not counted per client: behind a reverse proxy on the same machine
    that does not pass the client's address on, every visitor would share ``127.0.0.1`` and
    the per-client cap would become a cap on the whole site. Load generators and tests on
    the same machine are not capped either. Other peers are keyed as :func:`client_host`.
    """
    client = scope.get("client")
    if not client:
        return "unknown"
    host = str(client[0])
    if host in _LOOPBACK or host.startswith("127."):
        return None
    return host


def authenticates(route: Any) -> bool:
    """Whether ``route`` authenticates at the handshake: a ``tether.security`` scheme is among
    the dependencies of its endpoint. Found once per route, then remembered."""
    if route is None:
        return False
    known = getattr(route, _ATTR, None)
    if known is not None:
        return bool(known)
    plan = getattr(route, "plan", None)
    calls = plan.dependency_calls() if plan is not None else ()
    found = any(isinstance(call, SecurityBase) for call in calls)
    with contextlib.suppress(AttributeError):  # a slotted route: found again next time
        setattr(route, _ATTR, found)
    return found


def first_message_timeout(limits: Any, route: Any) -> float | None:
    """The first-message timeout of a connection to ``route`` under ``limits`` (a
    ``WebSocketLimits``; not imported here, as that module imports this one)."""
    timeout: float | None = limits.first_message_timeout
    if timeout is not None and limits.authenticated_exempt and authenticates(route):
        return None
    return timeout


def client_speaks_first(route: Any) -> bool:
    """Whether only the client's frames end the first-message wait on ``route``.

    The deadline is there for sockets opened and left silent to hold a slot. On a plain route
    a frame the application sends counts too: a push-only feed (a dashboard, a clock) or a chat
    endpoint broadcasting to a reader who never types is a connection the app is using. A
    protocol endpoint that greets every client (``connected``) marks itself with
    :data:`CLIENT_SPEAKS_FIRST`, so its greeting does not count.
    """
    endpoint = getattr(route, "endpoint", None)
    return bool(getattr(endpoint, CLIENT_SPEAKS_FIRST, False))
