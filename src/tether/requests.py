"""Incoming connections: :class:`HTTPConnection` (shared by HTTP and WebSocket) and
:class:`Request` (HTTP).

An ``HTTPConnection`` is a read-only mapping over its ASGI scope. Everything derived from the
scope (``url``, ``headers``, ``cookies``, ...) is computed on first use and cached on the
instance: construction costs nothing beyond storing the scope, which matters because one is
built per WebSocket connection. The caches start as ``None`` rather than unset: a first read
that raised and caught ``AttributeError`` cost more (about 0.7 µs) than building the value.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator, Mapping
from http import cookies as http_cookies
from typing import Any, Final, NoReturn

from tether import _json
from tether.datastructures import URL, Address, FormData, Headers, QueryParams, State
from tether.datastructures.headers import headers_from_scope
from tether.exceptions import HTTPException
from tether.types import Message, Receive, Scope, Send

__all__ = ["ClientDisconnect", "HTTPConnection", "Request", "cookie_parser"]


class ClientDisconnect(Exception):
    """The HTTP client went away while the request body was being read."""


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a ``Cookie`` header the lenient way browsers do.

    Split on ``;``, split each part at the first ``=`` (a part without one is a value with an
    empty name), strip both sides, skip empty parts and unquote values. Later names win.
    """
    cookie_dict: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        if "=" in chunk:
            key, value = chunk.split("=", 1)
        else:
            key, value = "", chunk
        key, value = key.strip(), value.strip()
        if key or value:
            cookie_dict[key] = http_cookies._unquote(value)
    return cookie_dict


