"""The ``Authorization`` header schemes: HTTPBase, HTTPBasic, HTTPBearer, HTTPDigest.

Each refuses a missing or foreign header with ``HTTPException(401, "Not authenticated")``
and a ``WWW-Authenticate`` challenge naming its scheme (RFC 9110 section 11.6.1), or returns
``None`` with ``auto_error=False``. A Basic header that is not base64 of ``user:password`` is
refused even with ``auto_error=False``, as the peer does: it is a broken client, not a
missing credential. The credentials are pydantic models (:mod:`tether.security.models`).
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import TYPE_CHECKING, Any

from tether.requests import HTTPConnection
from tether.security.base import SecurityBase, get_authorization_scheme_param, scheme_model

if TYPE_CHECKING:
    from tether.security.models import HTTPAuthorizationCredentials, HTTPBasicCredentials

__all__ = ["HTTPBase", "HTTPBasic", "HTTPBearer", "HTTPDigest"]


def _credentials(scheme: str, credentials: str) -> HTTPAuthorizationCredentials:
    from tether.security.models import HTTPAuthorizationCredentials

    return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


class HTTPBase(SecurityBase):
    """Any ``Authorization: <scheme> <credentials>`` header; the scheme is not checked.

    ``scheme`` names the HTTP authentication scheme for the document and the challenge.
    Returns :class:`~tether.security.models.HTTPAuthorizationCredentials`.
    """

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self._setup(scheme_model("http", description, scheme=scheme), scheme_name, auto_error)
        self.challenge = scheme.title()

    def _read(self, request: HTTPConnection, expected: str | None) -> tuple[str, str] | None:
        authorization = request.headers.get("authorization")
        scheme, credentials = get_authorization_scheme_param(authorization)
        if not (authorization and scheme and credentials) or (
            expected is not None and scheme.lower() != expected
        ):
            self._missing()
            return None
        return scheme, credentials

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        parts = self._read(request, None)
        return None if parts is None else _credentials(*parts)


class HTTPBearer(HTTPBase):
    """``Authorization: Bearer <token>`` (RFC 6750 section 2.1).

    ``bearerFormat`` (OpenAPI's spelling) documents the token format, e.g. ``"JWT"``.
    """

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,  # noqa: N803 - the peer's (OpenAPI's) spelling
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        model = scheme_model("http", description, scheme="bearer", bearerFormat=bearerFormat)
        self._setup(model, scheme_name, auto_error)
        self.challenge = "Bearer"
        self.bearer_format = bearerFormat

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        parts = self._read(request, "bearer")
        return None if parts is None else _credentials(*parts)


class HTTPDigest(HTTPBase):
    """``Authorization: Digest ...`` (RFC 7616): returns the raw parameters, unchecked."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="digest", scheme_name=scheme_name, description=description, auto_error=auto_error
        )

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        parts = self._read(request, "digest")
        return None if parts is None else _credentials(*parts)


class HTTPBasic(HTTPBase):
    """``Authorization: Basic base64(user:password)`` (RFC 7617).

    ``realm`` goes into the challenge (``Basic realm="..."``). Returns
    :class:`~tether.security.models.HTTPBasicCredentials`.
    """

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="basic", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
        self.realm = realm
        self.challenge = f'Basic realm="{realm}"' if realm else "Basic"

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        authorization = request.headers.get("authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "basic":
            self._missing()
            return None
        try:
            decoded = b64decode(param).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise self.make_not_authenticated_error() from exc
        username, separator, password = decoded.partition(":")
        if not separator:
            raise self.make_not_authenticated_error()
        from tether.security.models import HTTPBasicCredentials

        return HTTPBasicCredentials(username=username, password=password)


def __getattr__(name: str) -> Any:
    """``from tether.security.http import HTTPAuthorizationCredentials`` works as with
    ``fastapi.security.http``; the models need pydantic, so they load when first named."""
    if name in ("HTTPAuthorizationCredentials", "HTTPBasicCredentials"):
        from tether.security import models

        return getattr(models, name)
    raise AttributeError(f"module 'tether.security.http' has no attribute {name!r}")
