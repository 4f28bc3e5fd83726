"""``OAuth2PasswordRequestForm``: the form of OAuth2's password flow (RFC 6749 section 4.3.2).

Used as a dependency (``form: Annotated[OAuth2PasswordRequestForm, Depends()]``), as in
FastAPI: the route then reads a URL-encoded form with ``username``, ``password``, an optional
``scope`` (space-separated, split into ``scopes``), ``grant_type`` (``"password"`` when given;
required by the ``Strict`` variant), ``client_id`` and ``client_secret``.
"""

from __future__ import annotations

from typing import Annotated

from tether.dependencies.params import Form

__all__ = ["OAuth2PasswordRequestForm", "OAuth2PasswordRequestFormStrict"]


class OAuth2PasswordRequestForm:
    """The password-flow form fields; ``scopes`` is ``scope`` split on spaces."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """The same form with ``grant_type=password`` required, as RFC 6749 says."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
