"""OAuth2 (RFC 6749) and OpenID Connect schemes: they read a token, checking is yours.

``OAuth2`` and ``OpenIdConnect`` return the whole ``Authorization`` value; the bearer flows
return the token after ``Bearer``. A missing token is refused with
``HTTPException(401, "Not authenticated")`` and ``WWW-Authenticate: Bearer``, or ``None``
with ``auto_error=False``. ``flows`` and the URLs only describe the scheme in the OpenAPI
document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.requests import HTTPConnection
from tether.security.base import SecurityBase, get_authorization_scheme_param, scheme_model

__all__ = ["OAuth2", "OAuth2AuthorizationCodeBearer", "OAuth2PasswordBearer", "OpenIdConnect"]


def _flow(scopes: Mapping[str, str] | None, **urls: str | None) -> dict[str, Any]:
    flow: dict[str, Any] = {key: value for key, value in urls.items() if value is not None}
    flow["scopes"] = dict(scopes or {})
    return flow


def _plain_flows(flows: Mapping[str, Any] | Any) -> dict[str, Any]:
    """Flows given as a dict or as a pydantic model (the peer's ``OAuthFlows``)."""
    if hasattr(flows, "model_dump"):
        dumped: dict[str, Any] = flows.model_dump(by_alias=True, exclude_none=True)
        return dumped
    return {
        name: {key: value for key, value in flow.items() if value is not None}
        for name, flow in dict(flows).items()
    }


class OAuth2(SecurityBase):
    """Any OAuth2 flow; returns the raw ``Authorization`` header value."""

    def __init__(
        self,
        *,
        flows: Mapping[str, Any] | Any = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        plain = _plain_flows(flows or {})
        self._setup(scheme_model("oauth2", description, flows=plain), scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            self._missing()
            return None
        return authorization

    def _bearer(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "bearer":
            self._missing()
            return None
        return param


class OAuth2PasswordBearer(OAuth2):
    """The bearer token of the OAuth2 password flow, as a string.

    ``tokenUrl`` is where clients get a token (documentation only).
    """

    def __init__(
        self,
        tokenUrl: str,  # noqa: N803 - the peer's (OpenAPI's) spelling
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,  # noqa: N803
    ) -> None:
        password = _flow(scopes, tokenUrl=tokenUrl, refreshUrl=refreshUrl)
        super().__init__(
            flows={"password": password},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        self.token_url = tokenUrl
        self.scopes = dict(scopes or {})

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._bearer(request)


class OAuth2AuthorizationCodeBearer(OAuth2):
    """The bearer token of the OAuth2 authorization code flow, as a string."""

    def __init__(
        self,
        authorizationUrl: str,  # noqa: N803 - the peer's (OpenAPI's) spelling
        tokenUrl: str,  # noqa: N803
        refreshUrl: str | None = None,  # noqa: N803
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        code = _flow(
            scopes, authorizationUrl=authorizationUrl, tokenUrl=tokenUrl, refreshUrl=refreshUrl
        )
        super().__init__(
            flows={"authorizationCode": code},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._bearer(request)


class OpenIdConnect(SecurityBase):
    """OpenID Connect discovery (``openIdConnectUrl``); returns the raw ``Authorization`` value."""

    def __init__(
        self,
        *,
        openIdConnectUrl: str,  # noqa: N803 - the peer's (OpenAPI's) spelling
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        model = scheme_model("openIdConnect", description, openIdConnectUrl=openIdConnectUrl)
        self._setup(model, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            self._missing()
            return None
        return authorization
