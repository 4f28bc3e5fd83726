"""What happens when an app raises: handler lookup and the outcomes a client sees.

One :class:`SendTracker` per connection watches the messages an app sends (accepted? denial
started? closed?) so every layer that handles an error knows what is still possible:

* before accept, a Response becomes a denial response (``websocket.http.response.*``) when the
  server advertises the extension, else a close (1008, or 1011 for a 5xx status) with a short
  string reason (DESIGN divergence 1);
* after accept, a Response can no longer be sent, so the socket closes with 1011;
* after close, nothing more is sent.

The tracker is stored in the scope under :data:`TRACKER_KEY` by the outermost layer that needs
it, so the layers below reuse it instead of each wrapping ``send`` again. It is also the handle a
graceful drain (:mod:`tether.runtime.shutdown`) closes a WebSocket through from outside the app: one
object per connection, and nothing added to the per-message path.

Nothing per message, literally: when no middleware sits between the tracker and the endpoint,
the endpoint's :class:`~tether.websockets.WebSocket` is given the server's own ``send`` and
bound to the tracker (:meth:`SendTracker.bind`). The tracker then reads the connection's phase
from the WebSocket's ``application_state`` (which every accept, close and denial moves) instead
of seeing each message go by, saving one coroutine frame per ``send``.
"""

from __future__ import annotations

import contextlib
import enum
import http
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from tether.concurrency import is_async_callable, run_in_threadpool
from tether.requests import HTTPConnection, Request
from tether.responses import Response
from tether.types import Message, Receive, Scope, Send
from tether.websockets import WebSocket, WebSocketState

__all__ = [
    "HANDLERS_KEY",
    "TRACKER_KEY",
    "ExceptionHandler",
    "HandlerTables",
    "Phase",
    "SendTracker",
    "ClosedByServerError",
    "apply_handler",
    "close_websocket",
    "connection_for",
    "ensure_tracker",
    "handle_exception",
    "has_denial_extension",
    "lookup_handler",
    "run_guarded",
    "send_outcome",
    "short_reason",
]

TRACKER_KEY = "tether.send_tracker"
HANDLERS_KEY = "tether.exception_handlers"
DENIAL_EXTENSION = "websocket.http.response"
MAX_REASON_BYTES = 123  # RFC 6455 section 5.5: control frame payload 125 bytes, 2 for the code

ExceptionHandler = Callable[[Any, Any], Any]
HandlerTables = tuple[Mapping[Any, ExceptionHandler], Mapping[int, ExceptionHandler]]


class Phase(enum.Enum):
    """How far the app has come on one connection, seen from the messages it sent."""

    PENDING = 0  # nothing decisive sent yet
    ACCEPTED = 1  # websocket.accept sent
    RESPONSE = 2  # an HTTP response (or WebSocket denial) has started
    CLOSED = 3  # websocket.close sent, or the response finished


# Read once here: on 3.11 an enum member read through its class is a Python-level lookup,
# and one tracker is built per connection.
_PENDING: Final = Phase.PENDING

_START = frozenset({"http.response.start", "websocket.http.response.start"})
_BODY = frozenset({"http.response.body", "websocket.http.response.body"})


class ClosedByServerError(OSError):
    """The app sent on a WebSocket that tether already closed (a drain, a limit, a heartbeat).

    An ``OSError`` on purpose: :class:`~tether.websockets.WebSocket` reports an ``OSError`` from
    ``send`` as a lost connection, which is what it is for the application.
    """


async def _refuse_after_close(message: Message) -> None:
    # Installed as the tracker's send once tether closed the socket: the app's own close
    # (often in a finally block) is a no-op, anything else is a send on a closed socket.
    if message["type"] != "websocket.close":
        raise ClosedByServerError("the WebSocket was closed by the server")


