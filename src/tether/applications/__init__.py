"""The application: ``Tether`` (FastAPI's ``FastAPI``) and ``Router`` (``APIRouter``).

The public face of the application subsystem. Its modules: :mod:`.decorators` (the route
decorators shared by the app and its routers), :mod:`.router` (``Router``: routes with DI plans,
prefixes, included routers) and :mod:`.app` (``Tether``: middleware stack, lifespan, exception
handlers, shutdown).

Owns: composing routes, DI, middleware, lifespan and handlers. May import every layer below it
(routing, dependencies, middleware, runtime), never channels or the tools on top.
"""

from __future__ import annotations

from tether.applications.app import APIRoute, APIWebSocketRoute, Router, Tether

__all__ = ["APIRoute", "APIWebSocketRoute", "Router", "Tether"]
