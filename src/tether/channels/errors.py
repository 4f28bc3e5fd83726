"""Errors raised by channels; each maps to one error code of the browser protocol."""

from __future__ import annotations

from tether.channels.backends.base import BrokerUnavailable
from tether.exceptions import StartupRefused, TetherError

__all__ = [
    "BrokerUnreachable",
    "ChannelError",
    "ChannelForbidden",
    "ChannelLimitExceeded",
    "ChannelNotFound",
    "ChannelsClosed",
    "InvalidText",
    "ProcessSplit",
    "PublishRejected",
]


class ChannelError(TetherError):
    """Base of channel errors; ``code`` is the protocol's error code."""

    code = "error"


class ChannelForbidden(ChannelError):
    """The ``authorize`` hook (or ``client_publish=False``) refused the action."""

    code = "forbidden"


class ChannelLimitExceeded(ChannelError):
    """Too many subscribers, channels for one connection, or a message too large."""

    code = "limit_exceeded"


class ChannelNotFound(ChannelError):
    """Unsubscribe from a channel the connection is not subscribed to."""

    code = "not_subscribed"


class ChannelsClosed(ChannelError):
    """The hub was stopped; nothing can be published or subscribed any more."""

    code = "closed"


class PublishRejected(ChannelError):
    """Raised by a ``validate`` hook to refuse a client publish; the message goes to the client.

    The browser protocol answers with an ``error`` frame of code ``rejected`` whose message is
    this exception's text, so write it for the person using the client.
    """

    code = "rejected"


class InvalidText(ChannelError, ValueError):
    """Published text is not valid Unicode (a lone surrogate): no socket could carry it.

    Refused before it reaches the broker, so it never enters history or another connection.
    """

    code = "bad_request"


def check_text(text: str) -> None:
    """Raise :class:`InvalidText` when ``text`` cannot be encoded as UTF-8 (cheap for ASCII)."""
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise InvalidText("the publication holds a lone surrogate") from None


class BrokerUnreachable(StartupRefused, BrokerUnavailable):
    """The broker did not answer when the hub started; the message names its address."""


class ProcessSplit(StartupRefused):
    """A broker that lives in one process, in an app served by several worker processes."""