class SendTracker:
    """A ``send`` wrapper that records the connection's :class:`Phase`.

    A WebSocket given to :meth:`bind` sends past the tracker; its ``application_state`` then
    counts as what the tracker saw.
    """

    __slots__ = ("_send", "_phase", "websocket")

    def __init__(self, send: Send) -> None:
        self._send = send
        self._phase = _PENDING
        self.websocket: WebSocket | None = None

    @property
    def phase(self) -> Phase:
        """How far the connection has come: what was sent through here or by the bound socket."""
        own = self._phase
        websocket = self.websocket
        if websocket is None or own is Phase.CLOSED:
            return own
        seen = _PHASE_OF_STATE[websocket.application_state]
        return seen if _PROGRESS[seen] > _PROGRESS[own] else own

    @phase.setter
    def phase(self, value: Phase) -> None:
        self._phase = value

    def bind(self, scope: Scope, receive: Receive, send: Send) -> WebSocket:
        """A WebSocket for the endpoint; it skips the tracker when ``send`` is the tracker.

        ``send`` is what the caller was given: when it is this tracker, no middleware wraps
        sends below it, so the WebSocket may use the server's ``send`` directly.
        """
        if send is not self:
            return WebSocket(scope, receive, send)
        websocket = WebSocket(scope, receive, self._send)
        self.websocket = websocket
        return websocket

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind != "websocket.send":  # the hot path skips the bookkeeping
            self._observe(kind, message)
        await self._send(message)

    def _observe(self, kind: str, message: Message) -> None:
        if kind == "websocket.accept":
            self._phase = Phase.ACCEPTED
        elif kind == "websocket.close":
            self.finish()
        elif kind in _START:
            self._phase = Phase.RESPONSE
        elif kind in _BODY and not message.get("more_body", False):
            self.finish()

    def finish(self) -> None:
        """Mark the connection closed."""
        self._phase = Phase.CLOSED

    async def close_from_server(self, code: int, reason: str) -> bool:
        """Close an accepted WebSocket from outside the app; False if it was not open.

        Later ``websocket.send`` calls by the app raise :class:`ClosedByServerError`, its own
        ``websocket.close`` is dropped. Never raises: a peer that already left needs no close.
        The app's pending ``receive()`` ends when the server reports the client's answer.
        """
        if self.phase is not Phase.ACCEPTED:
            return False
        self._phase = Phase.CLOSED
        send, self._send = self._send, _refuse_after_close
        if self.websocket is not None:
            # The bound socket sends past the tracker: cut its own line too. Its state stays
            # CONNECTED, so the app's close is still legal (and dropped), its sends fail.
            self.websocket._send = _refuse_after_close
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": code, "reason": short_reason(reason)})
        return True


_PHASE_OF_STATE = {
    WebSocketState.CONNECTING: Phase.PENDING,
    WebSocketState.CONNECTED: Phase.ACCEPTED,
    WebSocketState.RESPONSE: Phase.RESPONSE,
    WebSocketState.DISCONNECTED: Phase.CLOSED,
}
# ACCEPTED and RESPONSE exclude each other on one connection, so one rank each is enough.
_PROGRESS = {Phase.PENDING: 0, Phase.ACCEPTED: 1, Phase.RESPONSE: 1, Phase.CLOSED: 2}


def ensure_tracker(scope: Scope, send: Send) -> tuple[SendTracker, Send]:
    """Return the scope's tracker and the ``send`` this layer should use.

    The outermost caller creates the tracker (and must then send through it); inner callers
    keep their own ``send``, whose messages pass the outer tracker on their way out.
    """
    tracker: SendTracker | None = scope.get(TRACKER_KEY)
    if tracker is not None:
        return tracker, send
    tracker = SendTracker(send)
    scope[TRACKER_KEY] = tracker
    return tracker, tracker


def has_denial_extension(scope: Scope) -> bool:
    """Whether the server can send an HTTP response instead of a WebSocket handshake."""
    return DENIAL_EXTENSION in (scope.get("extensions") or {})


