"""API keys in a query parameter, a header or a cookie (OpenAPI ``apiKey`` schemes).

Each returns the key, or refuses with ``HTTPException(401, "Not authenticated")`` and
``WWW-Authenticate: APIKey`` when it is missing or empty (``None`` with ``auto_error=False``).
"""

from __future__ import annotations

from tether.requests import HTTPConnection
from tether.security.base import SecurityBase, scheme_model

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]


class APIKeyBase(SecurityBase):
    """Shared by the three API key schemes: ``name`` is where the key is read."""

    challenge = "APIKey"
    location = "header"

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        model = scheme_model("apiKey", description, name=name, **{"in": self.location})
        self._setup(model, scheme_name, auto_error)
        self.name = name

    def check_api_key(self, api_key: str | None) -> str | None:
        """Return ``api_key``; refuse (or return ``None``) when it is missing or empty."""
        if not api_key:
            self._missing()
            return None
        return api_key


class APIKeyQuery(APIKeyBase):
    """An API key in query parameter ``name``: the browser-friendly choice for WebSockets.

    Query strings end up in access logs: prefer short-lived tokens.
    """

    location = "query"

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.query_params.get(self.name))


class APIKeyHeader(APIKeyBase):
    """An API key in header ``name`` (matched without regard to case)."""

    location = "header"

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.headers.get(self.name))


class APIKeyCookie(APIKeyBase):
    """An API key in cookie ``name``.

    Browsers send cookies on cross-site WebSocket handshakes too: pair this with an Origin check.
    """

    location = "cookie"

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.cookies.get(self.name))
