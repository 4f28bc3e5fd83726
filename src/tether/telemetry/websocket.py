"""One WebSocket connection's span, its close or denial, and its sampled message spans.

:class:`ConnectionTrace` wraps the connection's ``receive`` and ``send`` only when the app was
built with telemetry and the connection is traced, so an untraced socket's messages pass
through nothing of this module. Per message it costs one call and a countdown: message spans
are sampled, one for every N-th message in each direction (``message_span_every``, default
1000), so a fast socket does not make a span per message unless asked (N = 1). A receive span
starts when the message arrives and ends when the app asks for the next one (the time the app
spent on it); a send span covers the send.

Attributes: ``tether.websocket.close_code`` / ``close_reason`` (masked) / ``close_initiator``
(``client`` or ``server``); a handshake refused with a close before accept or with an HTTP
denial response sets ``tether.websocket.denied`` and ``tether.websocket.denial_reason`` (and
``http.response.status_code`` for a denial response). The span is an error for an unhandled
exception, a client gone without a close (1006) and a server close 1011, as in FastAPI.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode

from tether.runtime.logsafe import mask_text
from tether.types import Message, Receive, Send

if TYPE_CHECKING:  # config imports this module when it builds a Telemetry
    from tether.telemetry.config import Telemetry

__all__ = ["ConnectionTrace"]

_ERROR_CODES = frozenset({1006, 1011})


class ConnectionTrace:
    """The traced ``receive``/``send`` pair of one connection and what it has seen."""

    __slots__ = (
        "telemetry",
        "span",
        "context",
        "_receive",
        "_send",
        "every",
        "to_receive",
        "to_send",
        "received",
        "sent",
        "pending",
        "accepted",
        "code",
        "reason",
        "initiator",
        "denial_status",
        "error",
        "span_name",
        "route",
    )

    def __init__(
        self, telemetry: Telemetry, span: Span | None, context: Any, receive: Receive, send: Send
    ) -> None:
        self.telemetry = telemetry
        self.span = span
        self.context = context
        self._receive = receive
        self._send = send
        # A countdown below zero never reaches zero: N = 0 samples nothing at one compare.
        every = telemetry.message_every if span is not None and span.is_recording() else 0
        self.every = every
        self.to_receive = self.to_send = every if every else -1
        self.received = self.sent = 0
        self.pending: Span | None = None
        self.accepted = False
        self.code: int | None = None
        self.reason = ""
        self.initiator = ""
        self.denial_status: int | None = None
        self.error: str | None = None
        self.span_name = "WS"
        self.route: str | None = None

    async def receive(self) -> Message:
        """The app's ``receive``: notes disconnects, samples incoming messages."""
        if self.pending is not None:
            self.pending.end()
            self.pending = None
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.receive":
            self.received += 1
            self.to_receive -= 1
            if self.to_receive == 0:
                self.to_receive = self.every
                self.pending = self._message_span("websocket.receive", self.received, message)
        elif kind == "websocket.disconnect" and self.code is None:
            self.code = int(message.get("code", 1005))
            self.reason = message.get("reason") or ""
            self.initiator = "client"
        return message

    def send(self, message: Message) -> Awaitable[None]:
        """The app's ``send``: notes accept, close and denial, samples outgoing messages.

        A plain function returning the server's awaitable (a sampled message's own
        coroutine): no frame of its own to resume on every message.
        """
        kind = message["type"]
        if kind == "websocket.send":
            self.sent += 1
            self.to_send -= 1
            if self.to_send == 0:
                self.to_send = self.every
                return self._sampled_send(message)
        elif kind == "websocket.accept":
            self.accepted = True
            self._event("websocket.accept", {})
        elif kind == "websocket.close" and self.code is None:
            self.code = int(message.get("code", 1000))
            self.reason = message.get("reason") or ""
            self.initiator = "server"
        elif kind == "websocket.http.response.start":
            self.denial_status = int(message["status"])
        return self._send(message)

    async def _sampled_send(self, message: Message) -> None:
        span = self._message_span("websocket.send", self.sent, message)
        try:
            await self._send(message)
        finally:
            span.end()

    def _message_span(self, name: str, index: int, message: Message) -> Span:
        data = message.get("text")
        size = len(data) if data is not None else len(message.get("bytes") or b"")
        return self.telemetry.tracer.start_span(
            name,
            context=self.context,
            kind=trace.SpanKind.INTERNAL,
            attributes={
                "tether.websocket.message.index": index,
                "messaging.message.body.size": size,
            },
        )

    def _event(self, name: str, attributes: dict[str, Any]) -> None:
        if self.telemetry.events and self.span is not None:
            self.span.add_event(name, attributes)

    def finish(self) -> None:
        """End the connection span with what the connection did."""
        if self.pending is not None:
            self.pending.end()
            self.pending = None
        span = self.span
        if span is None:
            return
        span.update_name(self.span_name)
        if self.route is not None:
            span.set_attribute("http.route", self.route)
        self._close_attributes(span)
        if self.error is None and self.code in _ERROR_CODES:
            self.error = str(self.code)
        if self.error is not None:
            span.set_attribute("error.type", self.error)
            span.set_status(StatusCode.ERROR)
        span.end()

    def _close_attributes(self, span: Span) -> None:
        if self.code is not None:
            span.set_attribute("tether.websocket.close_code", self.code)
            span.set_attribute("tether.websocket.close_initiator", self.initiator)
            if self.reason:
                span.set_attribute("tether.websocket.close_reason", mask_text(self.reason))
            self._event("websocket.close", {"tether.websocket.close_code": self.code})
        if self.denial_status is not None:
            span.set_attribute("http.response.status_code", self.denial_status)
            span.set_attribute("tether.websocket.denied", True)
            span.set_attribute("tether.websocket.denial_reason", f"HTTP {self.denial_status}")
        elif not self.accepted and self.initiator == "server":
            span.set_attribute("tether.websocket.denied", True)
            reason = mask_text(self.reason) if self.reason else f"close {self.code}"
            span.set_attribute("tether.websocket.denial_reason", reason)
        if self.received or self.sent:
            span.set_attribute("tether.websocket.messages_received", self.received)
            span.set_attribute("tether.websocket.messages_sent", self.sent)