def short_reason(text: str) -> str:
    """``text`` cut to fit a close frame (123 UTF-8 bytes) without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= MAX_REASON_BYTES:
        return text
    return data[:MAX_REASON_BYTES].decode("utf-8", errors="ignore")


def lookup_handler(tables: HandlerTables | None, exc: Exception) -> ExceptionHandler | None:
    """The handler for ``exc``: its status code first (HTTPException), then its class MRO."""
    if tables is None:
        return None
    class_handlers, status_handlers = tables
    status_code = getattr(exc, "status_code", None)
    if isinstance(status_code, int) and status_code in status_handlers:
        return status_handlers[status_code]
    for cls in type(exc).__mro__:
        if cls in class_handlers:
            return class_handlers[cls]
    return None


def connection_for(scope: Scope, receive: Receive, send: Send) -> HTTPConnection:
    """A Request or WebSocket for a handler, its states synced with what was sent."""
    if scope["type"] == "http":
        return Request(scope, receive, send)
    websocket = WebSocket(scope, receive, send)
    tracker: SendTracker | None = scope.get(TRACKER_KEY)
    if tracker is not None and tracker.phase is not Phase.PENDING:
        websocket.client_state = WebSocketState.CONNECTED
        websocket.application_state = {
            Phase.ACCEPTED: WebSocketState.CONNECTED,
            Phase.RESPONSE: WebSocketState.RESPONSE,
            Phase.CLOSED: WebSocketState.DISCONNECTED,
        }[tracker.phase]
    return websocket


async def call_handler(handler: ExceptionHandler, conn: HTTPConnection, exc: Exception) -> Any:
    """Call a sync or async handler; sync ones run in the thread pool."""
    if is_async_callable(handler):
        return await handler(conn, exc)
    return await run_in_threadpool(handler, conn, exc)


async def close_websocket(send: Send, tracker: SendTracker, code: int, reason: str) -> None:
    """Close unless already closed, through ``send`` (so the tracker sees it)."""
    if tracker.phase in (Phase.PENDING, Phase.ACCEPTED):
        await send({"type": "websocket.close", "code": code, "reason": short_reason(reason)})


async def send_outcome(
    response: Response, scope: Scope, receive: Receive, send: Send, tracker: SendTracker
) -> None:
    """Deliver ``response`` as far as the connection still allows it.

    HTTP: sent as is (``RuntimeError`` if a response already started). WebSocket: a denial
    response before accept when the server supports it, else a close as described in the
    module docstring.
    """
    if scope["type"] == "http":
        if tracker.phase is not Phase.PENDING:
            raise RuntimeError("an exception was handled, but the response had already started")
        await response(scope, receive, send)
        return
    status = response.status_code
    if tracker.phase is Phase.PENDING and has_denial_extension(scope):
        await response(scope, receive, send)
    elif tracker.phase is Phase.PENDING:
        code = 1011 if status >= 500 else 1008
        await close_websocket(send, tracker, code, _status_text(status))
    else:
        await close_websocket(send, tracker, 1011, _status_text(status))


def _status_text(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


async def apply_handler(
    handler: ExceptionHandler,
    conn: HTTPConnection,
    exc: Exception,
    scope: Scope,
    receive: Receive,
    send: Send,
    tracker: SendTracker,
) -> None:
    """Run ``handler`` and deliver the Response it returns, if any.

    ``RuntimeError`` (caused by ``exc``) when an HTTP response had already started (an
    exception from a background task or a streaming body).
    """
    result = await call_handler(handler, conn, exc)
    if result is not None:
        if scope["type"] == "http" and tracker.phase is not Phase.PENDING:
            raise RuntimeError(
                "an exception was handled, but the response had already started"
            ) from exc
        await send_outcome(result, scope, receive, send, tracker)


async def handle_exception(
    exc: Exception,
    scope: Scope,
    receive: Receive,
    tracker: SendTracker,
    conn: HTTPConnection | None,
) -> bool:
    """Hand ``exc`` to its handler (sending through ``tracker``); False when it has none.

    ``conn`` as in :func:`run_guarded`. Raises what the handler raises.
    """
    handler = lookup_handler(scope.get(HANDLERS_KEY), exc)
    if handler is None:
        return False
    if conn is None:
        conn = connection_for(scope, receive, tracker)
    await apply_handler(handler, conn, exc, scope, receive, tracker, tracker)
    return True


async def run_guarded(
    call: Callable[[Send], Awaitable[None]],
    scope: Scope,
    receive: Receive,
    send: Send,
    conn: HTTPConnection | None = None,
) -> None:
    """Await ``call(send)``; hand an exception to the matching handler, or re-raise it.

    ``conn`` is the connection object the handler receives (the endpoint's own, so its state
    is right); without one a fresh, state-synced object is built.
    """
    tracker, send = ensure_tracker(scope, send)
    try:
        await call(send)
    except Exception as exc:
        handler = lookup_handler(scope.get(HANDLERS_KEY), exc)
        if handler is None:
            raise
        if conn is None:
            conn = connection_for(scope, receive, send)
        await apply_handler(handler, conn, exc, scope, receive, send, tracker)
