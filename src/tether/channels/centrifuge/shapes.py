"""Shapes shared by both formats: :class:`Raw` JSON text inside a command or reply."""

from __future__ import annotations

__all__ = ["Raw"]


class Raw(str):
    """Application JSON carried as text: a ``data`` field, embedded as-is when encoded.

    The empty text stands for "no data" (an absent field).
    """

    __slots__ = ()
