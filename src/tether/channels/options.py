"""Options for channels and connections: small frozen dataclasses, checked once at construction."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from tether.exceptions import ConfigurationError

__all__ = [
    "Action",
    "AuthorizeHook",
    "ChannelOptions",
    "ConnectionLimits",
    "SlowConsumerPolicy",
    "ValidateHook",
]

Action = Literal["subscribe", "publish"]
# The first argument of a hook is the tether.channels.connection.Connection. It is typed Any
# here because options sit below connections (a connection's queue reads its options); a hook
# annotated with Connection is still accepted.
AuthorizeHook = Callable[[Any, str, Action], "bool | Awaitable[bool]"]
"""``(conn, channel, action) -> bool`` or an awaitable of it."""
ValidateHook = Callable[[Any, str, Any], Any]
"""``(conn, channel, data) -> data`` or an awaitable of it; raise ``PublishRejected`` to refuse."""


class SlowConsumerPolicy(enum.Enum):
    """What happens when a connection's outbound queue is full.

    ``DISCONNECT`` closes the connection with code 4001 so the client reconnects and recovers;
    the two drop policies discard a frame and count it in the hub's metrics.
    """

    DISCONNECT = "disconnect"
    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"


@dataclass(frozen=True, slots=True)
class ChannelOptions:
    """Options shared by every channel of one namespace.

    ``authorize(conn, channel, action)`` decides whether a protocol client may subscribe or
    publish; ``validate(conn, channel, data)`` sees the data of every allowed client publish
    and returns the data to publish (the same or transformed; sync or async). Raising
    :class:`~tether.channels.errors.PublishRejected` (or ``ValueError``) from it refuses the
    publish with an ``error`` frame that carries the exception's text.

    Raises :class:`~tether.exceptions.ConfigurationError` on impossible values.
    """

    history_size: int = 0
    history_ttl: float = 300.0
    meta_ttl: float = 86400.0
    presence: bool = False
    join_leave: bool = False
    slow_consumer: SlowConsumerPolicy = SlowConsumerPolicy.DISCONNECT
    max_subscribers: int = 0
    client_publish: bool = False
    recovery_limit: int = 1000
    authorize: AuthorizeHook | None = None
    validate: ValidateHook | None = None

    def __post_init__(self) -> None:
        if self.history_size < 0 or self.max_subscribers < 0 or self.recovery_limit < 0:
            raise ConfigurationError(
                "history_size, max_subscribers and recovery_limit must be >= 0"
            )
        if self.history_ttl <= 0 or self.meta_ttl <= 0:
            raise ConfigurationError("history_ttl and meta_ttl must be positive seconds")
        if self.meta_ttl < self.history_ttl:
            # Metadata outliving the data is what lets a client learn its history is gone.
            raise ConfigurationError("meta_ttl must be at least history_ttl")
        if not isinstance(self.slow_consumer, SlowConsumerPolicy):
            raise ConfigurationError("slow_consumer must be a SlowConsumerPolicy")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Per-connection limits: outbound queue size, write timeout, channels, message size."""

    max_queue_bytes: int = 1 << 20
    max_queue_messages: int = 4096
    write_timeout: float = 10.0
    max_channels: int = 128
    max_message_bytes: int = 65536

    def __post_init__(self) -> None:
        if min(self.max_queue_bytes, self.max_queue_messages, self.max_channels) <= 0:
            raise ConfigurationError("connection limits must be positive")
        if self.write_timeout <= 0 or self.max_message_bytes <= 0:
            raise ConfigurationError("write_timeout and max_message_bytes must be positive")
