"""Route metadata: the ``document`` decorator and how a route's documentation is resolved."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tether.messages import RouteDoc, get_doc, set_doc

__all__ = ["document", "route_doc"]

F = TypeVar("F", bound=Callable[..., Any])

_ROUTE_FIELDS = ("summary", "description", "tags", "receives", "sends", "deprecated")


def document(
    *,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str | enum.Enum] | None = None,
    receives: Any = None,
    sends: Any = None,
    include_in_schema: bool = True,
    deprecated: bool | None = None,
) -> Callable[[F], F]:
    """Attach AsyncAPI metadata to a WebSocket endpoint; returns the endpoint unchanged.

    ``receives`` / ``sends`` are message types (a model, or a tagged union whose members each
    become one message). Stacks with :func:`~tether.messages.message_handler` in either order;
    values given here win over the handler's type hints. Raises ``TypeError`` when the endpoint
    cannot carry attributes.
    """

    def decorate(endpoint: F) -> F:
        doc = get_doc(endpoint) or RouteDoc()
        set_doc(
            endpoint,
            doc.merged(
                summary=summary,
                description=description,
                tags=_tag_names(tags),
                receives=receives,
                sends=sends,
                include_in_schema=None if include_in_schema else False,
                deprecated=deprecated,
            ),
        )
        return endpoint

    return decorate


def route_doc(route: Any) -> RouteDoc:
    """The documentation of ``route``: attributes of the route win over the endpoint's.

    Empty values on the route (``""``, ``[]``) count as "not said". The description falls back
    to the endpoint's docstring, as the peer does for HTTP routes.
    """
    endpoint = getattr(route, "endpoint", None)
    doc = get_doc(endpoint) or RouteDoc()
    from_route = {name: getattr(route, name, None) or None for name in _ROUTE_FIELDS}
    from_route["tags"] = _tag_names(from_route["tags"])
    doc = doc.merged(**from_route, include_in_schema=getattr(route, "include_in_schema", None))
    if doc.description is None and endpoint is not None:
        doc = doc.merged(description=_docstring(endpoint))
    return doc


def _tag_names(tags: Sequence[str | enum.Enum] | None) -> tuple[str, ...] | None:
    if not tags:
        return None
    return tuple(str(tag.value) if isinstance(tag, enum.Enum) else str(tag) for tag in tags)


def _docstring(endpoint: Any) -> str | None:
    if not (inspect.isfunction(endpoint) or inspect.ismethod(endpoint)):
        return None
    return inspect.getdoc(endpoint) or None
