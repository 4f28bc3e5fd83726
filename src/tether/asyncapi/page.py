"""Serve the AsyncAPI document (``/asyncapi.json``) and a page that renders it (``/asyncapi``).

The page is one self-contained HTML file (``tether/static/asyncapi.html``: inline CSS and a
small script, no CDN), with the document embedded, so it works offline. The document is built
on the first request, when the app's routes are complete, and then kept.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Any

from tether import _json
from tether.asyncapi.generator import generate
from tether.responses import HTMLResponse, JSONResponse, Response

__all__ = ["AsyncAPIDocs", "install", "render_page"]

_DOCUMENT_SLOT = "/*__ASYNCAPI_DOCUMENT__*/null"
_JSON_URL_SLOT = "__ASYNCAPI_JSON_URL__"


def render_page(document: dict[str, Any], json_url: str = "asyncapi.json") -> str:
    """The HTML page showing ``document``; ``json_url`` is linked as the raw document."""
    template = resources.files("tether").joinpath("static/asyncapi.html").read_text("utf-8")
    # "<" escaped as \u003c keeps "</script>" inside a string from ending the script element.
    embedded = _json.dumps(document).replace("<", "\\u003c")
    page = template.replace(_DOCUMENT_SLOT, embedded, 1)
    return page.replace(_JSON_URL_SLOT, html.escape(json_url, quote=True), 1)


class AsyncAPIDocs:
    """HTTP endpoints for one app's document: ``json_endpoint`` and ``page_endpoint``.

    ``options`` are passed to :func:`~tether.asyncapi.generate`.
    """

    def __init__(self, app: Any, *, json_url: str = "/asyncapi.json", **options: Any) -> None:
        self.app = app
        self.json_url = json_url
        self.options = options
        self._document: dict[str, Any] | None = None
        self._pages: dict[str, str] = {}

    def document(self) -> dict[str, Any]:
        """The app's AsyncAPI document, generated once."""
        if self._document is None:
            self._document = generate(self.app, **self.options)
        return self._document

    async def json_endpoint(self, request: Any) -> Response:
        """``GET`` the document as JSON."""
        return JSONResponse(self.document())

    async def page_endpoint(self, request: Any) -> Response:
        """``GET`` the HTML page (its JSON link follows the app's ``root_path``)."""
        root_path = str(request.scope.get("root_path", ""))
        page = self._pages.get(root_path)
        if page is None:
            page = self._pages[root_path] = render_page(self.document(), root_path + self.json_url)
        return HTMLResponse(page)


def install(
    app: Any, *, path: str = "/asyncapi", json_path: str = "/asyncapi.json", **options: Any
) -> AsyncAPIDocs:
    """Add ``GET json_path`` (the document) and ``GET path`` (the page) to ``app``.

    Uses the app's ``add_route(path, endpoint, methods=..., name=..., include_in_schema=False)``
    and sets ``app.asyncapi_url`` (the OpenAPI document links to it);
    ``options`` go to :func:`~tether.asyncapi.generate`. Returns the :class:`AsyncAPIDocs`.
    """
    docs = AsyncAPIDocs(app, json_url=json_path, **options)
    # The OpenAPI document links here (x-asyncapi) for the WebSocket routes it leaves out.
    app.asyncapi_url = json_path
    add = app.add_route
    add(
        json_path,
        docs.json_endpoint,
        methods=["GET"],
        name="asyncapi_json",
        include_in_schema=False,
    )
    add(path, docs.page_endpoint, methods=["GET"], name="asyncapi_page", include_in_schema=False)
    return docs
