"""WebSocket test sessions: the async core and its sync face on the client's loop thread.

The app runs as a task; two queues carry the ASGI messages. Every wait is bounded by a
timeout and also ends as soon as the app task finishes, so a test never hangs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Literal, TypeVar

from tether import _json
from tether.testclient._errors import AppFinishedError, AppTimeoutError, WebSocketDenialResponse
from tether.testclient._loop import LoopThread, next_message, stop_task, task_error
from tether.testclient._transport import call_guard
from tether.types import Message, Scope
from tether.websockets import WebSocketDisconnect, WebSocketFrameTypeError

__all__ = ["AsyncWebSocketTestSession", "WebSocketTestSession"]

T = TypeVar("T")
JSONMode = Literal["text", "binary"]
# How long the app may run on after the client's disconnect at exit before it is cancelled:
# enough for cleanup that awaits (unsubscribing, closing a backend), short for an app
# that ignores the disconnect.
EXIT_GRACE = 0.25


class AsyncWebSocketTestSession:
    """One WebSocket connection to the app, used as ``async with`` (see ``websocket_connect``).

    Entering starts the app and waits for its answer to ``websocket.connect``: accept
    (``accepted_subprotocol`` and ``extra_headers`` are set), close (raises
    :class:`~tether.websockets.WebSocketDisconnect` with its code and reason) or a denial
    response (raises :class:`WebSocketDenialResponse`). Leaving sends ``websocket.disconnect``
    (1000), lets the app finish, cancels it if it does not, and re-raises the app's exception
    unless a ``receive*`` call raised it already. When the app closes an accepted socket, the
    session answers as a real client does: the app next receives ``websocket.disconnect``
    with the close's code.
    """

    __slots__ = (
        "_accepted",
        "_delivered",
        "_disconnect_sent",
        "_from_app",
        "_task",
        "_to_app",
        "accepted_subprotocol",
        "app",
        "extra_headers",
        "scope",
        "timeout",
    )

    def __init__(self, app: Any, scope: Scope, timeout: float | None) -> None:
        self.app = app
        self.scope = scope
        self.timeout = timeout
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._delivered: BaseException | None = None
        self._disconnect_sent = False
        self._accepted = False

    async def __aenter__(self) -> AsyncWebSocketTestSession:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop(exc)

    async def start(self) -> None:
        """Start the app and complete the handshake (what ``async with`` does on enter).

        Raises ``WebSocketDisconnect``, :class:`WebSocketDenialResponse`, the app's own
        exception, :class:`AppFinishedError` or :class:`AppTimeoutError`.
        """
        if self._task is not None:
            raise RuntimeError("this WebSocket session was entered already")
        self._task = asyncio.create_task(
            self.app(self.scope, self._to_app.get, self._app_send),
            name=f"websocket app {self.scope.get('path')}",
        )
        self._to_app.put_nowait({"type": "websocket.connect"})
        try:
            accept = await self._handshake()
        except BaseException as exc:
            await self.stop(exc)
            raise
        self.accepted_subprotocol = accept.get("subprotocol")
        headers = accept.get("headers")
        self.extra_headers = None if headers is None else list(headers)

    async def stop(self, exc: BaseException | None = None) -> None:
        """Disconnect (1000), let the app end, cancel it if needed, raise its exception.

        While the test itself is failing with ``exc``, the app's ``WebSocketDisconnect``
        (caused by this very disconnect) is not raised over it; other app errors are.
        """
        task = self._task
        if task is None:
            return
        if not self._disconnect_sent:
            await self.send({"type": "websocket.disconnect", "code": 1000, "reason": None})
        await stop_task(task, grace=EXIT_GRACE, timeout=self.timeout)
        error = task_error(task)
        if error is None or error is self._delivered or error is exc:
            return
        if exc is not None and isinstance(error, WebSocketDisconnect):
            return
        self._delivered = error
        raise error

    async def send(self, message: Message) -> None:
        """Hand a raw ASGI message to the app, as the server's ``receive`` would return it."""
        self._require_started()
        if message.get("type") == "websocket.disconnect":
            self._disconnect_sent = True
        self._to_app.put_nowait(message)

    async def send_text(self, data: str) -> None:
        """Send a text frame (``websocket.receive`` with ``text``)."""
        await self.send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame (``websocket.receive`` with ``bytes``)."""
        await self.send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any, mode: JSONMode = "text") -> None:
        """Send ``data`` as compact JSON in a text frame, or UTF-8 bytes for ``mode="binary"``.

        Raises ``RuntimeError`` for another ``mode``.
        """
        binary = _check_mode(mode) == "binary"
        text = _json.dumps(data)
        if not binary:
            await self.send_text(text)
        else:
            await self.send_bytes(text.encode("utf-8"))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Tell the app the client closed the connection (``websocket.disconnect``)."""
        await self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    async def receive(self, timeout: float | None = None) -> Message:
        """Return the next raw message the app sent.

        ``timeout`` (seconds) defaults to the client's. Raises :class:`AppTimeoutError` when
        nothing comes in time, the app's exception if it failed, and
        :class:`AppFinishedError` if it returned and every message was received.
        """
        return await self._next("a message from the app", timeout)

    async def receive_text(self, timeout: float | None = None) -> str:
        """Return the next text frame; a close raises ``WebSocketDisconnect(code, reason)``.

        A frame of the other kind raises :class:`WebSocketFrameTypeError`.
        """
        return str(_frame_data(await self.receive(timeout), "text"))

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        """Return the next binary frame; raises like :meth:`receive_text`."""
        return bytes(_frame_data(await self.receive(timeout), "bytes"))

    async def receive_json(self, mode: JSONMode = "text", timeout: float | None = None) -> Any:
        """Return the next frame parsed as JSON (text frame, or UTF-8 bytes for "binary").

        Raises like :meth:`receive_text`, ``RuntimeError`` for another ``mode`` and
        ``ValueError`` for invalid JSON.
        """
        if _check_mode(mode) == "text":
            return _json.loads(await self.receive_text(timeout))
        return _json.loads((await self.receive_bytes(timeout)).decode("utf-8"))

    async def assert_no_message(self, within: float = 0.1) -> None:
        """Fail with ``AssertionError`` if the app sends a message within ``within`` seconds."""
        try:
            message = await self._next("nothing", within)
        except (AppTimeoutError, AppFinishedError):
            return
        raise AssertionError(f"expected no message from the app, got {message!r}")

    async def _next(self, what: str, timeout: float | None) -> Message:
        task = self._require_started()
        wait = self.timeout if timeout is None else timeout
        message = await next_message(self._from_app, task, wait, what)
        if message is None:
            error = task_error(task)
            if error is not None:
                self._delivered = error
                raise error
            raise AppFinishedError(f"the app returned, so there will never be {what}")
        return message

    async def _handshake(self) -> Message:
        what = "the app to accept, close or deny the WebSocket"
        try:
            message = await self._next(what, None)
        except AppFinishedError:
            raise AppFinishedError(
                "the app returned without accepting, closing or denying the WebSocket"
            ) from None
        kind = message.get("type")
        if kind == "websocket.close":
            raise WebSocketDisconnect(code=message.get("code", 1000), reason=message.get("reason"))
        if kind == "websocket.http.response.start":
            raise await self._denial(message)
        if kind != "websocket.accept":
            raise RuntimeError(
                f"expected websocket.accept, websocket.close or websocket.http.response.start "
                f"as the app's answer to websocket.connect, got {kind!r}"
            )
        return message

    async def _denial(self, start: Message) -> WebSocketDenialResponse:
        chunks: list[bytes] = []
        while True:
            message = await self._next("the rest of the app's denial response", None)
            if message.get("type") != "websocket.http.response.body":
                raise RuntimeError(
                    "expected websocket.http.response.body in the denial response, "
                    f"got {message.get('type')!r}"
                )
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                break
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
        return WebSocketDenialResponse(int(start["status"]), headers, b"".join(chunks))

    async def _app_send(self, message: Message) -> None:
        self._from_app.put_nowait(message)
        kind = message.get("type")
        if kind == "websocket.accept":
            self._accepted = True
        elif kind == "websocket.close" and self._accepted and not self._disconnect_sent:
            # A real client answers a server's close with its own, which the server reports
            # to the app as websocket.disconnect with the same code: an app that closed (a
            # drain, a limit) and then waits in receive() ends at once, not at the timeout.
            self._disconnect_sent = True
            code = message.get("code", 1000)
            self._to_app.put_nowait(
                {"type": "websocket.disconnect", "code": code, "reason": message.get("reason")}
            )
        # Yield, so an app sending in a tight loop cannot starve the test's timeouts.
        await asyncio.sleep(0)

    def _require_started(self) -> asyncio.Task[None]:
        if self._task is None:
            raise RuntimeError(
                "the WebSocket session is not open; use it as a context manager: "
                "with client.websocket_connect(url) as websocket: ..."
            )
        return self._task


