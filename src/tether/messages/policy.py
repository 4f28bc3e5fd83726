"""What happens when a received frame does not fit the declared message type.

The client always hears about it: either an error frame it can act on, or a close frame whose
code says why (RFC 6455 section 7.4.1: 1003 unsupported data, 1007 invalid payload data, 1008
policy violation). A socket never goes quiet on a bad message.
"""

from __future__ import annotations

import enum
from typing import Any, Protocol

from tether import _json
from tether.messages.errors import MessageValidationError

__all__ = ["InvalidMessagePolicy", "MessageSocket", "error_frame", "handle_invalid"]

# RFC 6455 section 5.5.1: a close frame's reason is at most 123 bytes of UTF-8.
MAX_REASON_BYTES = 123


class MessageSocket(Protocol):
    """The part of :class:`tether.websockets.WebSocket` typed messages use."""

    async def receive(self) -> Any:
        """Return the next ASGI message."""

    async def send_text(self, data: str) -> None:
        """Send a text frame."""

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Send a close frame."""


class InvalidMessagePolicy(enum.Enum):
    """How to answer a frame that is not a valid message.

    - ``ERROR_REPLY`` (default): send ``{"type": "error", "code": "invalid_message",
      "errors": [...]}`` and keep reading;
    - ``CLOSE_INVALID_DATA``: close with 1007 (invalid payload data);
    - ``CLOSE_UNSUPPORTED_DATA``: close with 1003 (unsupported data);
    - ``CLOSE_POLICY_VIOLATION``: close with 1008 (policy violation);
    - ``RAISE``: raise :class:`MessageValidationError` to the caller, which decides.

    The close policies put the first error in the close reason (cut to 123 bytes).
    """

    ERROR_REPLY = "error_reply"
    CLOSE_INVALID_DATA = 1007
    CLOSE_UNSUPPORTED_DATA = 1003
    CLOSE_POLICY_VIOLATION = 1008
    RAISE = "raise"

    @property
    def close_code(self) -> int | None:
        """The close code this policy sends, or ``None`` if it does not close."""
        return self.value if isinstance(self.value, int) else None


def error_frame(error: MessageValidationError) -> str:
    """The JSON text of the error frame sent back under ``ERROR_REPLY``."""
    return _json.dumps({"type": "error", "code": "invalid_message", "errors": error.errors()})


async def handle_invalid(
    websocket: MessageSocket, error: MessageValidationError, policy: InvalidMessagePolicy
) -> int | None:
    """Apply ``policy`` to ``error``: return the close code sent, or ``None`` to keep reading.

    Raises ``error`` itself under ``RAISE``.
    """
    if policy is InvalidMessagePolicy.ERROR_REPLY:
        await websocket.send_text(error_frame(error))
        return None
    code = policy.close_code
    if code is None:
        raise error
    await websocket.close(code, close_reason(error))
    return code


def close_reason(error: MessageValidationError) -> str:
    """A close reason naming the first error, cut to fit in a close frame."""
    reason = str(error)
    encoded = reason.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return reason
    return encoded[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."
