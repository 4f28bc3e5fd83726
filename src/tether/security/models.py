"""The credentials the HTTP schemes return, as pydantic models (as the peer's are).

Imported on first use, so ``tether.security`` loads without pydantic; reading one of these
names without pydantic raises :class:`~tether.exceptions.MissingDependencyError` naming the
``pydantic`` extra.
"""

from __future__ import annotations

from tether.exceptions import require

require("pydantic", "pydantic")

from pydantic import BaseModel, Field  # noqa: E402 - after the check that names the extra

__all__ = ["HTTPAuthorizationCredentials", "HTTPBasicCredentials"]


class HTTPBasicCredentials(BaseModel):
    """The user name and password of ``Authorization: Basic`` (RFC 7617)."""

    username: str
    # Kept out of repr() so a logged credentials object does not leak the secret.
    password: str = Field(repr=False)


class HTTPAuthorizationCredentials(BaseModel):
    """The two parts of an ``Authorization`` header: ``scheme`` and ``credentials``."""

    scheme: str
    credentials: str = Field(repr=False)
