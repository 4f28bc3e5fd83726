"""Security dependencies that work on HTTP and WebSocket routes alike (``fastapi.security``).

Every FastAPI scheme is here under its name, with the peer's call signature
(``scheme(request)``), ``auto_error`` switch, ``"Not authenticated"`` 401 detail and
``WWW-Authenticate`` challenges. The connection parameter is typed
:class:`~tether.requests.HTTPConnection`, so one instance protects an HTTP route and a
WebSocket route (the peer's take a ``Request`` and fail on WebSockets). On a WebSocket route
the dependency runs before ``accept()``, so the client sees a real HTTP 401 denial response
where the server supports the denial extension. The schemes only *extract* credentials;
checking them is the application's job, in a dependency on top.

Each scheme carries ``model`` (its OpenAPI Security Scheme Object) and ``scheme_name``.
``HTTPBasicCredentials`` and ``HTTPAuthorizationCredentials`` are pydantic models, loaded on
first use so this package imports without pydantic.

Browsers cannot set headers on a WebSocket handshake, which leaves a query parameter
(:class:`APIKeyQuery`), a cookie (:class:`APIKeyCookie`) or ``Sec-WebSocket-Protocol``
(:class:`WebSocketSubprotocolToken`) for browser clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tether.security.api_key import APIKeyBase, APIKeyCookie, APIKeyHeader, APIKeyQuery
from tether.security.base import (
    SecurityBase,
    SecuritySchemeModel,
    SecurityScopes,
    get_authorization_scheme_param,
)
from tether.security.forms import OAuth2PasswordRequestForm, OAuth2PasswordRequestFormStrict
from tether.security.http import HTTPBase, HTTPBasic, HTTPBearer, HTTPDigest
from tether.security.oauth2 import (
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OpenIdConnect,
)
from tether.security.subprotocol import SubprotocolToken, WebSocketSubprotocolToken

if TYPE_CHECKING:
    from tether.security.forms import OAuth2PasswordRequestForm, OAuth2PasswordRequestFormStrict
    from tether.security.models import HTTPAuthorizationCredentials, HTTPBasicCredentials

__all__ = [
    "APIKeyBase",
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenIdConnect",
    "SecurityBase",
    "SecuritySchemeModel",
    "SecurityScopes",
    "SubprotocolToken",
    "WebSocketSubprotocolToken",
    "get_authorization_scheme_param",
]

_MODELS = frozenset({"HTTPAuthorizationCredentials", "HTTPBasicCredentials"})
_FORMS = frozenset({"OAuth2PasswordRequestForm", "OAuth2PasswordRequestFormStrict"})


def __getattr__(name: str) -> Any:
    # The credential models need pydantic, and the login forms the dependency markers (whose
    # solver imports this package): both load when first named, not at import.
    if name in _MODELS:
        from tether.security import models

        return getattr(models, name)
    if name in _FORMS:
        from tether.security import forms

        return getattr(forms, name)
    raise AttributeError(f"module 'tether.security' has no attribute {name!r}")
