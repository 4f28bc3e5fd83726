"""Serving an application's OpenAPI document and its documentation pages (FastAPI's setup).

:func:`install` adds, as plain routes left out of the document itself:

- ``openapi_url`` (``/openapi.json``): the document, with the request's ``root_path`` put
  first in ``servers`` when ``root_path_in_servers`` is on;
- ``docs_url`` (``/docs``): Swagger UI, and its OAuth2 redirect page;
- ``redoc_url`` (``/redoc``): ReDoc;
- the asset files of both pages (:data:`~tether.openapi.docs.ASSETS_URL`).

The document is generated once, on first use, by the app's ``openapi()`` and kept in
``app.openapi_schema`` (set it to None to regenerate; replace ``app.openapi`` to customise).
"""

from __future__ import annotations

from typing import Any

from tether.openapi.docs import (
    ASSETS_URL,
    docs_assets,
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from tether.openapi.utils import get_openapi
from tether.requests import Request
from tether.responses import HTMLResponse, JSONResponse

__all__ = ["build_document", "install"]


def build_document(app: Any) -> dict[str, Any]:
    """The app's document from its settings and routes (what ``app.openapi()`` returns)."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        terms_of_service=app.terms_of_service,
        contact=app.contact,
        license_info=app.license_info,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
        servers=app.servers,
        separate_input_output_schemas=app.separate_input_output_schemas,
        external_docs=app.openapi_external_docs,
    )
    asyncapi_url = getattr(app, "asyncapi_url", None)
    if asyncapi_url:
        document["x-asyncapi"] = {"url": asyncapi_url}
    return document


# The served pages may load nothing from outside the app (the offline promise, also kept when
# a bundle refers to a remote file, such as ReDoc's logo): scripts, styles, images and requests
# come from the app itself; inline code is the page's own initialisation.
_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:"
)


def _offline(response: HTMLResponse) -> HTMLResponse:
    response.headers["content-security-policy"] = _CSP
    return response


def _root_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def install(app: Any) -> None:
    """Add the document and page routes that the app's settings ask for."""
    if not app.openapi_url:
        return

    async def openapi(request: Request) -> JSONResponse:
        root_path = _root_path(request)
        document = app.openapi()
        if root_path and app.root_path_in_servers:
            servers = document.get("servers", [])
            if root_path not in {server.get("url") for server in servers}:
                document = {**document, "servers": [{"url": root_path}, *servers]}
        return JSONResponse(document)

    add = app.add_route
    add(app.openapi_url, openapi, ["GET"], "openapi", False)
    if app.docs_url or app.redoc_url:
        add(ASSETS_URL + "/{name}", docs_assets(), ["GET"], "docs_assets", False)
    if app.docs_url:
        _install_swagger(app)
    if app.redoc_url:

        async def redoc(request: Request) -> HTMLResponse:
            root_path = _root_path(request)
            return _offline(
                get_redoc_html(
                    openapi_url=root_path + app.openapi_url,
                    title=f"{app.title} - ReDoc",
                    redoc_js_url=root_path + ASSETS_URL + "/redoc.standalone.js",
                    redoc_favicon_url=root_path + ASSETS_URL + "/favicon-32x32.png",
                )
            )

        add(app.redoc_url, redoc, ["GET"], "redoc_html", False)


def _install_swagger(app: Any) -> None:
    redirect_url = app.swagger_ui_oauth2_redirect_url

    async def swagger(request: Request) -> HTMLResponse:
        root_path = _root_path(request)
        # No remote validator badge (Swagger UI's default sends the document to a public
        # validator when the app is not on localhost).
        parameters = {"validatorUrl": None, **(app.swagger_ui_parameters or {})}
        page = get_swagger_ui_html(
            openapi_url=root_path + app.openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=root_path + ASSETS_URL + "/swagger-ui-bundle.js",
            swagger_css_url=root_path + ASSETS_URL + "/swagger-ui.css",
            swagger_favicon_url=root_path + ASSETS_URL + "/favicon-32x32.png",
            oauth2_redirect_url=root_path + redirect_url if redirect_url else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=parameters,
        )
        return _offline(page)

    app.add_route(app.docs_url, swagger, ["GET"], "swagger_ui_html", False)
    if redirect_url:

        async def redirect(request: Request) -> HTMLResponse:
            js_url = _root_path(request) + ASSETS_URL + "/oauth2-redirect.js"
            return _offline(get_swagger_ui_oauth2_redirect_html(js_url))

        app.add_route(redirect_url, redirect, ["GET"], "swagger_ui_redirect", False)
