"""The JSON format of the Centrifuge protocol: newline-separated objects in text frames.

Commands and replies are objects keyed by method (``{"id": 1, "subscribe": {...}}``); a
``data`` field carries the application's JSON as it is (not a string). Decoded commands keep
``data`` as the decoded value (the commands encode it once, where it is used); replies carry
it as :class:`Raw` JSON text, embedded as it is.
"""

from __future__ import annotations

from typing import Any

from tether._json import dumps, loads
from tether.channels.backends.base import Publication
from tether.channels.centrifuge.shapes import Raw

__all__ = ["JsonCodec"]


class JsonCodec:
    """Decode command frames and encode replies and pushes as JSON text frames."""

    name = "json"
    unidirectional = False
    binary = False

    def decode(self, frame: str | bytes) -> list[dict[str, Any]]:
        """The commands of one frame; raises ``ValueError`` on anything but JSON objects."""
        text = frame.decode() if isinstance(frame, bytes) else frame
        commands = []
        for line in text.split("\n"):
            if not line.strip():
                continue
            command = loads(line)
            if not isinstance(command, dict):
                raise ValueError("a command must be a JSON object")
            commands.append(command)
        return commands

    def encode(self, replies: list[dict[str, Any]]) -> dict[str, Any]:
        """One ASGI ``websocket.send`` message carrying ``replies``."""
        return {"type": "websocket.send", "text": "\n".join(_dump(r) for r in replies)}

    def empty_reply(self, reply_id: int, method: str) -> dict[str, Any]:
        """The reply ``{"id": reply_id, method: {}}`` (publish, unsubscribe), built directly."""
        return {"type": "websocket.send", "text": f'{{"id":{reply_id},"{method}":{{}}}}'}

    def publication(self, publication: Publication, channel_json: str) -> dict[str, Any]:
        """The ``pub`` push of one publication, built without re-encoding its data."""
        return {
            "type": "websocket.send",
            "text": f'{{"push":{{"channel":{channel_json},"pub":{{"data":{publication.data},'
            f'"offset":{publication.offset}}}}}}}',
        }

    def size(self, message: dict[str, Any]) -> int:
        """Bytes a message occupies in the outbound queue."""
        return len(message["text"])


def _dump(reply: dict[str, Any]) -> str:
    return dumps(_raw_to_json(reply))


def _raw_to_json(value: Any) -> Any:
    if isinstance(value, Raw):
        return loads(str(value)) if value else None
    if isinstance(value, dict):
        return {key: _raw_to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_raw_to_json(item) for item in value]
    return value
