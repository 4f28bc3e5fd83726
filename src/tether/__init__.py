"""tether: a WebSocket-first framework for real-time Python web applications."""

from __future__ import annotations

__version__ = "0.1.0"
