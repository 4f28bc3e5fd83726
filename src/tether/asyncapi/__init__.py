"""AsyncAPI 3.0 documentation of an app's WebSocket routes, messages and channels.

- :func:`generate` builds the document (``tether asyncapi module:app`` prints it);
- :func:`document` attaches a summary, description, tags and message types to an endpoint;
- :func:`install` serves ``/asyncapi.json`` and an offline HTML page at ``/asyncapi``.

See ``docs/asyncapi.md``.
"""

from __future__ import annotations

from tether.asyncapi.generator import ASYNCAPI_VERSION, generate, websocket_routes
from tether.asyncapi.metadata import document, route_doc
from tether.asyncapi.page import AsyncAPIDocs, install, render_page

__all__ = [
    "ASYNCAPI_VERSION",
    "AsyncAPIDocs",
    "document",
    "generate",
    "install",
    "render_page",
    "route_doc",
    "websocket_routes",
]
