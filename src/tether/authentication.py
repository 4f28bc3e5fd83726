"""Authentication as Starlette has it: a backend, users, scopes and ``@requires``.

:class:`~tether.middleware.authentication.AuthenticationMiddleware` asks an
:class:`AuthenticationBackend` who the connection is, on HTTP and WebSocket scopes alike, and
stores the answer as ``connection.auth`` (:class:`AuthCredentials`) and ``connection.user``
(a :class:`BaseUser`). ``@requires("scope")`` guards an endpoint that takes ``request`` or
``websocket``:

* HTTP: ``HTTPException(status_code)`` (403 by default), or a 303 redirect to the route named
  ``redirect`` with ``?next=<the original URL>``;
* WebSocket (before accept): ``HTTPException(status_code)`` too, which the application turns
  into a denial response with that status, or a close with 1008 where the server lacks the
  denial extension. The peer closes with 1000, which a client cannot tell from a normal end;
  its tests only check that the handshake fails, which holds either way.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlencode

from tether.concurrency import is_async_callable
from tether.exceptions import HTTPException
from tether.requests import HTTPConnection
from tether.responses import RedirectResponse

__all__ = [
    "AuthCredentials",
    "AuthenticationBackend",
    "AuthenticationError",
    "BaseUser",
    "SimpleUser",
    "UnauthenticatedUser",
    "has_required_scope",
    "requires",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def has_required_scope(conn: HTTPConnection, scopes: Sequence[str]) -> bool:
    """Whether ``conn.auth.scopes`` holds every scope in ``scopes``."""
    granted = conn.auth.scopes
    return all(scope in granted for scope in scopes)


def _connection_index(func: Callable[..., Any]) -> tuple[int, str]:
    for index, parameter in enumerate(inspect.signature(func).parameters.values()):
        if parameter.name in ("request", "websocket"):
            return index, parameter.name
    raise TypeError(f'@requires: no "request" or "websocket" argument on {func!r}')


def _refusal(conn: HTTPConnection, status_code: int, redirect: str | None) -> RedirectResponse:
    if redirect is None:
        raise HTTPException(status_code)
    query = urlencode({"next": str(conn.url)})
    return RedirectResponse(url=f"{conn.url_for(redirect)}?{query}", status_code=303)


def requires(
    scopes: str | Sequence[str], status_code: int = 403, redirect: str | None = None
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Refuse callers whose credentials lack ``scopes`` (see the module docstring).

    Raises:
        TypeError: (at decoration) the function has no ``request`` or ``websocket`` parameter.
    """
    wanted = [scopes] if isinstance(scopes, str) else list(scopes)

    def decorator(func: Callable[_P, _R]) -> Callable[_P, _R]:
        index, name = _connection_index(func)

        def connection(args: Any, kwargs: Any) -> HTTPConnection:
            conn = kwargs.get(name, args[index] if index < len(args) else None)
            if not isinstance(conn, HTTPConnection):
                raise TypeError(f"@requires: {name!r} is not a connection: {conn!r}")
            return conn

        if is_async_callable(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                conn = connection(args, kwargs)
                if not has_required_scope(conn, wanted):
                    return _refusal(conn, status_code, None if name == "websocket" else redirect)
                return await func(*args, **kwargs)  # type: ignore[misc]

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            conn = connection(args, kwargs)
            if not has_required_scope(conn, wanted):
                return _refusal(conn, status_code, redirect)
            return func(*args, **kwargs)

        return sync_wrapper

    return decorator


class AuthenticationError(Exception):
    """Raised by a backend for credentials that are present but wrong (a 400 by default)."""


class AuthCredentials:
    """The scopes the authenticated connection was granted."""

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = [] if scopes is None else list(scopes)


class BaseUser:
    """What a backend returns as the user; subclass and fill in the three properties."""

    @property
    def is_authenticated(self) -> bool:
        """Whether this is a real, authenticated user."""
        raise NotImplementedError()

    @property
    def display_name(self) -> str:
        """A name to show."""
        raise NotImplementedError()

    @property
    def identity(self) -> str:
        """A stable identifier."""
        raise NotImplementedError()


class SimpleUser(BaseUser):
    """An authenticated user known by ``username`` only."""

    def __init__(self, username: str) -> None:
        self.username = username

    @property
    def is_authenticated(self) -> bool:
        """Always ``True``."""
        return True

    @property
    def display_name(self) -> str:
        """The user name."""
        return self.username


class UnauthenticatedUser(BaseUser):
    """The user of a connection the backend did not recognise."""

    @property
    def is_authenticated(self) -> bool:
        """Always ``False``."""
        return False

    @property
    def display_name(self) -> str:
        """The empty string."""
        return ""


class AuthenticationBackend:
    """Override :meth:`authenticate` to recognise a connection."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        """``(credentials, user)``, ``None`` for an anonymous connection.

        Raises:
            AuthenticationError: credentials were given but are not valid.
        """
        raise NotImplementedError()
