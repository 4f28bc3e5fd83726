"""OriginMiddleware: refuse cross-origin WebSocket handshakes (DESIGN divergence 5).

Browsers send an ``Origin`` header with every WebSocket handshake but, unlike ``fetch``, apply
no CORS check to it: any page can open a socket to your app with the user's cookies
(cross-site WebSocket hijacking). This middleware checks the ``Origin`` of WebSocket scopes
against an allow-list and answers a foreign one with a 403 denial response (close 1008 where
the server lacks the denial extension). HTTP scopes pass through untouched.

A handshake without ``Origin`` (a non-browser client) is allowed unless ``allow_missing`` is
false; a same-origin page (Origin host equal to the ``Host`` header) is allowed unless
``allow_same_origin`` is false. ``Tether(allowed_origins=[...])`` installs it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from tether._routing_errors import ensure_tracker, send_outcome
from tether.datastructures import Headers
from tether.responses import PlainTextResponse
from tether.types import ASGIApp, Receive, Scope, Send

__all__ = ["OriginMiddleware", "normalize_origin"]


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, without a trailing slash."""
    return origin.strip().rstrip("/").lower()


class OriginMiddleware:
    """Allow a WebSocket handshake only from the listed origins; see the module docstring.

    ``allowed_origins`` holds full origins (``"https://example.org"``) or ``"*"`` for any;
    ``allow_origin_regex`` is matched against the whole origin.
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed_origins: Sequence[str] = (),
        allow_origin_regex: str | None = None,
        *,
        allow_same_origin: bool = True,
        allow_missing: bool = True,
    ) -> None:
        self.app = app
        self.allowed = frozenset(normalize_origin(origin) for origin in allowed_origins)
        self.allow_any = "*" in self.allowed
        self.regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        self.allow_same_origin = allow_same_origin
        self.allow_missing = allow_missing

    def is_allowed(self, origin: str | None, host: str | None) -> bool:
        """Whether a handshake with this ``Origin`` (and ``Host``) header may proceed."""
        if origin is None:
            return self.allow_missing
        normalized = normalize_origin(origin)
        if self.allow_any or normalized in self.allowed:
            return True
        if self.regex is not None and self.regex.fullmatch(normalized):
            return True
        if self.allow_same_origin and host:
            return urlsplit(normalized).netloc == host.strip().lower()
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.is_allowed(headers.get("origin"), headers.get("host")):
            await self.app(scope, receive, send)
            return
        tracker, send = ensure_tracker(scope, send)
        response = PlainTextResponse("Origin not allowed", status_code=403)
        await send_outcome(response, scope, receive, send, tracker)
