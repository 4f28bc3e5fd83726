"""Per-request (or per-connection) state of a dependency-injection run.

One :class:`Context` lives for one ``EndpointPlan.run``. It reads request values straight from
the ASGI scope, parsing the query string, the headers and the cookies at most once and only
when the plan declares a parameter of that kind. It does not build the connection's own
``query_params``/``headers``/``cookies`` objects: reading the raw scope is cheaper, and the
result is the same data (ASGI spec, "HTTP connection scope" / "WebSocket connection scope").
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any, Final
from urllib.parse import unquote_plus

from tether.requests import cookie_parser

__all__ = ["MISSING", "Context", "parse_last_values"]


class _Missing:
    """The type of :data:`MISSING`: no value was given and none could be produced."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: Marks a value that is absent from the request (or a dependency that was not called).
MISSING: Final = _Missing()


class Context:
    """State shared by every extractor and dependency during one run of a plan."""

    __slots__ = (
        "_cookies",
        "_headers",
        "_query",
        "body",
        "cache",
        "connection",
        "errors",
        "function_stack",
        "overrides",
        "query_last_values",
        "scope",
        "stack",
    )

    def __init__(self, connection: Any, overrides: dict[Any, Any] | None) -> None:
        self.connection = connection
        self.scope: dict[str, Any] = connection.scope
        self.overrides = overrides
        # Created on first use: most runs have no errors, no yield dependencies, no cache hits.
        self.errors: list[dict[str, Any]] | None = None
        self.cache: dict[Any, Any] | None = None
        self.stack: AsyncExitStack | None = None
        self.function_stack: AsyncExitStack | None = None
        self.body: Any = MISSING
        self._query: list[tuple[str, str]] | None = None
        # Name -> last value of the query string, once parse_query_last() has run.
        self.query_last_values: dict[str, str] | None = None
        self._headers: list[tuple[str, str]] | None = None
        self._cookies: dict[str, str] | None = None

    def fail(self, loc: tuple[Any, ...], kind: str, msg: str, value: Any, **ctx: Any) -> None:
        """Record one validation error; the run raises them all together at the end."""
        error: dict[str, Any] = {"type": kind, "loc": tuple(loc), "msg": msg, "input": value}
        if ctx:
            error["ctx"] = ctx
        if self.errors is None:
            self.errors = [error]
        else:
            self.errors.append(error)

    def query_pairs(self) -> list[tuple[str, str]]:
        """The query string as ``(name, value)`` pairs, in order."""
        pairs = self._query
        if pairs is None:
            pairs = self._query = _parse_query(self.scope.get("query_string", b""))
        return pairs

    def parse_query_last(self) -> dict[str, str]:
        """The query string as ``{name: last value}`` (stored in ``query_last_values``)."""
        values = self.query_last_values
        if values is None:
            pairs = self._query
            if pairs is None:
                values = parse_last_values(self.scope.get("query_string", b""))
            else:
                values = dict(pairs)
            self.query_last_values = values
        return values

    def query_last(self, name: str) -> Any:
        """The last value of query key ``name``, or :data:`MISSING` (Starlette's choice)."""
        return self.parse_query_last().get(name, MISSING)

    def query_all(self, name: str) -> list[str]:
        """Every value of query key ``name``, in order."""
        return [value for key, value in self.query_pairs() if key == name]

    def header_pairs(self) -> list[tuple[str, str]]:
        """The headers as lower-case ``(name, value)`` pairs, latin-1 decoded (RFC 9110 5.5)."""
        pairs = self._headers
        if pairs is None:
            pairs = self._headers = [
                (key.decode("latin-1").lower(), value.decode("latin-1"))
                for key, value in self.scope.get("headers", ())
            ]
        return pairs

    def header_first(self, name: str) -> Any:
        """The first value of header ``name`` (lower case), or :data:`MISSING`."""
        for key, value in self.header_pairs():
            if key == name:
                return value
        return MISSING

    def header_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (lower case), in order."""
        return [value for key, value in self.header_pairs() if key == name]

    def cookies(self) -> dict[str, str]:
        """The cookies of every ``Cookie`` header, later names overriding earlier ones."""
        cookies = self._cookies
        if cookies is None:
            cookies = {}
            for header in self.header_all("cookie"):
                # The same parser as HTTPConnection.cookies, so Cookie() and .cookies agree.
                cookies.update(cookie_parser(header))
            self._cookies = cookies
        return cookies


def _parse_query(raw: bytes | str) -> list[tuple[str, str]]:
    """Split a query string into pairs, keeping blank values (``?a=&b`` gives two keys)."""
    if not raw:
        return []
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    # Decoding is the slow part and most query strings need none: decide once per string.
    decode = "%" in text or "+" in text
    pairs = []
    for piece in text.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            if decode:
                key, value = unquote_plus(key), unquote_plus(value)
            pairs.append((key, value))
    return pairs


def parse_last_values(raw: bytes | str) -> dict[str, str]:
    """``dict(_parse_query(raw))`` without the list: the last value of each name."""
    if not raw:
        return {}
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    if "%" in text or "+" in text:
        return dict(_parse_query(text))
    if "&" not in text:  # one parameter, the commonest query string
        key, _, value = text.partition("=")
        return {key: value}
    values = {}
    for piece in text.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            values[key] = value
    return values
