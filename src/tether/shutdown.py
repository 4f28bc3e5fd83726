"""Graceful shutdown: drain open WebSockets with a close code on SIGTERM.

The public face of :mod:`tether.runtime.shutdown`, where the code lives.
"""

from __future__ import annotations

from tether.runtime.shutdown import ConnectionRegistry, GracefulShutdown, ShutdownMiddleware

__all__ = ["ConnectionRegistry", "GracefulShutdown", "ShutdownMiddleware"]
