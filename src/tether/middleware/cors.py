"""CORSMiddleware: Cross-Origin Resource Sharing headers for HTTP, Origin checks for WebSockets.

HTTP behaves as the peer's: preflight ``OPTIONS`` requests are answered here (200 or 400 with
the failures named), and simple responses get ``Access-Control-*`` headers.

WebSocket (divergence 5; the peer lets every origin through): browsers apply no CORS to
WebSocket handshakes, so this middleware checks the handshake's ``Origin`` against the same
``allow_origins`` / ``allow_origin_regex`` with :class:`~tether.middleware.origin.OriginPolicy`
(case-insensitive, as origins are) and refuses a foreign one with a 403 denial response. A
handshake without ``Origin`` (not a browser) passes; two ``Origin`` headers are refused. A page
served by the app itself passes when its host is trusted: a host of ``allow_origins``,
``localhost`` or an IP address, never merely because ``Origin`` matches ``Host`` (DNS rebinding).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from tether.datastructures import Headers, MutableHeaders
from tether.middleware.origin import OriginPolicy, deny_origin
from tether.responses import PlainTextResponse
from tether.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
SAFELISTED_HEADERS = {"accept", "accept-language", "content-language", "content-type"}


class CORSMiddleware:
    """Answer CORS preflights and decorate responses; refuse foreign WebSocket origins."""

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        self.app = app
        self.allow_all_origins = "*" in allow_origins
        self.allow_origins = frozenset(origin.rstrip("/") for origin in allow_origins)
        self.origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        self.allow_methods = ALL_METHODS if "*" in allow_methods else tuple(allow_methods)
        self.allow_all_headers = "*" in allow_headers
        self.allow_headers = sorted(SAFELISTED_HEADERS | {h.lower() for h in allow_headers})
        self.allow_credentials = allow_credentials
        self.expose_headers = list(expose_headers)
        self.max_age = max_age
        self.websocket_policy = OriginPolicy(allow_origins, allow_origin_regex)

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether ``origin`` is in the allow-list or matches the regex."""
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        return self.origin_regex is not None and self.origin_regex.fullmatch(origin) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, headers)(scope, receive, send)
        else:
            await self.app(scope, receive, functools.partial(self._decorate, send, origin))

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.websocket_policy.check(scope):
            await self.app(scope, receive, send)
            return
        await deny_origin(scope, receive, send)

    def _preflight(self, origin: str, request_headers: Headers) -> PlainTextResponse:
        headers = {
            "Access-Control-Allow-Methods": ", ".join(self.allow_methods),
            "Access-Control-Max-Age": str(self.max_age),
            "Vary": "Origin",
        }
        failures = []
        if self.is_allowed_origin(origin):
            headers["Access-Control-Allow-Origin"] = self._origin_value(origin, False)
        else:
            failures.append("origin")
        if request_headers["access-control-request-method"] not in self.allow_methods:
            failures.append("method")
        requested = request_headers.get("access-control-request-headers", "")
        wanted = [h.strip().lower() for h in requested.split(",") if h.strip()]
        if self.allow_all_headers and wanted:
            headers["Access-Control-Allow-Headers"] = requested
        else:
            headers["Access-Control-Allow-Headers"] = ", ".join(self.allow_headers)
            if any(h not in self.allow_headers for h in wanted):
                failures.append("headers")
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        if failures:
            text = "Disallowed CORS " + ", ".join(failures)
            return PlainTextResponse(text, status_code=400, headers=headers)
        return PlainTextResponse("OK", status_code=200, headers=headers)

    def _origin_value(self, origin: str, has_cookie: bool) -> str:
        # "*" cannot be combined with credentials, so echo the origin when they may be sent.
        if self.allow_all_origins and not self.allow_credentials and not has_cookie:
            return "*"
        return origin

    async def _decorate(self, send: Send, origin: str, message: Message) -> None:
        if message["type"] == "http.response.start" and self.is_allowed_origin(origin):
            headers = MutableHeaders(scope=message)
            value = self._origin_value(origin, False)
            headers["Access-Control-Allow-Origin"] = value
            if value != "*":
                headers.add_vary_header("Origin")
            if self.allow_credentials:
                headers["Access-Control-Allow-Credentials"] = "true"
            if self.expose_headers:
                headers["Access-Control-Expose-Headers"] = ", ".join(self.expose_headers)
        await send(message)
