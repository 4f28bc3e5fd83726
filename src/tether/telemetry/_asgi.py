"""FastAPI's private module name for its ASGI telemetry wrapper (``fastapi.telemetry._asgi``),
which FastAPI's own tests import: the same class as :mod:`tether.telemetry.asgi` exports."""

from tether.telemetry.asgi import NativeTelemetry

__all__ = ["NativeTelemetry"]
