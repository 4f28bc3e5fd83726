"""Numbers of the Centrifuge client protocol: error codes, close codes, unsubscribe codes.

The numbers are the protocol's, so an SDK reacts as it does with any Centrifuge server:
close codes 3000-3499 and 4000-4499 make it reconnect, 3500-3999 and 4500-4999 do not;
an unsubscribe push with code >= 2500 makes it subscribe again, below 2500 it stays
unsubscribed; an error reply with a code below 100 or ``temporary`` is retried.
"""

from __future__ import annotations

from tether.channels.errors import ChannelError

__all__ = ["CentrifugeError", "Close", "ErrorCode", "UnsubscribeCode"]


class ErrorCode:
    """Error codes of command replies (``{"error": {"code": ..., "message": ...}}``)."""

    INTERNAL = 100
    UNAUTHORIZED = 101
    UNKNOWN_CHANNEL = 102
    PERMISSION_DENIED = 103
    METHOD_NOT_FOUND = 104
    ALREADY_SUBSCRIBED = 105
    LIMIT_EXCEEDED = 106
    BAD_REQUEST = 107
    NOT_AVAILABLE = 108
    TOKEN_EXPIRED = 109
    EXPIRED = 110
    TOO_MANY_REQUESTS = 111
    UNRECOVERABLE_POSITION = 112


class Close:
    """WebSocket close codes and their reasons; below 3500 the SDKs reconnect."""

    SHUTDOWN = (3001, "shutdown")
    SERVER_ERROR = (3004, "internal server error")
    EXPIRED = (3005, "connection expired")
    SLOW = (3008, "slow")
    INSUFFICIENT_STATE = (3010, "insufficient state")
    FORCE_RECONNECT = (3011, "force reconnect")
    NO_PONG = (3012, "no pong")
    INVALID_TOKEN = (3500, "invalid token")
    BAD_REQUEST = (3501, "bad request")
    STALE = (3502, "stale")
    FORCE_NO_RECONNECT = (3503, "force disconnect")
    CHANNEL_LIMIT = (3505, "channel limit")
    PERMISSION_DENIED = (3507, "permission denied")


class UnsubscribeCode:
    """Codes of the ``unsubscribe`` push: >= 2500 asks the SDK to subscribe again."""

    SERVER = 2000
    INSUFFICIENT = 2500
    EXPIRED = 2501


class CentrifugeError(ChannelError):
    """An error reply with a protocol code; raise it from an RPC handler to answer with it.

    ``temporary`` errors are retried by the SDKs.
    """

    code = "centrifuge"

    def __init__(self, code: int, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.number = code
        self.message = message
        self.temporary = temporary

    def reply(self) -> dict[str, object]:
        """The ``error`` object of a reply."""
        error: dict[str, object] = {"code": self.number, "message": self.message}
        if self.temporary:
            error["temporary"] = True
        return error
