"""Security dependencies that work on HTTP and WebSocket routes alike.

Every scheme here is a callable taking an :class:`~tether.requests.HTTPConnection`, so one
instance protects an HTTP route and a WebSocket route (the peer's classes take a ``Request``
and fail on WebSockets). Use them with ``Depends(scheme)`` or ``Security(scheme, scopes=[...])``.

When credentials are missing or malformed, a scheme raises ``HTTPException(401)`` with a
``WWW-Authenticate`` header (RFC 9110 section 11.6.1). On a WebSocket route the dependency runs
before ``accept()``, so the client sees a real HTTP 401 denial response (where the server
supports the denial extension) rather than a bare 403. With ``auto_error=False`` the scheme
returns ``None`` instead and the endpoint decides. The schemes only *extract* credentials;
checking them is the application's job, in a dependency on top.

Browsers cannot set headers on a WebSocket handshake (WHATWG HTML issue 3062), which leaves a
query parameter (:class:`APIKeyQuery`), a cookie (:class:`APIKeyCookie`) or the
``Sec-WebSocket-Protocol`` header (:class:`WebSocketSubprotocolToken`) for browser clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from tether.exceptions import HTTPException
from tether.requests import HTTPConnection

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBearer",
    "OAuth2PasswordBearer",
    "SecurityScopes",
    "SubprotocolToken",
    "WebSocketSubprotocolToken",
]

_NOT_AUTHENTICATED: Final = "credentials missing"


class SecurityScopes:
    """The scopes every ``Security(...)`` between the endpoint and this dependency asked for.

    Declare a parameter typed ``SecurityScopes`` in a dependency to receive them;
    ``scope_str`` is the same list joined by spaces (the OAuth2 ``scope`` form).
    """

    __slots__ = ("scope_str", "scopes")

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or ())
        self.scope_str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"


def _refuse(challenge: str, detail: str = _NOT_AUTHENTICATED) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


class _Scheme:
    """Shared settings: ``scheme_name`` (documentation) and ``auto_error``."""

    challenge = "Bearer"

    def __init__(self, *, scheme_name: str | None, description: str | None, auto_error: bool):
        self.scheme_name = scheme_name or type(self).__name__
        self.description = description
        self.auto_error = auto_error

    def _missing(self, detail: str = _NOT_AUTHENTICATED) -> None:
        if self.auto_error:
            raise _refuse(self.challenge, detail)


class HTTPAuthorizationCredentials:
    """The two parts of an ``Authorization`` header: ``scheme`` and ``credentials``."""

    __slots__ = ("credentials", "scheme")

    def __init__(self, scheme: str, credentials: str) -> None:
        self.scheme = scheme
        self.credentials = credentials

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HTTPAuthorizationCredentials) and (
            self.scheme,
            self.credentials,
        ) == (other.scheme, other.credentials)

    def __hash__(self) -> int:
        return hash((self.scheme, self.credentials))

    def __repr__(self) -> str:
        return f"HTTPAuthorizationCredentials(scheme={self.scheme!r}, credentials='***')"


def _authorization(connection: HTTPConnection) -> tuple[str, str] | None:
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    return (scheme, credentials) if credentials else None


class HTTPBearer(_Scheme):
    """Read ``Authorization: Bearer <token>`` (RFC 6750 section 2.1).

    Returns :class:`HTTPAuthorizationCredentials`, or ``None`` with ``auto_error=False``.
    Raises ``HTTPException(401)`` when the header is missing or not a bearer token.
    """

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,  # noqa: N803 - the peer's (OpenAPI's) spelling
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.bearer_format = bearerFormat

    async def __call__(self, connection: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        parts = _authorization(connection)
        if parts is None:
            self._missing()
            return None
        if parts[0].lower() != "bearer":
            self._missing("expected a bearer token")
            return None
        return HTTPAuthorizationCredentials(parts[0], parts[1])


class OAuth2PasswordBearer(_Scheme):
    """The bearer token of the OAuth2 password flow, as a plain string.

    ``tokenUrl`` is documentation (where clients get a token). Returns the token, or ``None``
    with ``auto_error=False``; raises ``HTTPException(401)`` when it is missing.
    """

    def __init__(
        self,
        tokenUrl: str,  # noqa: N803 - the peer's spelling
        *,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.token_url = tokenUrl
        self.scopes = dict(scopes or {})

    async def __call__(self, connection: HTTPConnection) -> str | None:
        parts = _authorization(connection)
        if parts is None or parts[0].lower() != "bearer":
            self._missing()
            return None
        return parts[1]


class _APIKey(_Scheme):
    challenge = "APIKey"

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.name = name

    def _read(self, connection: HTTPConnection) -> str | None:
        raise NotImplementedError

    async def __call__(self, connection: HTTPConnection) -> str | None:
        key = self._read(connection)
        if not key:
            self._missing()
            return None
        return key


class APIKeyHeader(_APIKey):
    """An API key in header ``name``; returns it, raises ``HTTPException(401)`` if absent."""

    def _read(self, connection: HTTPConnection) -> str | None:
        return connection.headers.get(self.name)


class APIKeyQuery(_APIKey):
    """An API key in query parameter ``name``; the browser-friendly choice for WebSockets.

    Query strings end up in access logs: prefer short-lived tokens. Raises
    ``HTTPException(401)`` if absent.
    """

    def _read(self, connection: HTTPConnection) -> str | None:
        return connection.query_params.get(self.name)


class APIKeyCookie(_APIKey):
    """An API key in cookie ``name``; raises ``HTTPException(401)`` if absent.

    Cookies ride along on cross-site WebSocket handshakes: pair this with an Origin check.
    """

    def _read(self, connection: HTTPConnection) -> str | None:
        return connection.cookies.get(self.name)


class SubprotocolToken:
    """A token found in ``Sec-WebSocket-Protocol`` and the subprotocol to accept with.

    Pass ``subprotocol`` to ``websocket.accept(subprotocol=...)``: a browser fails the
    connection when it offered subprotocols and the server selects none.
    """

    __slots__ = ("subprotocol", "token")

    def __init__(self, token: str, subprotocol: str) -> None:
        self.token = token
        self.subprotocol = subprotocol

    def __repr__(self) -> str:
        return f"SubprotocolToken(token='***', subprotocol={self.subprotocol!r})"


class WebSocketSubprotocolToken(_Scheme):
    """A bearer token carried as a WebSocket subprotocol, the pattern browsers allow.

    The client offers ``new WebSocket(url, ["chat.v1", "bearer." + token])``. The scheme finds
    the entry starting with ``prefix`` and returns a :class:`SubprotocolToken`. Its
    ``subprotocol`` is the first offered entry that is in ``protocols`` (the application's
    real protocols); when ``protocols`` is not given it is the token entry itself, so
    the server echoes what the client sent. Accept with it::

        @app.websocket("/ws")
        async def ws(websocket: WebSocket, auth: SubprotocolToken = Depends(scheme)):
            await websocket.accept(subprotocol=auth.subprotocol)

    A subprotocol must be an HTTP token (RFC 6455 section 4.1, RFC 9110 section 5.6.2), so
    tokens with characters such as ``/`` or ``=`` must be encoded first (base64url, without
    padding). Raises ``HTTPException(401)`` when no entry carries a token, and
    ``HTTPException(400)`` when ``protocols`` is given and the client offered none of them.
    """

    def __init__(
        self,
        *,
        prefix: str = "bearer.",
        protocols: Sequence[str] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.prefix = prefix
        self.protocols = tuple(protocols) if protocols is not None else None

    async def __call__(self, connection: HTTPConnection) -> SubprotocolToken | None:
        offered = _offered_subprotocols(connection)
        entry = next((item for item in offered if item.startswith(self.prefix)), None)
        if entry is None or len(entry) == len(self.prefix):
            self._missing()
            return None
        if self.protocols is None:
            return SubprotocolToken(entry[len(self.prefix) :], entry)
        chosen = next((item for item in offered if item in self.protocols), None)
        if chosen is None:
            if not self.auto_error:
                return None
            raise HTTPException(400, f"offer one of the subprotocols {list(self.protocols)}")
        return SubprotocolToken(entry[len(self.prefix) :], chosen)


def _offered_subprotocols(connection: HTTPConnection) -> list[str]:
    """The subprotocols the client offered (ASGI ``scope["subprotocols"]``, else the header)."""
    offered = connection.scope.get("subprotocols")
    if offered is not None:
        return list(offered)
    header = connection.headers.get("sec-websocket-protocol", "")
    return [item.strip() for item in header.split(",") if item.strip()]
