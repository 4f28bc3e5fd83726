"""Middleware: ASGI apps that wrap other ASGI apps.

Every middleware here is pure ASGI, so it sees HTTP and WebSocket scopes alike; each module
says what it does with a WebSocket handshake. :class:`Middleware` records a middleware class
and its arguments for ``Tether(middleware=[...])``, ``Router(middleware=[...])`` and
``Route(..., middleware=[...])``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["Middleware"]


class Middleware:
    """``Middleware(cls, *args, **kwargs)``: build ``cls(app, *args, **kwargs)`` later.

    Unpacks as ``cls, args, kwargs``.
    """

    __slots__ = ("args", "cls", "kwargs")

    def __init__(self, cls: Any, *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        name = getattr(self.cls, "__name__", repr(self.cls))
        parts = [name, *map(repr, self.args)]
        parts += [f"{key}={value!r}" for key, value in self.kwargs.items()]
        return f"Middleware({', '.join(parts)})"
