"""``TestClient`` (sync, app on one loop thread) and ``AsyncTestClient`` (the test's loop)."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, cast

import httpx

from tether.testclient._lifespan import LifespanRunner
from tether.testclient._loop import LoopThread
from tether.testclient._scope import AppConfig, websocket_scope
from tether.testclient._transport import AsyncASGITransport, SyncASGITransport, call_guard
from tether.testclient._websocket import AsyncWebSocketTestSession, WebSocketTestSession
from tether.types import ASGIApp, Receive, Scope, Send

__all__ = ["AsyncTestClient", "TestClient"]

Headers = Mapping[str, str] | Sequence[tuple[str, str]] | httpx.Headers | None


def as_asgi3(app: Any) -> ASGIApp:
    """Return ``app`` as an ASGI 3 coroutine function, whatever shape the app has.

    A coroutine function (or an object with an ``async def __call__``) is used as it is. A
    class whose instances are awaitable (an endpoint class), or a callable taking
    ``(scope, receive, send)`` that returns some other awaitable, is awaited through a small
    wrapper, since a task needs a coroutine. Anything else is taken for ASGI 2
    (``app(scope)`` returns the callable that takes ``(receive, send)``).
    """
    if not inspect.isclass(app) and (
        inspect.iscoroutinefunction(app)
        or inspect.iscoroutinefunction(getattr(app, "__call__", None))  # noqa: B004
    ):
        return cast(ASGIApp, app)
    if _takes_three_arguments(app):

        async def awaited(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, send)

        return awaited

    async def asgi2(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope)(receive, send)

    return asgi2


def _takes_three_arguments(app: Any) -> bool:
    if inspect.isclass(app) and hasattr(app, "__await__"):
        return True  # an endpoint class: Endpoint(scope, receive, send) is awaitable
    try:
        inspect.signature(app).bind(None, None, None)
    except TypeError:
        return False  # one argument: ASGI 2; or no readable signature at all
    except ValueError:
        return False
    return True


def _config(
    app: Any, root_path: str, client: tuple[str, int], raise_exc: bool, timeout: float | None
) -> AppConfig:
    return AppConfig(as_asgi3(app), root_path, client, raise_exc, timeout)


def _new_lifespan(config: AppConfig) -> LifespanRunner:
    """A lifespan run with a fresh state dict, which the config's scopes then copy."""
    config.state = {}
    return LifespanRunner(config.app, config.state, config.timeout)


def _client_headers(headers: Headers) -> httpx.Headers:
    merged = httpx.Headers({"user-agent": "testclient"})
    merged.update(httpx.Headers(headers))  # a copy: the caller's dict is never changed
    return merged


def _handshake_request(
    client: httpx.Client | httpx.AsyncClient,
    url: str | httpx.URL,
    subprotocols: Sequence[str] | None,
    headers: Headers,
    params: Any,
    cookies: Any,
    auth: Any,
) -> httpx.Request:
    """The handshake GET as httpx builds it: base URL, client headers, cookies, auth."""
    wanted = httpx.Headers(headers)
    wanted.setdefault("connection", "upgrade")
    wanted.setdefault("sec-websocket-key", "testserver==")
    wanted.setdefault("sec-websocket-version", "13")
    if subprotocols is not None:
        wanted.setdefault("sec-websocket-protocol", ", ".join(subprotocols))
    request = client.build_request("GET", url, params=params, headers=wanted, cookies=cookies)
    auth = client.auth if auth is None else auth
    if isinstance(auth, tuple):
        auth = httpx.BasicAuth(*auth)
    if isinstance(auth, httpx.Auth):
        request = next(auth.sync_auth_flow(request))
    elif callable(auth):
        request = auth(request)
    return request


def _session(
    client: httpx.Client | httpx.AsyncClient,
    config: AppConfig,
    url: str | httpx.URL,
    subprotocols: Sequence[str] | None,
    headers: Headers,
    params: Any,
    cookies: Any,
    auth: Any,
) -> AsyncWebSocketTestSession:
    """The WebSocket session both clients hand out (the sync one wraps it)."""
    request = _handshake_request(client, url, subprotocols, headers, params, cookies, auth)
    return AsyncWebSocketTestSession(config.app, websocket_scope(request, config), config.timeout)


class _AppClient:
    """What both clients share: the app under test and its configuration."""

    app_config: AppConfig

    @property
    def app(self) -> ASGIApp:
        """The ASGI app under test."""
        return self.app_config.app  # type: ignore[no-any-return]

    @property
    def app_state(self) -> dict[str, Any]:
        """The lifespan state (what the app's lifespan yielded), as Starlette's ``app_state``;
        each request's ``scope["state"]`` is a shallow copy of it."""
        return self.app_config.state


