"""Counters and gauges of a hub, cheap enough to bump on the hot path."""

from __future__ import annotations

__all__ = ["ChannelMetrics"]


class ChannelMetrics:
    """Plain integer attributes, one per counter or gauge; :meth:`snapshot` copies them.

    Counters only grow: ``published``, ``delivered`` (frames written to sockets),
    ``dropped_oldest``, ``dropped_newest``, ``slow_disconnects`` (connections closed 4001: queue full or write timeout, one count
    per connection), ``write_timeouts`` (those of them closed by a write timeout: a subset,
    not to be added to ``slow_disconnects``), ``gaps_detected``, ``gaps_filled``, ``insufficient_state`` (subscribers
    told their stream has a hole), ``broker_reconnects``, ``recovered``, ``not_recovered``,
    ``unrouted`` (broker messages for channels without local subscribers),
    ``duplicates_skipped``, ``protocol_errors``, ``invalid_text`` (outbound frames holding a
    lone surrogate, sent with U+FFFD in its place). Gauges go up and down: ``connections``,
    ``subscriptions``, ``channels``; ``queued_bytes_high_water`` is the largest outbound queue
    seen on any connection.
    """

    __slots__ = (
        "published",
        "delivered",
        "dropped_oldest",
        "dropped_newest",
        "slow_disconnects",
        "write_timeouts",
        "gaps_detected",
        "gaps_filled",
        "insufficient_state",
        "broker_reconnects",
        "recovered",
        "not_recovered",
        "unrouted",
        "duplicates_skipped",
        "protocol_errors",
        "invalid_text",
        "connections",
        "subscriptions",
        "channels",
        "queued_bytes_high_water",
    )

    published: int
    delivered: int
    dropped_oldest: int
    dropped_newest: int
    slow_disconnects: int
    write_timeouts: int
    gaps_detected: int
    gaps_filled: int
    insufficient_state: int
    broker_reconnects: int
    recovered: int
    not_recovered: int
    unrouted: int
    duplicates_skipped: int
    protocol_errors: int
    invalid_text: int
    connections: int
    subscriptions: int
    channels: int
    queued_bytes_high_water: int

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def snapshot(self) -> dict[str, int]:
        """Return every counter and gauge as a new dict (for an exporter or a health page)."""
        return {name: getattr(self, name) for name in self.__slots__}
