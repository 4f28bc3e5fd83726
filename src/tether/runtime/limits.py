"""Per-connection WebSocket limits as pure ASGI middleware.

:class:`WebSocketLimits` groups the limits; :class:`LimitsMiddleware` enforces them around any
ASGI app. What a client sees when it crosses a limit:

=============================  ===========================================================
limit                          outcome
=============================  ===========================================================
``max_message_size``           close **1009** "message too big" (RFC 6455 section 7.4.1)
``messages_per_second``        close **1013** "rate limit exceeded" (try again later: a
                               retryable code), or with ``rate_limit_action="error"`` an
                               error frame ``{"type":"error","id":...,"code":"rate_limited",
                               "error":{"code":"rate_limited",...}}`` echoing the dropped
                               request's ``id``, and the message is dropped
``max_connections_per_client`` HTTP **429** denial before accept (close 1008 when the server
                               lacks the ASGI ``websocket.http.response`` extension)
``max_connections``            HTTP **503** denial before accept (else close 1013
                               "try again later")
``first_message_timeout``      close **1008** "no message in time" when nothing arrives
                               within that many seconds of accept
``idle_timeout``               close **1001** "idle timeout" when the client is silent
                               that long
=============================  ===========================================================

Every violation is counted in :mod:`tether.runtime.metrics` (``tether_limit_violations_total``).

Per-route limits: decorate an endpoint with :func:`limits` and wrap the route's ASGI app with
:func:`apply_route_limits`. When an app-level :class:`LimitsMiddleware` already guards the
connection, the route's fields *replace* the app-level ones for that connection (so an upload
route may allow bigger messages than the rest of the app); otherwise the route gets its own guard.

:class:`ConnectionGuard` is the shared machinery that lets a middleware close a WebSocket from
outside the application: it sends the close, makes a pending ``receive()`` return
``websocket.disconnect`` at once (even when the peer is dead and never answers), and turns later
application sends into :class:`GuardClosedError`. :mod:`tether.runtime.heartbeat` and
:mod:`tether.runtime.shutdown` build on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from tether import _json
from tether.routing.errors import ClosedByServerError
from tether.runtime.limits_policy import (
    authenticates,
    client_speaks_first,
    first_message_timeout,
    remote_client_host,
)
from tether.runtime.metrics import TetherMetrics, default_metrics
from tether.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ConnectionGuard",
    "GuardClosedError",
    "LimitsMiddleware",
    "WebSocketLimits",
    "apply_route_limits",
    "authenticates",
    "client_host",
    "deny",
    "limits",
    "limits_overrides",
    "message_size",
    "remote_client_host",
    "route_limits",
    "spawn",
]

ROUTE_LIMITS_ATTR = "__tether_limits__"
"""Attribute :func:`limits` sets on an endpoint: a dict of field overrides."""

SCOPE_KEY = "tether.limits"
"""Scope key under which the app-level guard of a connection is published to inner layers."""

DENIAL_EXTENSION = "websocket.http.response"
RATE_LIMIT_CLOSE = 1013
"""Close code for a client over ``messages_per_second`` (1013: try again later)."""

F = TypeVar("F", bound=Callable[..., Any])


_BACKGROUND: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Start ``coro`` as a task and keep a reference until it ends (the loop holds tasks weakly)."""
    task = asyncio.get_running_loop().create_task(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task


def client_host(scope: Scope) -> str:
    """Default client key: the peer address of the connection (``scope["client"][0]``).

    Behind a reverse proxy this is the proxy's address unless the server rewrites it (uvicorn
    ``--proxy-headers --forwarded-allow-ips``); pass ``client_key`` to key by user instead.
    """
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


@dataclass(frozen=True, slots=True)
class WebSocketLimits:
    """Limits for WebSocket connections; ``None`` disables a limit.

    Raises ``ValueError`` on a nonsensical value (negative sizes, zero rates).
    """

    max_message_size: int | None = None
    """Largest message in bytes (text measured as UTF-8); larger closes with 1009."""
    messages_per_second: float | None = None
    """Sustained inbound message rate per connection (token bucket)."""
    burst: int | None = None
    """Bucket size: messages allowed at once; defaults to ``max(1, messages_per_second)``."""
    rate_limit_action: Literal["close", "error"] = "close"
    """``"close"``: close 1013 (try again later); ``"error"``: drop the message and send an
    error frame."""
    max_connections: int | None = None
    """Open connections allowed through this middleware; more get a 503 denial."""
    max_connections_per_client: int | None = None
    """Open connections allowed per client key; more get a 429 denial."""
    client_key: Callable[[Scope], str | None] = client_host
    """Maps a scope to the key ``max_connections_per_client`` counts by (None: not counted)."""
    first_message_timeout: float | None = None
    """Seconds after accept within which a first message must pass, from the client (or, on
    routes that do not mark ``CLIENT_SPEAKS_FIRST``, from the app)."""
    authenticated_exempt: bool = False
    """True: ``first_message_timeout`` spares routes that authenticate at the handshake (a
    ``tether.security`` scheme among their dependencies)."""
    idle_timeout: float | None = None
    """Seconds of client silence after which the connection is closed."""
    first_message_close_code: int = 1008
    idle_close_code: int = 1001
    complete: bool = field(default=False, compare=False)
    """On a route (``limits=``): True replaces the app's limits whole (``recommended()`` and
    ``none()`` build it so); False (a plain constructor) replaces only the fields that differ
    from the defaults, so ``WebSocketLimits(max_message_size=n)`` changes that one field."""

    def __post_init__(self) -> None:
        for name in ("max_message_size", "max_connections", "max_connections_per_client"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"WebSocketLimits.{name} must be >= 0, not {value!r}")
        for name in ("messages_per_second", "first_message_timeout", "idle_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"WebSocketLimits.{name} must be > 0, not {value!r}")
        if self.burst is not None and self.burst < 1:
            raise ValueError(f"WebSocketLimits.burst must be >= 1, not {self.burst!r}")
        if self.rate_limit_action not in ("close", "error"):
            raise ValueError("WebSocketLimits.rate_limit_action must be 'close' or 'error'")

    @classmethod
    def recommended(cls, **overrides: Any) -> WebSocketLimits:
        """The limits every ``Tether`` app has unless it passes its own; ``overrides`` change
        single fields (``None`` lifts one).

        1 MiB messages; 100 messages per second with bursts of 200; 256 connections per
        client address (loopback peers not counted, see :func:`remote_client_host`); 30 s
        for the first message on routes that do not authenticate at the handshake.
        """
        base = cls(
            max_message_size=1 << 20,
            messages_per_second=100.0,
            burst=200,
            max_connections=None,
            max_connections_per_client=256,
            client_key=remote_client_host,
            first_message_timeout=30.0,
            authenticated_exempt=True,
            idle_timeout=None,
            complete=True,
        )
        return dataclasses.replace(base, **overrides)

    @classmethod
    def none(cls) -> WebSocketLimits:
        """No limit at all: ``Tether(limits=WebSocketLimits.none())`` lifts the defaults."""
        return cls(complete=True)

    @property
    def enabled(self) -> bool:
        """True when any limit is set (``WebSocketLimits.none()``: False)."""
        return self.checks_messages or (
            self.max_connections is not None or self.max_connections_per_client is not None
        )

    @property
    def checks_messages(self) -> bool:
        """True when any per-message check or timer is configured."""
        return (
            self.max_message_size is not None
            or self.messages_per_second is not None
            or self.first_message_timeout is not None
            or self.idle_timeout is not None
        )

    @property
    def bucket_size(self) -> float:
        """Token-bucket capacity derived from ``burst`` / ``messages_per_second``."""
        if self.burst is not None:
            return float(self.burst)
        return max(1.0, self.messages_per_second or 1.0)


def message_size(message: Message) -> int:
    """Size in bytes of a ``websocket.receive``/``websocket.send`` payload, cheaply.

    ASCII text (the common case for JSON) is measured without encoding.
    """
    data = message.get("bytes")
    if data is not None:
        return len(data)
    text = message.get("text")
    if text is None:
        return 0
    return len(text) if text.isascii() else len(text.encode("utf-8"))


class GuardClosedError(ClosedByServerError):
    """The application sent on a WebSocket that a middleware already closed.

    An ``OSError`` on purpose: WebSocket wrappers treat an ``OSError`` from ``send`` as a lost
    connection, which is what it is for the application.
    """


class ConnectionGuard:
    """Wrapped ``receive``/``send`` of one WebSocket that a middleware can close from outside.

    Subclasses hook :meth:`on_accept` and :meth:`on_message`. Never raises from :meth:`close`:
    a peer that is already gone is the normal case there.
    """

    __slots__ = (
        "_receive",
        "_send",
        "accepted",
        "closed",
        "close_code",
        "close_reason",
        "_receiving",
        "_cancelled",
    )

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.accepted = False
        self.closed = False
        self.close_code = 1000
        self.close_reason = ""
        self._receiving: asyncio.Task[Any] | None = None
        self._cancelled = False

    def on_accept(self) -> None:
        """Called once when the application accepts the WebSocket."""

    async def on_message(self, message: Message) -> bool:
        """Inspect one ``websocket.receive``; return False to drop it. May call :meth:`close`."""
        return True

    def on_closed(self) -> None:
        """Called once when the connection ends (by anyone); release timers here."""

    def _disconnect(self) -> Message:
        return {
            "type": "websocket.disconnect",
            "code": self.close_code,
            "reason": self.close_reason,
        }

    async def receive(self) -> Message:
        """The application's ``receive``: real events, minus dropped ones, or our disconnect."""
        while True:
            if self.closed:
                return self._disconnect()
            message = await self._receive_raw()
            kind = message["type"]
            if kind == "websocket.receive":
                if await self.on_message(message) and not self.closed:
                    return message
                continue
            if kind == "websocket.disconnect":
                self._finish()
            return message

    async def _receive_raw(self) -> Message:
        task = asyncio.current_task()
        self._receiving = task
        try:
            return await self._receive()
        except asyncio.CancelledError:
            # Our own close() cancels a receive that waits on a dead peer; anything else is real.
            if self._cancelled and task is not None and task.uncancel() == 0:
                self._cancelled = False
                return self._disconnect()
            raise
        finally:
            self._receiving = None

    async def send(self, message: Message) -> None:
        """The application's ``send``; raises :class:`GuardClosedError` after our close."""
        kind = message["type"]
        if self.closed:
            if kind == "websocket.close":
                return
            raise GuardClosedError(
                f"the WebSocket was closed ({self.close_code} {self.close_reason})"
            )
        if kind == "websocket.accept":
            self.accepted = True
            self.on_accept()
        elif kind == "websocket.close":
            self._finish()
        elif kind == "websocket.http.response.body" and not message.get("more_body", False):
            # A denial response is over with its last body part, not with its start: marking
            # it closed earlier made the body raise and the client saw a dropped connection.
            await self._send(message)
            self._finish()
            return
        await self._send(message)

    def _finish(self) -> None:
        if not self.closed:
            self.closed = True
            self.on_closed()

    async def close(self, code: int, reason: str = "") -> None:
        """Close the WebSocket with ``code``/``reason`` and wake the application's receive."""
        if self.closed:
            return
        self.close_code = code
        self.close_reason = reason
        self._finish()
        # The peer or the server may be gone already: then there is nothing left to tell.
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        receiving = self._receiving
        if receiving is not None and receiving is not asyncio.current_task():
            self._cancelled = True
            receiving.cancel()


async def deny(scope: Scope, send: Send, status: int, reason: str, fallback_code: int) -> None:
    """Refuse a WebSocket handshake: an HTTP ``status`` denial when the server supports it.

    Without the ``websocket.http.response`` extension a close before accept is sent instead,
    which servers answer with HTTP 403 (RFC 6455 gives the client no close code then).
    """
    if DENIAL_EXTENSION in (scope.get("extensions") or {}):
        body = reason.encode("utf-8")
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        if status in (429, 503):
            headers.append((b"retry-after", b"5"))
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
    else:
        await send({"type": "websocket.close", "code": fallback_code, "reason": reason})


class Refusal:
    """A handshake refused by a connection cap: the denial status, reason and fallback close."""

    __slots__ = ("status", "reason", "fallback_code")

    def __init__(self, status: int, reason: str, fallback_code: int) -> None:
        self.status, self.reason, self.fallback_code = status, reason, fallback_code

    async def send(self, scope: Scope, send: Send) -> None:
        """Send the denial (see :func:`deny`)."""
        await deny(scope, send, self.status, self.reason, self.fallback_code)


AT_CAPACITY = Refusal(503, "server is at its connection limit", 1013)
TOO_MANY_FROM_CLIENT = Refusal(429, "too many connections from this client", 1008)


class _LimitedConnection(ConnectionGuard):
    """Enforces the per-message limits and the timeouts of one connection."""

    __slots__ = (
        "limits",
        "metrics",
        "scope",
        "_tokens",
        "_stamp",
        "_last_seen",
        "_timer",
        "_got_message",
        "_app_counts",
    )

    def __init__(
        self,
        receive: Receive,
        send: Send,
        limits: WebSocketLimits,
        metrics: TetherMetrics,
        scope: Scope,
    ) -> None:
        super().__init__(receive, send)
        self.scope = scope
        self.limits = limits
        self.metrics = metrics
        self._tokens = limits.bucket_size
        self._stamp = 0.0
        self._last_seen = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._got_message = False
        self._app_counts = False  # the app's own data frames meet the first-message deadline

    def replace_limits(self, limits: WebSocketLimits) -> None:
        """Switch to route-level limits (before accept, by :func:`apply_route_limits`)."""
        self.limits = limits
        self._tokens = limits.bucket_size

    def on_accept(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._stamp = self._last_seen = now
        route = self.scope.get("route")
        first = first_message_timeout(self.limits, route)
        self._app_counts = first is not None and not client_speaks_first(route)
        delay = first if first is not None else self.limits.idle_timeout
        if delay is not None:
            self._timer = loop.call_at(now + delay, self._on_timer)

    async def send(self, message: Message) -> None:
        if self._app_counts and message["type"] == "websocket.send":
            # The app's first data frame ends the first-message wait, as a client frame does
            # (tether.runtime.limits_policy.client_speaks_first says why).
            self._app_counts = False
            if not self._got_message:
                self._first_message(self.limits)
        await super().send(message)

    def on_closed(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        # One timer per connection, re-armed lazily: messages only move _last_seen.
        self._timer = None
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        limits = self.limits
        if not self._got_message and first_message_timeout(limits, self.scope.get("route")):
            self._expire(
                "first_message_timeout", limits.first_message_close_code, "no message in time"
            )
            return
        if limits.idle_timeout is None:
            return
        deadline = self._last_seen + limits.idle_timeout
        if loop.time() >= deadline:
            self._expire("idle_timeout", limits.idle_close_code, "idle timeout")
        else:
            self._timer = loop.call_at(deadline, self._on_timer)

    def _expire(self, limit: str, code: int, reason: str) -> None:
        self.metrics.limit_violations.labels(limit=limit).inc()
        spawn(self.close(code, reason))

    async def on_message(self, message: Message) -> bool:
        limits = self.limits
        if not self._got_message:
            self._first_message(limits)
        size_cap = limits.max_message_size
        if size_cap is not None and message_size(message) > size_cap:
            self.metrics.limit_violations.labels(limit="max_message_size").inc()
            await self.close(1009, "message too big")
            return False
        if limits.messages_per_second is None and limits.idle_timeout is None:
            return True
        now = asyncio.get_running_loop().time()
        self._last_seen = now
        if limits.messages_per_second is None:
            return True
        return await self._take_token(limits, now, message)

    def _first_message(self, limits: WebSocketLimits) -> None:
        # The first-message deadline is met: switch the timer to the idle deadline, if any.
        self._got_message = True
        if self._timer is None or limits.first_message_timeout is None:
            return
        self._timer.cancel()
        self._timer = None
        if limits.idle_timeout is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(loop.time() + limits.idle_timeout, self._on_timer)

    async def _take_token(self, limits: WebSocketLimits, now: float, message: Message) -> bool:
        rate = limits.messages_per_second or 0.0
        self._tokens = min(limits.bucket_size, self._tokens + (now - self._stamp) * rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.metrics.limit_violations.labels(limit="messages_per_second").inc()
        if limits.rate_limit_action == "close":
            # 1013 "try again later", not 1008: clients (tether-channels.js among them) treat
            # a policy close as final, so one burst would have cut a user off for good.
            await self.close(RATE_LIMIT_CLOSE, "rate limit exceeded")
            return False
        await self._send({"type": "websocket.send", "text": rate_limit_frame(rate, message)})
        return False


def rate_limit_frame(rate: float, message: Message) -> str:
    """The error frame that answers a message dropped by the rate limit ("error" mode)."""
    text = f"more than {rate:g} messages per second; message dropped"
    frame = {
        "type": "error",
        "id": _request_id(message),
        "code": "rate_limited",
        "message": text,
        # The channels protocol's error shape, so a client's pending request settles.
        "error": {"code": "rate_limited", "message": text},
    }
    return _json.dumps(frame)


def _request_id(message: Message) -> Any:
    """The ``id`` of a dropped JSON request frame (echoed in the error), else None.

    Parsed only on this rare path; a frame that is not a JSON object has no id.
    """
    text = message.get("text")
    if not text or '"id"' not in text:
        return None
    try:
        frame = _json.loads(text)
    except (ValueError, RecursionError):
        return None
    request_id = frame.get("id") if isinstance(frame, dict) else None
    return request_id if isinstance(request_id, int | str) else None


class LimitsMiddleware:
    """Pure ASGI middleware enforcing :class:`WebSocketLimits` on WebSocket connections.

    HTTP and lifespan scopes pass through untouched. ``overrides`` (used for per-route limits)
    replace fields of an app-level guard's limits when one is present in the scope.
    """

    __slots__ = ("app", "limits", "overrides", "metrics", "open_connections", "_per_client")

    def __init__(
        self,
        app: ASGIApp,
        limits: WebSocketLimits | None = None,
        *,
        overrides: Mapping[str, Any] | None = None,
        metrics: TetherMetrics | None = None,
    ) -> None:
        self.app = app
        self.overrides = dict(overrides or {})
        self.limits = dataclasses.replace(limits or WebSocketLimits(), **self.overrides)
        self.metrics = metrics if metrics is not None else default_metrics()
        self.open_connections = 0
        self._per_client: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run ``app`` for one connection, enforcing the limits on WebSockets."""
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        key = await self._admit(scope, send)
        if key is None:
            return
        try:
            await self._run(scope, receive, send)
        finally:
            self.release(key)

    def admit(self, scope: Scope) -> str | Refusal:
        """Count a new connection in: its client key, or the :class:`Refusal` to answer with.

        A client key of None (the default key's loopback peers) is counted only in the total.
        """
        limits = self.limits
        if limits.max_connections is not None and self.open_connections >= limits.max_connections:
            self.metrics.connections_rejected.labels(reason="max_connections").inc()
            return AT_CAPACITY
        cap = limits.max_connections_per_client
        key = limits.client_key(scope) if cap is not None else ""
        if key is None:
            key = ""
        elif cap is not None and key:
            count = self._per_client.get(key, 0)
            if count >= cap:
                self.metrics.connections_rejected.labels(reason="max_connections_per_client").inc()
                return TOO_MANY_FROM_CLIENT
        self.open_connections += 1
        self._per_client[key] = self._per_client.get(key, 0) + 1
        return key

    async def _admit(self, scope: Scope, send: Send) -> str | None:
        verdict = self.admit(scope)
        if isinstance(verdict, Refusal):
            await verdict.send(scope, send)
            return None
        return verdict

    def release(self, key: str) -> None:
        """Count a connection :meth:`admit` let in out again."""
        self.open_connections -= 1
        left = self._per_client[key] - 1
        if left:
            self._per_client[key] = left
        else:
            del self._per_client[key]

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        outer = scope.get(SCOPE_KEY)
        if isinstance(outer, _LimitedConnection):
            if self.overrides:
                outer.replace_limits(dataclasses.replace(outer.limits, **self.overrides))
            await self.app(scope, receive, send)
            return
        if not self.limits.checks_messages:
            await self.app(scope, receive, send)
            return
        guard = _LimitedConnection(receive, send, self.limits, self.metrics, scope)
        scope[SCOPE_KEY] = guard
        try:
            await self.app(scope, guard.receive, guard.send)
        finally:
            guard.on_closed()
            del scope[SCOPE_KEY]  # scope -> guard -> scope: freed without the cyclic GC


def limits(**overrides: Any) -> Callable[[F], F]:
    """Decorator: per-route limits for a WebSocket endpoint (fields of :class:`WebSocketLimits`).

    Raises ``TypeError`` for an unknown field and ``ValueError`` for a bad value, at decoration.
    """
    WebSocketLimits(**overrides)  # validate now, not on the first connection

    def decorate(endpoint: F) -> F:
        setattr(endpoint, ROUTE_LIMITS_ATTR, dict(overrides))
        return endpoint

    return decorate


def route_limits(endpoint: Any) -> dict[str, Any] | None:
    """The overrides :func:`limits` attached to ``endpoint``, or None."""
    found = getattr(endpoint, ROUTE_LIMITS_ATTR, None)
    return dict(found) if isinstance(found, dict) else None


def limits_overrides(limits: WebSocketLimits) -> dict[str, Any]:
    """The fields of ``limits`` that differ from the defaults, as :func:`limits` overrides.

    So ``WebSocketLimits(max_message_size=n)`` on a route means what ``@limits(max_message_size=n)``
    means: that field replaces the app-level one, the others stay. A complete configuration
    (``recommended(...)``, ``none()``) gives every field: ``limits=WebSocketLimits.none()``
    lifts them all on that route.
    """
    return {
        item.name: getattr(limits, item.name)
        for item in dataclasses.fields(limits)
        if item.name != "complete"
        and (limits.complete or getattr(limits, item.name) != item.default)
    }


def apply_route_limits(
    app: ASGIApp,
    endpoint: Any,
    *,
    limits: WebSocketLimits | None = None,
    metrics: TetherMetrics | None = None,
) -> ASGIApp:
    """Wrap a route's ASGI ``app`` with the limits declared on ``endpoint`` and/or ``limits``.

    Fields set in ``limits`` win over those of the :func:`limits` decorator. Returns ``app``
    unchanged when neither declares anything.
    """
    overrides = route_limits(endpoint) or {}
    if limits is not None:
        overrides.update(limits_overrides(limits))
    if not overrides:
        return app
    return LimitsMiddleware(app, overrides=overrides, metrics=metrics)
