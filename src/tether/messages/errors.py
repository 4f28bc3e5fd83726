"""The error raised when a frame does not fit the declared message type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tether.exceptions import ValidationError

__all__ = ["MessageValidationError", "error_record"]


class MessageValidationError(ValidationError):
    """A received frame is not valid JSON or does not fit the declared message type.

    ``errors()`` returns ``[{"loc": [...], "msg": str, "type": str}, ...]``; ``loc`` is the
    path inside the message (``[]`` for the whole message). Error types tether adds itself:
    ``json_invalid``, ``unknown_message_type``, ``missing_message_type``, ``object_type``.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(errors)

    def __str__(self) -> str:
        records = self.errors()
        parts = [f"{_format_loc(r['loc'])}{r['msg']}" for r in records[:3]]
        more = f" (and {len(records) - 3} more)" if len(records) > 3 else ""
        return "invalid message: " + "; ".join(parts) + more


def error_record(loc: Sequence[str | int], msg: str, type_: str) -> dict[str, Any]:
    """Build one error record in the shape every adapter reports."""
    return {"loc": list(loc), "msg": msg, "type": type_}


def _format_loc(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc) + ": " if loc else ""
