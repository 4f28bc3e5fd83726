"""Build an AsyncAPI 3.0 document from an app's WebSocket routes and channels' namespaces.

Every WebSocket route becomes a channel whose ``address`` is its full path (mount prefixes
included, ``{name:int}`` written ``{name}``), with one parameter per path parameter. What the
route receives becomes a ``receive`` operation and what it sends a ``send`` operation (or the
``reply`` of the receive operation for reply-style handlers); each member of a tagged union is
its own message. Routes are read by duck typing (``path``, ``name``, ``endpoint`` and optional
``summary``, ``description``, ``tags``, ``include_in_schema``, ``deprecated``, ``receives``,
``sends``), falling back to what :func:`~tether.asyncapi.document` or
:func:`~tether.messages.message_handler` attached to the endpoint.

A channels hub (``tether.channels.Channels``) adds one channel per configured namespace,
addressed ``namespace:{channel}``, describing the protocol frames its subscribers get.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from tether.asyncapi.components import Components, safe_key
from tether.asyncapi.metadata import route_doc
from tether.asyncapi.namespaces import find_hubs, namespace_channels
from tether.messages import RouteDoc

__all__ = ["ASYNCAPI_VERSION", "generate", "websocket_routes"]

ASYNCAPI_VERSION = "3.0.0"
_PARAM = re.compile(r"{([a-zA-Z_]\w*)(?::(\w+))?}")

Servers = Mapping[str, Mapping[str, Any]] | Sequence[str | Mapping[str, Any]]


def generate(
    app: Any,
    *,
    title: str | None = None,
    version: str | None = None,
    description: str | None = None,
    servers: Servers | None = None,
    channels: Any = None,
) -> dict[str, Any]:
    """Return the AsyncAPI 3.0 document of ``app`` as a JSON-ready ``dict``.

    ``app`` is a tether app, a router, or anything with ``routes``. ``title``, ``version`` and
    ``description`` default to the app's attributes of those names. ``servers`` is a mapping of
    AsyncAPI Server Objects, or a list of URLs (``"ws://localhost:8000"``) or ``{"url": ...}``
    dicts. ``channels`` is a channels hub (or several) whose namespaces to document; hubs whose
    ``endpoint`` serves a route are found without it.
    """
    components = Components()
    document_channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    hub_routes: list[tuple[Any, str]] = []
    for address, route in websocket_routes(app):
        doc = route_doc(route)
        if doc.include_in_schema is False:
            continue
        key = _unique(safe_key(getattr(route, "name", None) or address), document_channels)
        document_channels[key] = _channel(route, address, doc, components)
        operations.update(_operations(key, doc, components))
        hub_routes.extend((hub, key) for hub in find_hubs(route))
    for hub, via in _hubs(channels, hub_routes):
        for key, channel, channel_operations in namespace_channels(hub, via, components):
            document_channels[_unique(key, document_channels)] = channel
            operations.update(channel_operations)
    return _document(app, title, version, description, servers, components) | {
        "channels": document_channels,
        "operations": operations,
        "components": components.as_dict(),
    }


def websocket_routes(app: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(full path, route)`` for every WebSocket route, entering mounts and routers."""
    for route in _routes_of(app):
        if _is_websocket_route(route):
            yield prefix + route.path, route
            continue
        if getattr(route, "routes", None) is None:
            continue
        # A Host matches on the host name, not the path: its routes keep the prefix.
        child_prefix = prefix if type(route).__name__ == "Host" else prefix + _path(route)
        yield from websocket_routes(route, child_prefix)


def _routes_of(app: Any) -> list[Any]:
    routes = getattr(app, "routes", None)
    if routes is None:
        routes = getattr(getattr(app, "router", None), "routes", None)
    return list(routes or ())


def _path(route: Any) -> str:
    path = getattr(route, "path", "") or ""
    return str(path).rstrip("/")


def _is_websocket_route(route: Any) -> bool:
    if getattr(route, "scope_type", None) == "websocket":
        return True
    return any(cls.__name__ == "WebSocketRoute" for cls in type(route).__mro__)


