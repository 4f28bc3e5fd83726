"""Channels: pub/sub for WebSockets with presence, history and recovery, in memory or Redis.

See docs/channels.md. The hub is :class:`Channels`; processes without a server publish with
:class:`Emitter`.
"""

from __future__ import annotations

from tether.channels.backends.base import (
    Backend,
    BrokerUnavailable,
    Capabilities,
    HistoryPage,
    Position,
    Publication,
)
from tether.channels.connection import Connection, SubscribeResult
from tether.channels.emitter import Emitter
from tether.channels.errors import (
    ChannelError,
    ChannelForbidden,
    ChannelLimitExceeded,
    ChannelNotFound,
    ChannelsClosed,
    InvalidText,
    PublishRejected,
)
from tether.channels.health import broker_unavailable_handler
from tether.channels.hub import HistoryResult
from tether.channels.metrics import ChannelMetrics
from tether.channels.names import InvalidChannelName
from tether.channels.options import ChannelOptions, ConnectionLimits, SlowConsumerPolicy
from tether.channels.serving import Channels
from tether.channels.subscriber import (
    CLOSE_INSUFFICIENT_STATE,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_SLOW_CONSUMER,
)

__all__ = [
    "CLOSE_INSUFFICIENT_STATE",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_SLOW_CONSUMER",
    "Backend",
    "BrokerUnavailable",
    "Capabilities",
    "ChannelError",
    "ChannelForbidden",
    "ChannelLimitExceeded",
    "ChannelMetrics",
    "ChannelNotFound",
    "ChannelOptions",
    "Channels",
    "ChannelsClosed",
    "Connection",
    "ConnectionLimits",
    "Emitter",
    "HistoryPage",
    "HistoryResult",
    "InvalidChannelName",
    "InvalidText",
    "Position",
    "Publication",
    "PublishRejected",
    "SlowConsumerPolicy",
    "SubscribeResult",
    "broker_unavailable_handler",
]