class TestClient(_AppClient, httpx.Client):
    """A synchronous client that talks to an ASGI app in-process (an ``httpx.Client``).

    The app runs on an asyncio loop in one background thread, started on first use and
    stopped by :meth:`close` or at the end of ``with``. ``with TestClient(app) as client:``
    also runs the app's lifespan (startup, then shutdown at exit); a failed startup raises.
    Every wait for the app is bounded by ``timeout`` seconds (``None``: no bound), so a test
    never hangs: :class:`~tether.testclient.AppTimeoutError` says what was awaited.
    ``backend`` is Starlette's option: only ``"asyncio"`` is accepted (``ValueError``
    otherwise), and ``backend_options`` are ignored.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        app: Any,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: Any = None,
        headers: Headers = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        timeout: float | None = 5.0,
        backend: str = "asyncio",
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        if backend != "asyncio":
            # tether is asyncio native (docs/compat.md): there is no trio loop to run it on.
            raise ValueError(f"tether's test client runs the app on asyncio, not {backend!r}")
        self.app_config = _config(app, root_path, client, raise_server_exceptions, timeout)
        self._loop_thread = LoopThread()
        self._lifespan: LifespanRunner | None = None
        transport = SyncASGITransport(AsyncASGITransport(self.app_config), self._loop_thread)
        super().__init__(
            base_url=base_url,
            headers=_client_headers(headers),
            cookies=cookies,
            transport=transport,
            follow_redirects=follow_redirects,
            timeout=timeout,
        )
        # Stops the loop thread if the client is dropped without close().
        weakref.finalize(self, LoopThread.stop, self._loop_thread)

    def __enter__(self) -> TestClient:
        lifespan = _new_lifespan(self.app_config)
        try:
            self._loop_thread.call(lifespan.startup(), call_guard(self.app_config.timeout))
        except BaseException:
            self._loop_thread.stop()
            raise
        self._lifespan = lifespan
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                self._loop_thread.call(lifespan.shutdown(), call_guard(self.app_config.timeout))
        finally:
            self._loop_thread.stop()

    def close(self) -> None:
        """Stop the loop thread (cancelling what still runs) and close the httpx client."""
        self._loop_thread.stop()
        super().close()

    def websocket_connect(
        self,
        url: str | httpx.URL,
        subprotocols: Sequence[str] | None = None,
        headers: Headers = None,
        *,
        params: Any = None,
        cookies: Any = None,
        auth: Any = None,
    ) -> WebSocketTestSession:
        """Prepare a WebSocket connection to ``url``; the app starts when ``with`` enters.

        ``url`` is resolved against ``base_url`` (``http``/``https`` become ``ws``/``wss``).
        ``headers`` is a dict or a list of pairs and is not modified. See
        :class:`~tether.testclient.AsyncWebSocketTestSession` for what enter and exit raise.
        """
        session = _session(self, self.app_config, url, subprotocols, headers, params, cookies, auth)
        return WebSocketTestSession(session, self._loop_thread, self)


class AsyncTestClient(_AppClient, httpx.AsyncClient):
    """The asynchronous test client (an ``httpx.AsyncClient``): the app runs on the test's loop.

    ``async with AsyncTestClient(app) as client:`` runs the lifespan; requests are awaited
    (``await client.get("/")``) and ``async with client.websocket_connect("/ws") as ws:``
    yields an :class:`~tether.testclient.AsyncWebSocketTestSession`. Same arguments and
    timeouts as :class:`TestClient`.
    """

    __test__ = False

    def __init__(
        self,
        app: Any,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: Any = None,
        headers: Headers = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        timeout: float | None = 5.0,
        backend: str = "asyncio",
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        if backend != "asyncio":
            # tether is asyncio native (docs/compat.md): there is no trio loop to run it on.
            raise ValueError(f"tether's test client runs the app on asyncio, not {backend!r}")
        self.app_config = _config(app, root_path, client, raise_server_exceptions, timeout)
        self._lifespan: LifespanRunner | None = None
        super().__init__(
            base_url=base_url,
            headers=_client_headers(headers),
            cookies=cookies,
            transport=AsyncASGITransport(self.app_config),
            follow_redirects=follow_redirects,
            timeout=timeout,
        )

    async def __aenter__(self) -> AsyncTestClient:
        lifespan = _new_lifespan(self.app_config)
        await lifespan.startup()
        self._lifespan = lifespan
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown()

    def websocket_connect(
        self,
        url: str | httpx.URL,
        subprotocols: Sequence[str] | None = None,
        headers: Headers = None,
        *,
        params: Any = None,
        cookies: Any = None,
        auth: Any = None,
    ) -> AsyncWebSocketTestSession:
        """Prepare a WebSocket connection; ``async with`` starts the app. See :class:`TestClient`."""
        return _session(self, self.app_config, url, subprotocols, headers, params, cookies, auth)
