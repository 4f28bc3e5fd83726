"""Channels' namespaces in the AsyncAPI document (read by duck typing from a hub).

A hub is any object with ``namespaces`` and ``publish`` (``tether.channels.Channels``). Each
configured namespace becomes a channel addressed ``namespace:{channel}``; its messages are the
protocol frames subscribers get (``pub``, and ``join`` / ``leave`` when the namespace reports
them) and, when clients may publish, the ``publish`` frame. The namespace's options go into the
``x-tether-channel-options`` extension.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from typing import Any

from tether.asyncapi.components import Components, safe_key

__all__ = ["find_hubs", "namespace_channels"]

_STRING = {"type": "string"}
_FRAMES: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "ChannelPublication": (
        "A message published to the channel, with its offset and epoch.",
        {"channel": _STRING, "offset": {"type": "integer"}, "epoch": _STRING, "data": {}},
        ["type", "channel", "offset", "epoch", "data"],
    ),
    "ChannelJoin": (
        "A client joined the channel (presence).",
        {"channel": _STRING, "client": _STRING, "info": {}},
        ["type", "channel", "client"],
    ),
    "ChannelLeave": (
        "A client left the channel (presence).",
        {"channel": _STRING, "client": _STRING, "info": {}},
        ["type", "channel", "client"],
    ),
    "ChannelPublish": (
        "A client publishes to the channel; the reply carries the offset and epoch.",
        {"id": {}, "channel": _STRING, "data": {}},
        ["type", "channel", "data"],
    ),
}
_FRAME_TYPES = {
    "ChannelPublication": "pub",
    "ChannelJoin": "join",
    "ChannelLeave": "leave",
    "ChannelPublish": "publish",
}


def find_hubs(route: Any) -> Iterator[Any]:
    """The hub whose bound ``endpoint`` serves ``route``, if it is one."""
    owner = getattr(getattr(route, "endpoint", None), "__self__", None)
    if _is_hub(owner):
        yield owner


def namespace_channels(
    hub: Any, via: str | None, components: Components
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(channel key, channel, operations)`` for every namespace configured on ``hub``."""
    result = []
    for name, options in _namespaces(hub):
        key = safe_key(f"namespace.{name}")
        sent, received = _frames(options)
        channel: dict[str, Any] = {
            "address": f"{name}:{{channel}}",
            "title": f"{name} namespace",
            "parameters": {"channel": {"description": f"channel name inside {name!r}"}},
            "messages": {frame: _add_frame(frame, components) for frame in sent + received},
            "x-tether-channel-options": _options_json(options),
        }
        if via:
            channel["description"] = f"Delivered over the WebSocket of channel `{via}`."
        operations = {f"{key}.send": _operation("send", key, sent)}
        if received:
            operations[f"{key}.receive"] = _operation("receive", key, received)
        result.append((key, channel, operations))
    return result


def _is_hub(candidate: Any) -> bool:
    return hasattr(candidate, "namespaces") and callable(getattr(candidate, "publish", None))


def _namespaces(hub: Any) -> list[tuple[str, Any]]:
    namespaces = getattr(hub, "namespaces", None)
    items = getattr(namespaces, "items", None)
    if not callable(items):
        return []
    return sorted(items(), key=lambda item: item[0])


def _frames(options: Any) -> tuple[list[str], list[str]]:
    sent = ["ChannelPublication"]
    if getattr(options, "join_leave", False):
        sent += ["ChannelJoin", "ChannelLeave"]
    received = ["ChannelPublish"] if getattr(options, "client_publish", False) else []
    return sent, received


def _add_frame(frame: str, components: Components) -> dict[str, str]:
    summary, properties, required = _FRAMES[frame]
    payload = {
        "type": "object",
        "properties": {"type": {"const": _FRAME_TYPES[frame]}} | properties,
        "required": required,
    }
    message = {"name": frame, "title": frame, "summary": summary, "payload": payload}
    key = components.add_message(frame, message)
    return {"$ref": f"#/components/messages/{key}"}


def _operation(action: str, key: str, frames: list[str]) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{key}"},
        "messages": [{"$ref": f"#/channels/{key}/messages/{frame}"} for frame in frames],
    }


def _options_json(options: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(options):
        return {}
    result: dict[str, Any] = {}
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        if isinstance(value, enum.Enum):
            value = value.value
        elif callable(value):
            value = True  # a hook is configured; its code is not documentation
        elif value is not None and not isinstance(value, bool | int | float | str):
            value = str(value)
        if value is not None:
            result[field.name] = value
    return result
