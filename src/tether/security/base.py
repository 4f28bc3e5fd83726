"""What every security scheme shares: its OpenAPI description, its name and its refusal.

A scheme is a callable dependency taking the connection (``scheme(request)``, the peer's call
signature). The parameter is typed :class:`~tether.requests.HTTPConnection`, so one instance
serves HTTP and WebSocket routes. ``model`` is the scheme's OpenAPI Security Scheme Object
(OpenAPI 3.1 section 4.8.27) and ``scheme_name`` its key under ``components.securitySchemes``:
the OpenAPI builder reads both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from tether.exceptions import HTTPException

__all__ = [
    "NOT_AUTHENTICATED",
    "SecurityBase",
    "SecuritySchemeModel",
    "SecurityScopes",
    "get_authorization_scheme_param",
]

# The peer's exact words: clients and the peer's tests match on them.
NOT_AUTHENTICATED: Final = "Not authenticated"


class SecuritySchemeModel(dict[str, Any]):
    """An OpenAPI Security Scheme Object: a plain dict, keys spelled as in the document.

    Attribute reads mirror the peer's pydantic models (``model.name``, ``model.scheme``,
    ``model.in_``, ``model.flows``); a missing key reads as ``None``. ``model_dump()`` returns
    a plain dict copy, so code that dumps the peer's model keeps working.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get("in" if name == "in_" else name)

    def model_dump(self, **_options: Any) -> dict[str, Any]:
        """The scheme as a plain dict (``None`` values are never stored, so nothing to drop)."""
        return dict(self)


def scheme_model(kind: str, description: str | None, **fields: Any) -> SecuritySchemeModel:
    """A :class:`SecuritySchemeModel` of ``type`` ``kind``, leaving out ``None`` fields."""
    model = SecuritySchemeModel(type=kind)
    model.update((key, value) for key, value in fields.items() if value is not None)
    if description is not None:
        model["description"] = description
    return model


class SecurityBase:
    """Base of every scheme: ``model``, ``scheme_name`` and ``auto_error``.

    Subclasses set ``challenge``, the ``WWW-Authenticate`` value sent with a 401
    (RFC 9110 section 11.6.1).
    """

    model: SecuritySchemeModel
    scheme_name: str
    auto_error: bool = True
    challenge: str = "Bearer"

    def _setup(self, model: SecuritySchemeModel, scheme_name: str | None, auto_error: bool) -> None:
        self.model = model
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    @property
    def description(self) -> str | None:
        """The scheme's description (documentation only)."""
        description: str | None = self.model.get("description")
        return description

    def make_authenticate_headers(self) -> dict[str, str]:
        """The headers of the 401 response: the ``WWW-Authenticate`` challenge."""
        return {"WWW-Authenticate": self.challenge}

    def make_not_authenticated_error(self) -> HTTPException:
        """The ``HTTPException(401, "Not authenticated")`` this scheme raises."""
        return HTTPException(401, NOT_AUTHENTICATED, headers=self.make_authenticate_headers())

    def _missing(self) -> None:
        """Refuse (``auto_error=True``) or let the caller return ``None``."""
        if self.auto_error:
            raise self.make_not_authenticated_error()


class SecurityScopes:
    """The scopes every ``Security(...)`` between the endpoint and this dependency asked for.

    Declare a parameter typed ``SecurityScopes`` in a dependency to receive them;
    ``scope_str`` is the same list joined by spaces (the OAuth2 ``scope`` form).
    """

    __slots__ = ("scope_str", "scopes")

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or ())
        self.scope_str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"


def get_authorization_scheme_param(authorization_header_value: str | None) -> tuple[str, str]:
    """Split an ``Authorization`` value into ``(scheme, credentials)``; ``("", "")`` if empty."""
    if not authorization_header_value:
        return "", ""
    scheme, _, param = authorization_header_value.partition(" ")
    return scheme, param.strip()
