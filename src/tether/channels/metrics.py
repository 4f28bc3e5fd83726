"""Counters and gauges of a hub, cheap enough to bump on the hot path."""

from __future__ import annotations

__all__ = ["ChannelMetrics"]

_COUNTERS = (
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
)
_GAUGES = ("connections", "subscriptions", "channels", "queued_bytes_high_water")


class ChannelMetrics:
    """Plain integer attributes, one per counter or gauge; :meth:`snapshot` copies them.

    Counters only grow; gauges (``connections``, ``subscriptions``, ``channels``) go up and
    down; ``queued_bytes_high_water`` is the largest outbound queue seen on any connection.
    """

    __slots__ = _COUNTERS + _GAUGES

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def snapshot(self) -> dict[str, int]:
        """Return every counter and gauge as a new dict (for an exporter or a health page)."""
        return {name: getattr(self, name) for name in self.__slots__}