def _document(
    app: Any,
    title: str | None,
    version: str | None,
    description: str | None,
    servers: Servers | None,
    components: Components,
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "title": title or getattr(app, "title", None) or "tether app",
        "version": str(version or getattr(app, "version", None) or "0.1.0"),
    }
    description = description or getattr(app, "description", None)
    if description:
        info["description"] = description
    document: dict[str, Any] = {"asyncapi": ASYNCAPI_VERSION, "info": info}
    server_objects = _servers(servers if servers is not None else getattr(app, "servers", None))
    if server_objects:
        document["servers"] = server_objects
    document["defaultContentType"] = "application/json"
    return document


def _servers(servers: Any) -> dict[str, Any]:
    if not servers:
        return {}
    if isinstance(servers, Mapping):
        return {safe_key(name): dict(server) for name, server in servers.items()}
    result: dict[str, Any] = {}
    for index, server in enumerate(servers):
        url = server if isinstance(server, str) else server.get("url", "")
        parts = urlsplit(url)
        entry: dict[str, Any] = {"host": parts.netloc, "protocol": parts.scheme or "ws"}
        if parts.path and parts.path != "/":
            entry["pathname"] = parts.path
        if isinstance(server, Mapping) and server.get("description"):
            entry["description"] = server["description"]
        result[f"server{index}" if index else "default"] = entry
    return result


def _channel(route: Any, address: str, doc: RouteDoc, components: Components) -> dict[str, Any]:
    channel: dict[str, Any] = {"address": _PARAM.sub(r"{\1}", address)}
    parameters = {
        name: {"description": f"path parameter ({convertor or 'str'})"}
        for name, convertor in _PARAM.findall(address)
    }
    if parameters:
        channel["parameters"] = parameters
    name = getattr(route, "name", None)
    if name:
        channel["title"] = str(name)
    channel.update(_texts(doc))
    keys = components.messages_for(doc.receives) + components.messages_for(doc.sends)
    if keys:
        channel["messages"] = {key: {"$ref": f"#/components/messages/{key}"} for key in keys}
    channel["bindings"] = {"ws": {"method": "GET", "bindingVersion": "0.1.0"}}
    return channel


def _operations(key: str, doc: RouteDoc, components: Components) -> dict[str, Any]:
    channel_ref = {"$ref": f"#/channels/{key}"}
    receives = _message_refs(key, components.messages_for(doc.receives))
    sends = _message_refs(key, components.messages_for(doc.sends))
    operations: dict[str, Any] = {}
    if receives:
        operation = {"action": "receive", "channel": channel_ref, "messages": receives}
        if doc.reply and sends:
            operation["reply"] = {"channel": channel_ref, "messages": sends}
        operations[f"{key}.receive"] = operation | _texts(doc, with_description=False)
    if sends and not doc.reply:
        operation = {"action": "send", "channel": channel_ref, "messages": sends}
        operations[f"{key}.send"] = operation | _texts(doc, with_description=False)
    return operations


def _message_refs(channel_key: str, keys: list[str]) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{channel_key}/messages/{key}"} for key in keys]


def _texts(doc: RouteDoc, *, with_description: bool = True) -> dict[str, Any]:
    texts: dict[str, Any] = {}
    if doc.summary:
        texts["summary"] = doc.summary
    if doc.description and with_description:
        texts["description"] = doc.description
    if doc.tags:
        texts["tags"] = [{"name": tag} for tag in dict.fromkeys(doc.tags)]
    if doc.deprecated:
        texts["x-deprecated"] = True
    return texts


def _hubs(explicit: Any, found: list[tuple[Any, str]]) -> list[tuple[Any, str | None]]:
    """Each hub once, with the channel key of the route serving its protocol (if any)."""
    hubs: dict[int, tuple[Any, str | None]] = {}
    for hub, via in found:
        hubs.setdefault(id(hub), (hub, via))
    given = explicit if isinstance(explicit, list | tuple) else [explicit]
    for hub in given:
        if hub is not None:
            hubs.setdefault(id(hub), (hub, None))
    return list(hubs.values())


def _unique(key: str, taken: Mapping[str, Any]) -> str:
    candidate, number = key, 1
    while candidate in taken:
        number += 1
        candidate = f"{key}_{number}"
    return candidate
