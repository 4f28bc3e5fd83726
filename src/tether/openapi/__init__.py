"""OpenAPI 3.1 documentation of an app's HTTP routes (``fastapi.openapi``).

- :func:`get_openapi` builds the document from routes (``tether.openapi.utils``);
- the app serves it at ``openapi_url`` with Swagger UI at ``docs_url`` and ReDoc at
  ``redoc_url``, offline (:mod:`tether.openapi.docs`; assets from ``tether[docs]``);
- schemas are pydantic's, generated together (:mod:`tether.openapi.schemas`).

See ``docs/openapi.md``.
"""

from __future__ import annotations

from tether.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from tether.openapi.utils import get_openapi

__all__ = [
    "get_openapi",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
]
