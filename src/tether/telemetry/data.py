"""What a request or connection exposes to OpenTelemetry processors: :func:`get_telemetry_data`.

FastAPI's API of the same name: while tether serves a traced (or logged) request or WebSocket
connection, the OpenTelemetry context carries a holder of a :class:`TelemetryData`; a span or
log-record processor reads it synchronously, from the current context or from the context a
record was made in. When the request or connection ends the holder is emptied, so a context
kept past that point yields None: the data never outlives what it describes.

Nothing here imports OpenTelemetry at module level (the package imports this module).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CONTEXT_KEY", "TelemetryData", "get_telemetry_data"]

CONTEXT_KEY = "tether.telemetry.data"
"""The OpenTelemetry context key whose value is the serving scope's holder (it has ``data``)."""


@dataclass(kw_only=True)
class TelemetryData:
    """Data of the request or connection being served, for synchronous processors.

    Read-only for integrations, which apply their own capture and redaction rules before
    exporting any of it: it holds what the client sent, secrets included.

    - ``request``: the :class:`~tether.requests.Request`, once its route's handler starts;
    - ``websocket``: the :class:`~tether.websockets.WebSocket`, once its route's handler starts;
    - ``body``: the request body tether read, before validation;
    - ``values``: the endpoint's arguments, once the dependencies are solved;
    - ``errors``: the validation errors (with the values that failed), ``[]`` when none.
    """

    request: Any = None
    websocket: Any = None
    body: Any = None
    values: dict[str, Any] | None = None
    errors: Sequence[Any] | None = None


def get_telemetry_data(context: Any = None) -> TelemetryData | None:
    """The :class:`TelemetryData` of the request or connection ``context`` belongs to.

    ``context`` is an OpenTelemetry ``Context`` (a log processor passes ``record.context``);
    the current one when omitted. None outside a served request or connection, after it
    ended (even for a context kept since), when telemetry was off or excluded for it, or
    without ``opentelemetry-api``.
    """
    try:
        from opentelemetry import context as otel_context
    except ImportError:  # pragma: no cover - nothing can have stored data then
        return None
    holder = otel_context.get_value(CONTEXT_KEY, context)
    data = getattr(holder, "data", None)
    return data if isinstance(data, TelemetryData) else None
