"""The OAuth2 password flow's login form (RFC 6749 section 4.3.2), as FastAPI declares it.

Use as a dependency of the token route: ``form: OAuth2PasswordRequestForm = Depends()``.
The fields are form fields (``application/x-www-form-urlencoded`` or multipart), so this works
on HTTP routes only. Loaded on first use by :mod:`tether.security`, whose schemes the
dependency system itself imports.
"""

from __future__ import annotations

from typing import Annotated

from tether.dependencies.params import Form

__all__ = ["OAuth2PasswordRequestForm", "OAuth2PasswordRequestFormStrict"]


class OAuth2PasswordRequestForm:
    """``username``, ``password`` and optional ``grant_type``, ``scope``, client credentials.

    ``scopes`` is ``scope`` split on spaces. Use :class:`OAuth2PasswordRequestFormStrict` to
    require ``grant_type=password``, as the specification does.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """The login form with ``grant_type`` required (and equal to ``password``).

    Its secrets are documented as plain strings, without ``format: password``, as FastAPI's
    strict form does (its test_security_oauth2 compares the document).
    """

    def __init__(
        self,
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
