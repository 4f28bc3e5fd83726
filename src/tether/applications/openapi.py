"""The application's HTTP documentation options, FastAPI's keyword names in one object.

``Tether(**options)`` takes FastAPI's ``FastAPI(...)`` keywords for the OpenAPI document, its
pages and router-wide route defaults; they are checked here (an unknown keyword is a
``TypeError`` as for any function) and kept as the attributes FastAPI has (``app.openapi_url``,
``app.docs_url``, ``app.servers``...), so code that reads them keeps working.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from tether.applications.responses import Default, generate_unique_id
from tether.responses import JSONResponse

__all__ = ["OpenAPIOptions"]

_ROUTER_KEYS = (
    "default_response_class",
    "responses",
    "callbacks",
    "deprecated",
    "include_in_schema",
    "generate_unique_id_function",
    "max_body_size",
    "strict_content_type",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class OpenAPIOptions:
    """FastAPI's application keywords for documentation and route defaults."""

    openapi_url: str | None = "/openapi.json"
    openapi_tags: list[dict[str, Any]] | None = None
    servers: list[dict[str, Any]] | None = None
    docs_url: str | None = "/docs"
    redoc_url: str | None = "/redoc"
    swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect"
    swagger_ui_init_oauth: dict[str, Any] | None = None
    swagger_ui_parameters: dict[str, Any] | None = None
    summary: str | None = None
    terms_of_service: str | None = None
    contact: dict[str, Any] | None = None
    license_info: dict[str, Any] | None = None
    root_path: str = ""
    root_path_in_servers: bool = True
    webhooks: Any = None
    separate_input_output_schemas: bool = True
    openapi_external_docs: dict[str, Any] | None = None
    default_response_class: Any = Default(JSONResponse)
    responses: dict[int | str, dict[str, Any]] | None = None
    callbacks: list[Any] | None = None
    deprecated: bool | None = None
    include_in_schema: bool = True
    generate_unique_id_function: Callable[[Any], str] = Default(generate_unique_id)
    max_body_size: int | None = None
    strict_content_type: Any = Default(True)

    def router_options(self) -> dict[str, Any]:
        """The keywords for the app's router (defaults of every route)."""
        return {key: getattr(self, key) for key in _ROUTER_KEYS}

    def apply(self, app: Any) -> None:
        """Set FastAPI's attributes on ``app`` and add the document and page routes.

        Raises ``ValueError`` when a document is served without a title or version.
        """
        from tether.applications.router import Router
        from tether.openapi.app import install

        for field in dataclasses.fields(self):
            if field.name not in _ROUTER_KEYS:
                setattr(app, field.name, getattr(self, field.name))
        app.servers = list(self.servers or [])
        app.webhooks = self.webhooks if self.webhooks is not None else Router()
        app.openapi_version = "3.1.0"
        app.openapi_schema = None
        if self.openapi_url:
            if not app.title or not app.version:
                raise ValueError("an OpenAPI document needs the app's title and version")
            if not self.openapi_url.startswith("/"):
                raise ValueError("openapi_url must start with '/'")
        install(app)
