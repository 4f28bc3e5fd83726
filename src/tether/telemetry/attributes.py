"""URL and server attributes of a server span (OpenTelemetry's HTTP semantic conventions).

Only spans carry them: metrics keep to the low-cardinality attributes (method, scheme, route,
status), so a path or a host never splits a histogram.

- ``url.scheme``, ``url.path``; ``url.query`` for HTTP (not WebSocket: browsers cannot set
  headers on a WebSocket, so its query string is where tokens and session ids travel),
  re-encoded from its parsed pairs with every secret value replaced by ``REDACTED``: the names
  the conventions list and tether's own list (:data:`tether.runtime.logsafe.SECRET_PARAMS`),
  compared without regard to case.
- ``server.address`` / ``server.port``: the ``Host`` header's authority (the scheme's default
  port when it has none), else the ASGI ``server`` pair; nothing for an authority that is not
  one (a path, user info, a bad port).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tether.runtime.logsafe import SECRET_PARAMS
from tether.types import Scope

__all__ = ["server_attributes", "url_attributes"]

REDACTED = "REDACTED"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def url_attributes(scope: Scope) -> dict[str, Any]:
    """``url.*`` and ``server.*`` attributes of ``scope``'s server span."""
    websocket = scope["type"] == "websocket"
    scheme = scope.get("scheme") or ("ws" if websocket else "http")
    attributes: dict[str, Any] = {"url.scheme": scheme, "url.path": scope.get("path", "/")}
    query = scope.get("query_string", b"")
    if query and not websocket:
        attributes["url.query"] = masked_query(query)
    attributes.update(server_attributes(scope, scheme))
    return attributes


def masked_query(query: bytes) -> str:
    """The query string's pairs, re-encoded, secret values replaced (blank ones too)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode(
        [
            (name, REDACTED if name.strip().lower() in SECRET_PARAMS else value)
            for name, value in pairs
        ]
    )


def server_attributes(scope: Scope, scheme: str) -> dict[str, Any]:
    """``server.address`` and ``server.port`` from ``Host``, else from the ASGI ``server``."""
    authority = None
    for name, value in scope.get("headers") or ():
        if name == b"host":
            authority = value.decode("latin-1")
            break
    if authority is None:
        address, port = scope.get("server") or (None, None)
    else:
        try:
            parts = urlsplit("//" + authority)
            address, port = parts.hostname, parts.port
        except ValueError:  # "[bad", "host:99999", "host:port"
            return {}
        if parts.username is not None or parts.path or parts.query or parts.fragment:
            return {}
        if port is None:
            port = _DEFAULT_PORTS.get(scheme)
    if not address:
        return {}
    attributes: dict[str, Any] = {"server.address": address}
    if port is not None:
        attributes["server.port"] = port
    return attributes
