"""URLs of connections: :class:`URL`, :class:`URLPath`, :class:`QueryParams`, :class:`Address`.

Re-exported by :mod:`tether.datastructures`, the public home of these names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from tether.datastructures.multidict import ImmutableMultiDict, MultiDict
from tether.types import Scope

__all__ = ["URL", "Address", "QueryParams", "URLPath"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SECURE_SCHEMES = frozenset({"https", "wss"})
# RFC 3986 host (reg-name, IPv4 or bracketed IP literal) with an optional port. A Host header
# that does not match is ignored, so a forged value never reaches url_for().
_VALID_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::[0-9]*)?")
# Characters a decoded ASGI path may carry that would change the URL's structure.
_PATH_ESCAPES = str.maketrans({"?": "%3F", "#": "%23", "\\": "%5C"})


class Address(NamedTuple):
    """The client or server address of a connection: ``(host, port)``."""

    host: str
    port: int


class URL:
    """An immutable URL, built from a string, from an ASGI scope, or from components.

    ``URL("ws://example.org/chat?x=1")``, ``URL(scope=scope)`` or
    ``URL(scheme="wss", netloc="example.org", path="/chat")``.
    """

    __slots__ = ("_url", "_components")

    def __init__(self, url: str = "", scope: Scope | None = None, **components: Any) -> None:
        if scope is not None:
            if url or components:
                raise ValueError('URL() takes either "url"/components or "scope", not both')
            url = _url_from_scope(scope)
        elif components:
            if url:
                raise ValueError('URL() takes either "url" or components, not both')
            url = URL("").replace(**components).components.geturl()
        self._url = str(url)
        self._components: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        """The parsed URL as a :class:`urllib.parse.SplitResult`."""
        if self._components is None:
            self._components = urlsplit(self._url)
        return self._components

    @property
    def scheme(self) -> str:
        """``http``, ``https``, ``ws``, ``wss`` or empty for a relative URL."""
        return self.components.scheme

    @property
    def netloc(self) -> str:
        """``user:password@host:port`` as written."""
        return self.components.netloc

    @property
    def path(self) -> str:
        """The path, percent-encoded as written."""
        return self.components.path

    @property
    def query(self) -> str:
        """The query string without ``?``."""
        return self.components.query

    @property
    def fragment(self) -> str:
        """The fragment without ``#``."""
        return self.components.fragment

    @property
    def username(self) -> str | None:
        """The user name of the netloc, if any."""
        return self.components.username

    @property
    def password(self) -> str | None:
        """The password of the netloc, if any."""
        return self.components.password

    @property
    def hostname(self) -> str | None:
        """The host name, lower-cased, without brackets or port."""
        return self.components.hostname

    @property
    def port(self) -> int | None:
        """The explicit port, or None (raises ValueError for a malformed port)."""
        return self.components.port

    @property
    def is_secure(self) -> bool:
        """True for ``https`` and ``wss``."""
        return self.scheme in _SECURE_SCHEMES

    def replace(self, **kwargs: Any) -> URL:
        """Return a copy with components replaced.

        Besides the ``SplitResult`` fields (``scheme``, ``netloc``, ``path``, ``query``,
        ``fragment``) it takes ``hostname``, ``port``, ``username`` and ``password``, which
        rebuild the netloc.
        """
        if {"username", "password", "hostname", "port"} & kwargs.keys():
            kwargs["netloc"] = self._rebuild_netloc(kwargs)
        return URL(self.components._replace(**kwargs).geturl())

    def _rebuild_netloc(self, kwargs: dict[str, Any]) -> str:
        hostname = kwargs.pop("hostname", None)
        port = kwargs.pop("port", self.port)
        username = kwargs.pop("username", self.username)
        password = kwargs.pop("password", self.password)
        if hostname is None:
            netloc = self.netloc
            _, _, hostname = netloc.rpartition("@")
            if hostname[-1:] != "]":
                hostname = hostname.rsplit(":", 1)[0]
        netloc = hostname
        if port is not None:
            netloc += f":{port}"
        if username is not None:
            userpass = username if password is None else f"{username}:{password}"
            netloc = f"{userpass}@{netloc}"
        return str(netloc)

    def include_query_params(self, **kwargs: Any) -> URL:
        """Return a copy with these query parameters added or replaced (others kept)."""
        params = MultiDict(parse_qsl(self.query, keep_blank_values=True))
        params.update({str(key): str(value) for key, value in kwargs.items()})
        return self.replace(query=urlencode(params.multi_items()))

    def replace_query_params(self, **kwargs: Any) -> URL:
        """Return a copy whose query string holds exactly these parameters."""
        return self.replace(query=urlencode([(str(k), str(v)) for k, v in kwargs.items()]))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        """Return a copy without the given query parameter names."""
        drop = {keys} if isinstance(keys, str) else set(keys)
        params = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k not in drop]
        return self.replace(query=urlencode(params))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str | URL) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        url = self._url
        if self.password:
            url = str(self.replace(password="********"))
        return f"{type(self).__name__}({url!r})"


