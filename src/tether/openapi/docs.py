"""The interactive documentation pages, Swagger UI and ReDoc, served without a CDN.

The pages are small HTML documents written here; the JavaScript and CSS they load are the
builds that the ``drf-spectacular-sidecar`` package ships (Swagger UI's ``swagger-ui-dist`` and
ReDoc's standalone bundle, kept current by that project; install ``tether[docs]``). Only the
package's files are read: it is located without being imported (its ``__init__`` imports
Django, which tether never needs). :class:`DocsAssets` serves an allow-list of those files.

The function names and parameters are FastAPI's (``fastapi.openapi.docs``), so custom docs
pages written for FastAPI work; their asset URLs default to the app's own asset route instead
of a CDN.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from tether.exceptions import MissingDependencyError
from tether.requests import Request
from tether.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

__all__ = [
    "ASSETS_URL",
    "assets_dir",
    "docs_assets",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
    "swagger_ui_default_parameters",
]

#: Where the app serves the asset files (below its ``root_path``).
ASSETS_URL: Final = "/docs-assets"

swagger_ui_default_parameters: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}

# Served name -> path inside the package's static folder.
_FILES: Final = {
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "favicon-32x32.png": "swagger-ui-dist/favicon-32x32.png",
    "oauth2-redirect.js": "swagger-ui-dist/oauth2-redirect.js",
    "redoc.standalone.js": "redoc/bundles/redoc.standalone.js",
}


def assets_dir() -> Path:
    """The folder of the asset files; raises MissingDependencyError naming ``tether[docs]``."""
    spec = importlib.util.find_spec("drf_spectacular_sidecar")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("drf-spectacular-sidecar", "docs")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "static" / "drf_spectacular_sidecar"


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _script_json(value: Any) -> str:
    # JSON inside <script>: "</" must not close the element.
    return json.dumps(value).replace("</", "<\\/")


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = ASSETS_URL + "/swagger-ui-bundle.js",
    swagger_css_url: str = ASSETS_URL + "/swagger-ui.css",
    swagger_favicon_url: str = ASSETS_URL + "/favicon-32x32.png",
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Swagger UI page for the document at ``openapi_url``."""
    parameters = {**swagger_ui_default_parameters, **(swagger_ui_parameters or {})}
    parameters["url"] = openapi_url
    redirect = ""
    if oauth2_redirect_url:
        redirect = f"options.oauth2RedirectUrl = window.location.origin + {_script_json(oauth2_redirect_url)};"
    oauth = f"ui.initOAuth({_script_json(init_oauth)});" if init_oauth else ""
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link type="text/css" rel="stylesheet" href="{_escape(swagger_css_url)}">
<link rel="shortcut icon" href="{_escape(swagger_favicon_url)}">
<title>{_escape(title)}</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_escape(swagger_js_url)}"></script>
<script>
const options = {_script_json(parameters)};
options.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
{redirect}
const ui = SwaggerUIBundle(options);
{oauth}
</script>
</body>
</html>"""
    return HTMLResponse(html)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = ASSETS_URL + "/redoc.standalone.js",
    redoc_favicon_url: str = ASSETS_URL + "/favicon-32x32.png",
    with_google_fonts: bool = False,
) -> HTMLResponse:
    """The ReDoc page for the document at ``openapi_url``.

    ``with_google_fonts`` is accepted for FastAPI's signature; fonts are never fetched from
    outside (the page must work offline), ReDoc falls back to the system fonts.
    """
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_escape(title)}</title>
<link rel="shortcut icon" href="{_escape(redoc_favicon_url)}">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>ReDoc needs JavaScript.</noscript>
<redoc spec-url="{_escape(openapi_url)}"></redoc>
<script src="{_escape(redoc_js_url)}"></script>
</body>
</html>"""
    return HTMLResponse(html)


def get_swagger_ui_oauth2_redirect_html(
    oauth2_redirect_js_url: str = ASSETS_URL + "/oauth2-redirect.js",
) -> HTMLResponse:
    """The page an OAuth2 provider redirects to after authorising Swagger UI."""
    html = f"""<!doctype html>
<html lang="en-US">
<head><title>Swagger UI: OAuth2 Redirect</title></head>
<body><script src="{_escape(oauth2_redirect_js_url)}"></script></body>
</html>"""
    return HTMLResponse(html)


def docs_assets() -> Callable[[Request], Awaitable[Response]]:
    """The endpoint serving the allow-listed asset files by name (``{ASSETS_URL}/{name}``)."""
    found: list[Path] = []

    async def asset(request: Request) -> Response:
        relative = _FILES.get(request.path_params.get("name", ""))
        if relative is None:
            return PlainTextResponse("Not Found", status_code=404)
        if not found:
            found.append(assets_dir())
        headers = {"cache-control": "public, max-age=86400"}
        return FileResponse(found[0] / relative, headers=headers)

    return asset
