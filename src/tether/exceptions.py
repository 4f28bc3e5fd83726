"""Exceptions raised by tether, all under one root.

The tree::

    TetherError                       root of every error tether raises on purpose
    ├── HTTPException                 an HTTP error response (also a denial before accept)
    ├── WebSocketException            close a WebSocket with a code and reason
    ├── ConfigurationError            (also TypeError, AssertionError) refused at registration
    ├── StartupRefused                the app must not start; the server logs one line
    ├── ValidationError               request data that does not fit the declared parameters
    │   ├── RequestValidationError        ... on an HTTP route (422 response)
    │   ├── WebSocketRequestValidationError ... on a WebSocket route (422 denial / close 1008)
    │   └── ResponseValidationError       an endpoint's value does not fit its response model (500)
    └── MissingDependencyError        (also ImportError) an optional package is not installed

``WebSocketDisconnect`` and ``WebSocketDisconnected`` are not under this root:
``WebSocketDisconnect`` is an ``Exception`` by contract and ``WebSocketDisconnected`` a
``RuntimeError``. Users import both from :mod:`tether.websockets`, as in the peer;
``WebSocketDisconnect`` is defined here, below the WebSocket layer, because the typed-message
helpers (:mod:`tether.messages`), which ``WebSocket`` uses, raise it too.
"""

from __future__ import annotations

import http
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ConfigurationError",
    "FastAPIError",
    "HTTPException",
    "MissingDependencyError",
    "RequestValidationError",
    "ResponseValidationError",
    "StartupRefused",
    "TetherError",
    "ValidationError",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketRequestValidationError",
]


class TetherError(Exception):
    """Root of every exception tether raises on purpose."""


class HTTPException(TetherError):
    """An HTTP error: a response with ``status_code``, ``detail`` and optional ``headers``.

    Raised before a WebSocket is accepted it becomes a denial response; after accept the
    connection closes with 1011 (there is no HTTP response left to send).
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            try:
                detail = http.HTTPStatus(status_code).phrase
            except ValueError:
                detail = ""
        self.status_code = status_code
        self.detail = detail
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class WebSocketException(TetherError):
    """Close the current WebSocket with ``code`` and ``reason`` (RFC 6455 section 7.4)."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class ConfigurationError(TetherError, TypeError, AssertionError):
    """An app, route or dependency was declared in a way that can never work.

    Raised at registration time, so the mistake shows when the app is built rather than
    on the first request. It is also an ``AssertionError``: FastAPI checks these declarations
    with ``assert``, and its users' tests catch that (``pytest.raises(AssertionError)``); a
    real exception still fires under ``python -O``, where an ``assert`` would not.
    """


FastAPIError = ConfigurationError
"""FastAPI's name for a declaration that cannot work (code catching it keeps working)."""


class StartupRefused(TetherError):
    """Raised during lifespan startup when the app must not serve, for a reason its message gives.

    The lifespan reports only the message (one line, no traceback) to the server, which then
    exits: the message says what is wrong and what to do, a traceback would bury it.
    """


class ValidationError(TetherError):
    """Request data did not match the declared parameters.

    ``errors()`` returns a list of ``{"loc": (...), "msg": str, "type": str}`` dictionaries;
    ``loc`` is a tuple, as in FastAPI (a JSON response writes it as a list).
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        self._errors = [dict(error) for error in errors]
        super().__init__(self._errors)

    def errors(self) -> list[dict[str, Any]]:
        """Return a copy of the list of error records."""
        return [dict(error) for error in self._errors]


class RequestValidationError(ValidationError):
    """Parameters of an HTTP route failed validation; answered with 422 by default.

    ``body`` is the request body as read (decoded JSON, the form, or the bytes of a body
    that is not JSON), ``None`` without one, as FastAPI's ``exc.body``.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, body: Any = None) -> None:
        super().__init__(errors)
        self.body = body


class WebSocketRequestValidationError(ValidationError):
    """Parameters of a WebSocket route failed validation.

    Answered before accept with a 422 denial response carrying the errors as JSON, or, where
    the server lacks the denial extension, with close 1008 and a short reason.
    """


class ResponseValidationError(ValidationError):
    """An endpoint returned a value that does not fit its response model.

    Not handled by default: the server-error layer logs it and answers 500, so the value is
    never sent. ``body`` is the value the endpoint returned.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, body: Any = None) -> None:
        super().__init__(errors)
        self.body = body

    def __str__(self) -> str:
        errors = self.errors()
        lines = [f"{len(errors)} validation error{'' if len(errors) == 1 else 's'}:"]
        lines += [f"  {error}" for error in errors]
        return "\n".join(lines)


class MissingDependencyError(TetherError, ImportError):
    """An optional package is needed for this feature; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the {package!r} package; install it with "
            f"pip install 'tether[{extra}]'"
        )
        self.package = package
        self.extra = extra


def require(module: str, extra: str) -> Any:
    """Import an optional module, raising :class:`MissingDependencyError` naming ``extra``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0], extra) from exc


class WebSocketDisconnect(Exception):
    """The connection ended: raised by the ``receive_*`` helpers and by sends that fail.

    ``code`` is the close code (1006 when the transport broke, 1005 when the peer sent none);
    ``reason`` is the close reason, ``""`` when there was none. Positional constructor
    arguments show in ``args``, keyword ones do not (as in the peer).
    """

    # Slots: one is raised at the end of nearly every connection, and slot writes are cheaper
    # than filling the exception's __dict__. __reduce__ keeps them through pickle and copy.
    __slots__ = ("code", "reason")

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    def __reduce__(self) -> tuple[Any, ...]:
        state = dict(self.__dict__)
        state["code"] = self.code
        state["reason"] = self.reason
        return (type(self), self.args, state)
