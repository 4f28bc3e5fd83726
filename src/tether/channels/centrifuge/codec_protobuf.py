"""The Protobuf format of the Centrifuge protocol (the ``centrifuge-protobuf`` subprotocol).

A binary frame holds length-delimited messages (a varint length, then a ``Command`` or
``Reply``). Messages are converted to and from the same dicts the JSON format produces, with
each ``data`` field as JSON text (its bytes); the message classes are generated from
``tether_centrifuge.proto``. Needs the ``protobuf`` package (extra ``centrifuge``).
"""

from __future__ import annotations

from typing import Any

from tether.channels.backends.base import Publication
from tether.channels.centrifuge.shapes import Raw
from tether.exceptions import MissingDependencyError

__all__ = ["ProtobufCodec"]


def _messages() -> Any:
    try:
        from tether.channels.centrifuge import tether_centrifuge_pb2
    except ImportError as exc:  # protobuf is missing (or too old for the generated module)
        raise MissingDependencyError("protobuf", "centrifuge") from exc
    return tether_centrifuge_pb2


class ProtobufCodec:
    """Decode command frames and encode replies and pushes as Protobuf binary frames."""

    name = "protobuf"
    unidirectional = False
    binary = True

    def __init__(self) -> None:
        self.pb = _messages()
        from google.protobuf.internal.decoder import _DecodeVarint
        from google.protobuf.internal.encoder import _VarintBytes

        self._read_varint = _DecodeVarint
        self._varint = _VarintBytes

    def decode(self, frame: str | bytes) -> list[dict[str, Any]]:
        """The commands of one frame; raises ``ValueError`` on a malformed frame."""
        data = frame.encode() if isinstance(frame, str) else frame
        commands, position = [], 0
        try:
            while position < len(data):
                length, position = self._read_varint(data, position)
                end = position + length
                if end > len(data):
                    raise ValueError("truncated command")
                command = self.pb.Command()
                command.ParseFromString(data[position:end])
                commands.append(_to_dict(command))
                position = end
        except ValueError:
            raise
        except Exception as exc:  # protobuf's DecodeError and friends
            raise ValueError(f"not a Protobuf command frame: {exc}") from exc
        return commands

    def encode(self, replies: list[dict[str, Any]]) -> dict[str, Any]:
        """One ASGI ``websocket.send`` message carrying ``replies``."""
        parts = []
        for reply in replies:
            message = self.pb.Reply()
            _fill(message, reply)
            body = message.SerializeToString()
            parts.append(self._varint(len(body)))
            parts.append(body)
        return {"type": "websocket.send", "bytes": b"".join(parts)}

    def empty_reply(self, reply_id: int, method: str) -> dict[str, Any]:
        """The reply ``{"id": reply_id, method: {}}`` (publish, unsubscribe), built directly."""
        reply = self.pb.Reply(id=reply_id)
        getattr(reply, method).SetInParent()
        body = reply.SerializeToString()
        return {"type": "websocket.send", "bytes": self._varint(len(body)) + body}

    def publication(self, publication: Publication, channel_json: str) -> dict[str, Any]:
        """The ``pub`` push of one publication."""
        reply = self.pb.Reply()
        push = reply.push
        push.channel = publication.channel
        push.pub.data = publication.data.encode()
        push.pub.offset = publication.offset
        body = reply.SerializeToString()
        return {"type": "websocket.send", "bytes": self._varint(len(body)) + body}

    def size(self, message: dict[str, Any]) -> int:
        """Bytes a message occupies in the outbound queue."""
        return len(message["bytes"])


def _to_dict(message: Any) -> dict[str, Any]:
    """A message as a dict of its set fields; bytes ``data`` becomes JSON text."""
    result: dict[str, Any] = {}
    for field, value in message.ListFields():
        name = field.name
        if field.type == field.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                entry_value = field.message_type.fields_by_name["value"]
                if entry_value.type == entry_value.TYPE_MESSAGE:
                    result[name] = {key: _to_dict(item) for key, item in value.items()}
                else:
                    result[name] = dict(value)
            elif _repeated(field):
                result[name] = [_to_dict(item) for item in value]
            else:
                result[name] = _to_dict(value)
        elif field.type == field.TYPE_BYTES:
            result[name] = Raw(value.decode("utf-8", "replace"))
        else:
            result[name] = value
    return result


def _repeated(field: Any) -> bool:
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return bool(field.label == field.LABEL_REPEATED)


def _fill(message: Any, values: dict[str, Any]) -> None:
    """Set ``message``'s fields from a reply dict (the inverse of :func:`_to_dict`)."""
    fields = message.DESCRIPTOR.fields_by_name
    for name, value in values.items():
        field = fields.get(name)
        if field is None or value is None:
            continue
        if isinstance(value, str) and field.type == field.TYPE_BYTES:
            setattr(message, name, value.encode())
        elif isinstance(value, dict):
            if field.type == field.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
                _fill_map(getattr(message, name), field, value)
            else:
                target = getattr(message, name)
                target.SetInParent()
                _fill(target, value)
        elif isinstance(value, list):
            target = getattr(message, name)
            for item in value:
                _fill(target.add(), item)
        else:
            setattr(message, name, value)


def _fill_map(target: Any, field: Any, values: dict[str, Any]) -> None:
    entry_value = field.message_type.fields_by_name["value"]
    for key, item in values.items():
        if entry_value.type == entry_value.TYPE_MESSAGE:
            _fill(target[key], item)
        else:
            target[key] = item
