"""Documentation metadata attached to a WebSocket endpoint function.

Lives beside the typed messages (not in :mod:`tether.asyncapi`) because
:func:`~tether.messages.message_handler` fills it from type hints, and the message layer sits
below the AsyncAPI tools.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

__all__ = ["DOC_ATTRIBUTE", "RouteDoc", "get_doc", "set_doc"]

DOC_ATTRIBUTE = "__tether_doc__"


@dataclasses.dataclass(frozen=True, slots=True)
class RouteDoc:
    """What the AsyncAPI document says about one WebSocket route.

    ``receives`` / ``sends`` are message types (a model, or a tagged union whose members each
    become one message); ``reply`` marks request/reply handlers (each received message may be
    answered by one sent message). ``None`` means "not said".
    """

    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    receives: Any = None
    sends: Any = None
    include_in_schema: bool | None = None
    deprecated: bool | None = None
    reply: bool | None = None

    def merged(self, **changes: Any) -> RouteDoc:
        """A copy where every given, non-``None`` value replaces the current one."""
        given = {name: value for name, value in changes.items() if value is not None}
        if isinstance(given.get("tags"), Sequence) and not isinstance(given["tags"], str):
            given["tags"] = tuple(given["tags"])
        return dataclasses.replace(self, **given)

    def with_defaults(self, **defaults: Any) -> RouteDoc:
        """A copy where every field still ``None`` takes the given default."""
        missing = {k: v for k, v in defaults.items() if getattr(self, k) is None}
        return self.merged(**missing)


def get_doc(endpoint: Any) -> RouteDoc | None:
    """The :class:`RouteDoc` attached to ``endpoint`` (a bound method reads its function), if any."""
    doc = getattr(endpoint, DOC_ATTRIBUTE, None)
    return doc if isinstance(doc, RouteDoc) else None


def set_doc(endpoint: Any, doc: RouteDoc) -> None:
    """Attach ``doc`` to ``endpoint``; raises ``TypeError`` if it takes no attributes."""
    try:
        setattr(endpoint, DOC_ATTRIBUTE, doc)
    except AttributeError as exc:
        raise TypeError(f"cannot attach documentation to {endpoint!r}") from exc