def _url_from_scope(scope: Scope) -> str:
    """Build the URL string of an ASGI connection scope (WebSocket spec, "Connection scope")."""
    scheme = scope.get("scheme") or ("ws" if scope.get("type") == "websocket" else "http")
    path = scope["path"].translate(_PATH_ESCAPES)
    query = scope.get("query_string") or b""
    host = _host_header(scope)
    if host is None:
        host = _netloc_from_server(scheme, scope.get("server"))
    url = f"{scheme}://{host}{path}" if host else path
    if query:
        url += "?" + query.decode("latin-1")
    return url


def _host_header(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"host":
            host: str = value.decode("latin-1")
            return host if _VALID_HOST.fullmatch(host) else None
    return None


def _netloc_from_server(scheme: str, server: Sequence[Any] | None) -> str:
    if not server:
        return ""
    host, port = server[0], server[1]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return str(host)
    return f"{host}:{port}"


class URLPath(str):
    """A path produced by ``url_path_for``, remembering its protocol and host.

    ``protocol`` is ``"http"``, ``"websocket"`` or ``""``; it picks the scheme in
    :meth:`make_absolute_url`.
    """

    protocol: str
    host: str

    def __new__(cls, path: str, protocol: str = "", host: str = "") -> URLPath:
        if protocol not in ("http", "websocket", ""):
            raise ValueError(
                f'URLPath protocol must be "http", "websocket" or "", not {protocol!r}'
            )
        return str.__new__(cls, path)

    def __init__(self, path: str, protocol: str = "", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def make_absolute_url(self, base_url: str | URL) -> URL:
        """Join this path to ``base_url``.

        The scheme follows the protocol: ``http``/``https`` for HTTP routes, ``ws``/``wss``
        for WebSocket routes (secure when the base is ``https`` or ``wss``), the base scheme
        otherwise.
        """
        base = base_url if isinstance(base_url, URL) else URL(base_url)
        if self.protocol == "http":
            scheme = "https" if base.is_secure else "http"
        elif self.protocol == "websocket":
            scheme = "wss" if base.is_secure else "ws"
        else:
            scheme = base.scheme
        netloc = self.host or base.netloc
        path = base.path.rstrip("/") + str(self)
        return URL(scheme=scheme, netloc=netloc, path=path)


class QueryParams(ImmutableMultiDict[str, str]):
    """Parsed query parameters; built from a query string (``str`` or ``bytes``) or pairs.

    Parsing keeps blank values; ``str()`` re-encodes the parameters.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        value = args[0] if args else []
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            super().__init__(parse_qsl(value, keep_blank_values=True), **kwargs)
        else:
            super().__init__(*args, **kwargs)
        self._list = [(str(k), str(v)) for k, v in self._list]
        self._dict = {str(k): str(v) for k, v in self._dict.items()}

    def __str__(self) -> str:
        return urlencode(self._list)