def _check_mode(mode: str) -> str:
    if mode not in ("text", "binary"):
        raise RuntimeError(f'the "mode" argument must be "text" or "binary", not {mode!r}')
    return mode


def _frame_data(message: Message, key: str) -> Any:
    kind = message.get("type")
    if kind == "websocket.close":
        raise WebSocketDisconnect(code=message.get("code", 1000), reason=message.get("reason"))
    value = message.get(key) if kind == "websocket.send" else None
    if value is None:
        raise WebSocketFrameTypeError(f"expected a {key} frame from the app, got {message!r}")
    return value


class WebSocketTestSession:
    """The synchronous WebSocket session of :class:`~tether.testclient.TestClient`.

    Same methods as :class:`AsyncWebSocketTestSession`, not awaited; each runs on the
    client's loop thread. Use it as a context manager.
    """

    __slots__ = ("_loop_thread", "_owner", "_session")

    def __init__(
        self, session: AsyncWebSocketTestSession, loop_thread: LoopThread, owner: object
    ) -> None:
        self._session = session
        self._loop_thread = loop_thread
        # The client stops its loop thread when it is garbage-collected; keep it alive
        # while the session may still use that thread.
        self._owner = owner

    @property
    def app(self) -> Any:
        """The ASGI app under test."""
        return self._session.app

    @property
    def scope(self) -> Scope:
        """The connection scope handed to the app."""
        return self._session.scope

    @property
    def accepted_subprotocol(self) -> str | None:
        """The subprotocol the app accepted (``None`` before enter or if none)."""
        return self._session.accepted_subprotocol

    @property
    def extra_headers(self) -> list[tuple[bytes, bytes]] | None:
        """The headers the app sent with ``websocket.accept`` (``None`` before enter)."""
        return self._session.extra_headers

    def __enter__(self) -> WebSocketTestSession:
        self._run(self._session.start())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._run(self._session.stop(exc), EXIT_GRACE)

    def send(self, message: Message) -> None:
        """Hand a raw ASGI message to the app."""
        self._run(self._session.send(message))

    def send_text(self, data: str) -> None:
        """Send a text frame."""
        self._run(self._session.send_text(data))

    def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        self._run(self._session.send_bytes(data))

    def send_json(self, data: Any, mode: JSONMode = "text") -> None:
        """Send compact JSON as text, or as UTF-8 bytes for ``mode="binary"``."""
        self._run(self._session.send_json(data, mode))

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Tell the app the client closed the connection."""
        self._run(self._session.close(code, reason))

    def receive(self, timeout: float | None = None) -> Message:
        """Return the next raw message from the app (see the async session for errors)."""
        return self._run(self._session.receive(timeout), timeout)

    def receive_text(self, timeout: float | None = None) -> str:
        """Return the next text frame; a close raises ``WebSocketDisconnect``."""
        return self._run(self._session.receive_text(timeout), timeout)

    def receive_bytes(self, timeout: float | None = None) -> bytes:
        """Return the next binary frame; a close raises ``WebSocketDisconnect``."""
        return self._run(self._session.receive_bytes(timeout), timeout)

    def receive_json(self, mode: JSONMode = "text", timeout: float | None = None) -> Any:
        """Return the next frame parsed as JSON."""
        return self._run(self._session.receive_json(mode, timeout), timeout)

    def assert_no_message(self, within: float = 0.1) -> None:
        """Fail with ``AssertionError`` if the app sends a message within ``within`` s."""
        self._run(self._session.assert_no_message(within), within)

    def _run(self, coro: Coroutine[Any, Any, T], wait: float | None = None) -> T:
        base = self._session.timeout
        limit = base if wait is None else max(wait, base or 0.0)
        return self._loop_thread.call(coro, call_guard(limit))
