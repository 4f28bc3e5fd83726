"""Channel publishes and deliveries as spans, with the trace context carried through the broker.

A hub built with ``Channels(telemetry=...)`` wraps its backend in :class:`TracedBackend`.
Nothing in the backends changes, which is why this works for memory, Redis and any backend to
come: the context travels *inside the publication's data*.

- ``publish`` starts a ``PRODUCER`` span ``"publish <namespace>"`` (a child of whatever is
  current: the request or connection that published) and, when the span is sampled, prefixes
  the JSON text with an envelope: ``"\\x1e" traceparent ["\\n" tracestate] "\\x1f"``. ``\\x1e`` can never start a
  JSON text (only whitespace may precede a value, RFC 8259 section 2), so a traced publication
  is recognised by its first character.
- Every hub, traced or not, removes the envelope from every publication it receives (live,
  from history, or filling a gap) before anything else sees it, so clients never see it
  (:mod:`tether.telemetry.envelope`).
- A live delivery starts a ``CONSUMER`` span ``"deliver <namespace>"`` whose parent is the
  publish span, on whichever node it arrives, and records the fan-out: ``tether.fanout.sockets``
  (local subscribers), ``.sent`` (written at once), ``.queued``, ``.dropped`` and ``.slow``
  (slow-consumer disconnects). A channel fanned out in chunks (more than 1024 local subscribers)
  counts the first chunk only.

Nodes sharing a broker may differ: a node without telemetry delivers a traced node's
publications without the envelope (and without a delivery span).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from tether.telemetry.envelope import ENVELOPE_END, ENVELOPE_START, open_envelope, with_data

if TYPE_CHECKING:  # channels sit a layer above telemetry: their types only, never an import
    from tether.channels.backends.base import (
        Backend,
        BackendListener,
        Position,
        Publication,
    )
    from tether.channels.options import ChannelOptions
    from tether.telemetry.config import Telemetry  # config imports this module

__all__ = ["ENVELOPE_END", "ENVELOPE_START", "TracedBackend", "open_envelope"]


def _seal(data: str) -> str:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    parent = carrier.get("traceparent")
    if parent is None:  # nothing to carry (no valid current span)
        return data
    state = carrier.get("tracestate")
    head = parent + ("\n" + state if state else "")
    return ENVELOPE_START + head + ENVELOPE_END + data


def _namespace(channel: str) -> str:
    # Span names stay low-cardinality: the namespace, not the channel (often per user).
    return channel.partition(":")[0]


class TracedBackend:
    """A :class:`Backend` seen through telemetry: publish spans, envelopes, delivery spans.

    Every call not listed here goes to the wrapped backend unchanged.
    """

    def __init__(self, backend: Backend, telemetry: Telemetry, hub: Any) -> None:
        self.backend = backend
        self.telemetry = telemetry
        self.hub = hub

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    async def start(self, listener: BackendListener) -> None:
        """Start the wrapped backend with a listener that opens envelopes."""
        await self.backend.start(_TracedListener(listener, self.telemetry, self.hub))

    async def publish(self, channel: str, data: str, options: ChannelOptions) -> Position:
        """Publish inside a ``PRODUCER`` span, the context sealed into the data."""
        attributes: dict[str, str | int] = {
            "messaging.system": "tether",
            "messaging.operation.type": "send",
            "messaging.destination.name": channel,
            "messaging.message.body.size": len(data),
        }
        with self.telemetry.tracer.start_as_current_span(
            f"publish {_namespace(channel)}", kind=SpanKind.PRODUCER, attributes=attributes
        ) as span:
            # An unsampled publish carries nothing: its deliveries would not be sampled either
            # (parent-based sampling), and no node then pays for a span of it.
            sealed = _seal(data) if span.is_recording() else data
            position = await self.backend.publish(channel, sealed, options)
            span.set_attribute("messaging.message.id", f"{position.epoch}:{position.offset}")
            return position


class _TracedListener:
    """Opens envelopes of live publications and times their fan-out in a delivery span."""

    __slots__ = ("listener", "telemetry", "hub")

    def __init__(self, listener: BackendListener, telemetry: Telemetry, hub: Any) -> None:
        self.listener = listener
        self.telemetry = telemetry
        self.hub = hub

    def on_publication(self, publication: Publication) -> None:
        headers, body = open_envelope(publication.data)
        if not headers:
            self.listener.on_publication(publication)
            return
        plain = with_data(publication, body)
        parent = propagate.extract(headers)
        span = self.telemetry.tracer.start_span(
            f"deliver {_namespace(plain.channel)}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "tether",
                "messaging.operation.type": "process",
                "messaging.destination.name": plain.channel,
                "messaging.message.id": f"{plain.epoch}:{plain.offset}",
                "tether.node_id": str(getattr(self.hub, "node_id", "")),
            },
        )
        with trace.use_span(span, end_on_exit=True):
            local = self.hub.router.channels.get(plain.channel)
            sockets = len(local.subscribers) if local is not None else 0
            before = _fanout_counters(self.hub)
            self.listener.on_publication(plain)
            _record_fanout(span, sockets, _fanout_counters(self.hub), before)

    def on_presence_event(self, channel: str, kind: str, client_id: str, info: str) -> None:
        self.listener.on_presence_event(channel, kind, client_id, info)

    def on_resubscribed(self) -> None:
        self.listener.on_resubscribed()

    def on_broker_state(self, available: bool) -> None:
        self.listener.on_broker_state(available)


def _fanout_counters(hub: Any) -> tuple[int, int, int]:
    metrics = hub.metrics
    return (
        metrics.delivered,
        metrics.dropped_oldest + metrics.dropped_newest,
        metrics.slow_disconnects,
    )


def _record_fanout(
    span: Any, sockets: int, after: tuple[int, int, int], before: tuple[int, int, int]
) -> None:
    sent, dropped, slow = (now - then for now, then in zip(after, before, strict=True))
    span.set_attributes(  # one call: the SDK takes a lock per call
        {
            "tether.fanout.sockets": sockets,
            "tether.fanout.sent": sent,
            "tether.fanout.queued": max(sockets - sent - dropped - slow, 0),
            "tether.fanout.dropped": dropped,
            "tether.fanout.slow": slow,
        }
    )
