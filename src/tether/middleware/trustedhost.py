"""TrustedHostMiddleware: refuse requests whose ``Host`` header is not in an allow-list.

Active for HTTP and WebSocket scopes alike (as the peer): a WebSocket handshake with a bad
``Host`` gets a 400 denial response (close 1008 where the server lacks the denial extension).
With ``www_redirect``, a request for ``example.org`` when only ``www.example.org`` is allowed is
redirected there (a 307 denial for WebSockets).
"""

from __future__ import annotations

from collections.abc import Sequence

from tether.datastructures import URL, Headers
from tether.responses import PlainTextResponse, RedirectResponse, Response
from tether.routing.errors import ensure_tracker, send_outcome
from tether.types import ASGIApp, Receive, Scope, Send

__all__ = ["TrustedHostMiddleware"]


class TrustedHostMiddleware:
    """Allow only ``allowed_hosts`` (exact names or ``*.example.org`` wildcards; ``*``: any).

    Raises ``AssertionError`` for a pattern with ``*`` anywhere but at the front.
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] | None = None,
        www_redirect: bool = True,
    ) -> None:
        hosts = list(allowed_hosts) if allowed_hosts is not None else ["*"]
        for pattern in hosts:
            assert "*" not in pattern[1:], "a host wildcard may only lead: '*.example.org'"
            assert not pattern.startswith("*") or pattern == "*" or pattern.startswith("*."), (
                "a host wildcard must look like '*.example.org'"
            )
        self.app = app
        self.allowed_hosts = hosts
        self.allow_any = "*" in hosts
        self.www_redirect = www_redirect

    def _allowed(self, host: str) -> bool:
        for pattern in self.allowed_hosts:
            if host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:])):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "").split(":")[0]
        if self._allowed(host):
            await self.app(scope, receive, send)
            return
        response: Response
        if self.www_redirect and self._allowed("www." + host):
            url = URL(scope=scope)
            response = RedirectResponse(url=str(url.replace(netloc="www." + url.netloc)))
        else:
            response = PlainTextResponse("Invalid host header", status_code=400)
        tracker, send = ensure_tracker(scope, send)
        await send_outcome(response, scope, receive, send, tracker)
