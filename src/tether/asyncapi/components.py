"""The ``components`` section: one message and one schema per declared message type.

Schemas come from the type's adapter (pydantic, msgspec or dataclass) and are adjusted to the
AsyncAPI Schema Object, a superset of JSON Schema draft 07: nested definitions are hoisted into
``components.schemas`` and an OpenAPI-style ``discriminator`` object becomes the property name
string AsyncAPI expects.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from tether.messages import adapter_for, message_types

__all__ = ["Components", "safe_key"]

_UNSAFE = re.compile(r"[^\w.\-]")
_CONTENT_TYPES = {str: "text/plain", bytes: "application/octet-stream"}


def safe_key(text: str) -> str:
    """``text`` reduced to the characters AsyncAPI allows in a component or channel key."""
    return _UNSAFE.sub("_", text).strip("_") or "unnamed"


class Components:
    """Collects messages and schemas while the document is built; each type is added once."""

    def __init__(self) -> None:
        self.messages: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, Any] = {}
        self._names: dict[Any, str] = {}

    def messages_for(self, declared: Any) -> list[str]:
        """Add every message type ``declared`` stands for; return their component keys."""
        if declared is None:
            return []
        return [self._message(member) for member in message_types(declared)]

    def add_message(self, key: str, message: dict[str, Any]) -> str:
        """Add a hand-written message object (channels' protocol frames) under ``key``."""
        self.messages.setdefault(key, message)
        return key

    def as_dict(self) -> dict[str, Any]:
        """The ``components`` object (empty sections left out)."""
        sections = {"schemas": self.schemas, "messages": self.messages}
        return {name: dict(sorted(value.items())) for name, value in sections.items() if value}

    def _message(self, tp: Any) -> str:
        if tp in self._names:
            return self._names[tp]
        key = self._unique(safe_key(getattr(tp, "__name__", None) or repr(tp)))
        self._names[tp] = key
        message: dict[str, Any] = {
            "name": key,
            "title": key,
            "contentType": _CONTENT_TYPES.get(tp, "application/json"),
            "payload": self._payload(tp, key),
        }
        summary = _own_doc(tp)
        if summary:
            message["summary"] = summary.splitlines()[0]
            message["description"] = summary
        self.messages[key] = message
        return key

    def _payload(self, tp: Any, key: str) -> dict[str, Any]:
        schema, definitions = adapter_for(tp).json_schema()
        for name, definition in definitions.items():
            self.schemas.setdefault(name, for_asyncapi(definition))
        schema = dict(for_asyncapi(schema))
        if "$ref" in schema or schema.get("type") != "object":
            return schema
        self.schemas.setdefault(key, schema)
        return {"$ref": f"#/components/schemas/{key}"}

    def _unique(self, key: str) -> str:
        candidate, number = key, 1
        while candidate in self.messages:
            number += 1
            candidate = f"{key}_{number}"
        return candidate


def for_asyncapi(schema: Any) -> Any:
    """A copy of a JSON schema adjusted to the AsyncAPI Schema Object (see module docstring)."""
    if isinstance(schema, list):
        return [for_asyncapi(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    adjusted = {key: for_asyncapi(value) for key, value in schema.items() if key != "$defs"}
    discriminator = adjusted.get("discriminator")
    if isinstance(discriminator, dict):
        adjusted["discriminator"] = discriminator.get("propertyName", "type")
    return adjusted


def _own_doc(tp: Any) -> str | None:
    """The type's own docstring, not an inherited or generated one."""
    doc = getattr(tp, "__dict__", {}).get("__doc__")
    if not isinstance(doc, str) or doc.startswith(f"{getattr(tp, '__name__', '')}("):
        return None  # dataclasses generate "Name(field: type, ...)" when undocumented
    return inspect.cleandoc(doc)