class HTTPConnection(Mapping[str, Any]):
    """What HTTP requests and WebSockets share: the scope and everything derived from it.

    Equality and hashing are by identity (two connections are never "equal" because their
    scopes look alike), so connections can live in sets and dict keys.

    Raises:
        AssertionError: the scope type is neither ``"http"`` nor ``"websocket"``.
    """

    __slots__ = (
        "scope",
        "_url",
        "_base_url",
        "_headers",
        "_query_params",
        "_cookies",
        "_state",
        "__weakref__",
    )

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        assert scope["type"] in ("http", "websocket")
        self.scope = scope
        self._url: URL | None = None
        self._base_url: URL | None = None
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._state: State | None = None

    def __class_getitem__(cls, item: Any) -> Any:
        # The peer is generic over its state type; accept the subscript for compatibility.
        return cls

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def app(self) -> Any:
        """The application serving this connection (``scope["app"]``; KeyError outside one)."""
        return self.scope["app"]

    @property
    def url(self) -> URL:
        """The full URL; a Host header that is not a valid host is ignored."""
        url = self._url
        if url is None:
            url = self._url = URL(scope=self.scope)
        return url

    @property
    def base_url(self) -> URL:
        """The URL of the application root (``root_path`` plus ``/``), no query string."""
        base_url = self._base_url
        if base_url is None:
            scope = dict(self.scope)
            root = scope.get("app_root_path", scope.get("root_path", ""))
            scope["path"] = root if root.endswith("/") else root + "/"
            scope["query_string"] = b""
            scope["root_path"] = root
            base_url = self._base_url = URL(scope=scope)
        return base_url

    @property
    def headers(self) -> Headers:
        """The request headers (immutable, case-insensitive, latin-1)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = headers_from_scope(self.scope)
        return headers

    @property
    def query_params(self) -> QueryParams:
        """The parsed query string (KeyError when the scope has no ``query_string``)."""
        query_params = self._query_params
        if query_params is None:
            query_params = self._query_params = QueryParams(self.scope["query_string"])
        return query_params

    @property
    def path_params(self) -> dict[str, Any]:
        """Converted path parameters set by the router (empty outside a route)."""
        params: dict[str, Any] = self.scope.get("path_params", {})
        return params

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies from every ``Cookie`` header, merged; later names win."""
        cookies = self._cookies
        if cookies is None:
            cookies = {}
            for value in self.headers.getlist("cookie"):
                cookies.update(cookie_parser(value))
            self._cookies = cookies
        return cookies

    @property
    def client(self) -> Address | None:
        """The client's ``Address(host, port)``, or None when the server gives none."""
        client = self.scope.get("client")
        return None if client is None else Address(*client)

    @property
    def session(self) -> dict[str, Any]:
        """The session dict (needs session middleware; AssertionError otherwise)."""
        assert "session" in self.scope, "SessionMiddleware must be installed to access session"
        session: dict[str, Any] = self.scope["session"]
        mark_accessed = getattr(session, "mark_accessed", None)
        if mark_accessed is not None:
            mark_accessed()
        return session

    @property
    def auth(self) -> Any:
        """Credentials set by authentication middleware (AssertionError without it)."""
        assert "auth" in self.scope, "AuthenticationMiddleware must be installed to access auth"
        return self.scope["auth"]

    @property
    def user(self) -> Any:
        """The user set by authentication middleware (AssertionError without it)."""
        assert "user" in self.scope, "AuthenticationMiddleware must be installed to access user"
        return self.scope["user"]

    @property
    def state(self) -> State:
        """Per-connection state over ``scope["state"]`` (created empty when missing)."""
        state = self._state
        if state is None:
            state = self._state = State(self.scope.setdefault("state", {}))
        return state

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route ``name``, with ``ws``/``wss`` for WebSocket routes.

        Raises:
            RuntimeError: the connection belongs to no application or router.
            NoMatchFound: (from the router) no route has that name and parameters.
        """
        provider = self.scope.get("router") or self.scope.get("app")
        if provider is None:
            raise RuntimeError(
                "url_for() needs the connection to be served by a tether application or "
                "router (scope has neither 'router' nor 'app')"
            )
        url_path = provider.url_path_for(name, **path_params)
        absolute: URL = url_path.make_absolute_url(base_url=self.base_url)
        return absolute


async def _no_receive() -> NoReturn:
    raise RuntimeError("this Request was built without a receive channel")


async def _no_send(message: Message) -> NoReturn:
    raise RuntimeError("this Request was built without a send channel")


class Request(HTTPConnection):
    """An HTTP request: the connection plus its method and body.

    Raises:
        AssertionError: the scope type is not ``"http"``.
    """

    __slots__ = ("_receive", "_send", "_body", "_json", "_form", "_stream_consumed", "_gone")

    def __init__(self, scope: Scope, receive: Receive = _no_receive, send: Send = _no_send) -> None:
        super().__init__(scope)
        assert scope["type"] == "http"
        self._receive = receive
        self._send = send
        self._stream_consumed = False
        self._gone = False

    @property
    def method(self) -> str:
        """The HTTP method, upper-case."""
        method: str = self.scope["method"]
        return method

    @property
    def receive(self) -> Receive:
        """The raw ASGI receive callable."""
        return self._receive

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """Yield the body in chunks as they arrive, ending with ``b""``.

        When the route set a body limit (``max_body_size``, kept in the scope under
        :data:`BODY_LIMIT_KEY`), a body announced or found to be larger is refused with
        ``HTTPException(413)`` before more of it is read.

        Raises:
            RuntimeError: the body was already streamed (and not kept by ``body()``).
            ClientDisconnect: the client went away before the body ended.
            HTTPException: 413, the body is larger than the route's limit.
        """
        try:
            body = self._body
        except AttributeError:
            pass
        else:
            yield body
            yield b""
            return
        if self._stream_consumed:
            raise RuntimeError("the request body was already consumed by stream()")
        self._stream_consumed = True
        limit: int | None = self.scope.get(BODY_LIMIT_KEY)
        if limit is not None:
            _check_declared_length(self.headers.get("content-length"), limit)
        received = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._gone = True
                raise ClientDisconnect()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                if chunk:
                    if limit is not None:
                        received += len(chunk)
                        if received > limit:
                            raise _too_large(limit)
                    yield chunk
                if not message.get("more_body", False):
                    break
        yield b""

    async def body(self) -> bytes:
        """The whole body (read once, then cached)."""
        try:
            return self._body
        except AttributeError:
            self._body: bytes = b"".join([chunk async for chunk in self.stream()])
            return self._body

    async def json(self) -> Any:
        """The body parsed as JSON (ValueError when it is not JSON)."""
        try:
            return self._json
        except AttributeError:
            self._json: Any = _json.loads(await self.body())
            return self._json

    async def form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        """The body parsed as a form (URL-encoded, or multipart with ``tether[multipart]``).

        Parsed once, then cached (later limits do not apply again). Files are
        :class:`~tether.datastructures.UploadFile` objects, closed by :meth:`close`.

        Raises:
            MultiPartException: an ``HTTPException`` (400 malformed, 413 a field over
                ``max_part_size``, 422 too many fields or files); see :mod:`tether.formparsers`.
            MissingDependencyError: a multipart body without ``python-multipart`` installed.
        """
        try:
            return self._form
        except AttributeError:
            pass
        from tether.formparsers import FormLimits, parse_form

        limits = FormLimits(max_files, max_fields, max_part_size)
        self._form: FormData = await parse_form(self.headers, self.stream(), limits)
        return self._form

    async def close(self) -> None:
        """Release resources held by a parsed form."""
        try:
            form = self._form
        except AttributeError:
            return
        await form.close()

    async def is_disconnected(self) -> bool:
        """True once the client has gone away; never waits for a message."""
        if self._gone:
            return True
        task = asyncio.ensure_future(self._receive())
        await asyncio.sleep(0)
        if not task.done():
            task.cancel()
            # wait() never raises, so a cancellation of *this* task still propagates.
            await asyncio.wait([task])
            return False
        if task.result().get("type") == "http.disconnect":
            self._gone = True
        return self._gone

    async def send_push_promise(self, path: str) -> None:
        """Ask an HTTP/2 server to push ``path``; does nothing when unsupported."""
        if "http.response.push" in (self.scope.get("extensions") or {}):
            headers = [(k, v) for k, v in self.headers.raw if k in _PUSH_KEEP]
            await self._send({"type": "http.response.push", "path": path, "headers": headers})


#: Scope key of the route's body limit in bytes (set by routes with ``max_body_size``).
BODY_LIMIT_KEY: Final = "tether.max_body_size"


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the request body is larger than {limit} bytes")


def _check_declared_length(declared: str | None, limit: int) -> None:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


# Request headers worth repeating on a pushed request (they change what the server sends).
_PUSH_KEEP = frozenset({b"accept", b"accept-encoding", b"accept-language", b"cache-control"})
