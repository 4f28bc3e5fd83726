"""Plain data used by connections: URLs, headers, query strings, forms, state.

No I/O happens here. The shapes and names are the ones users know from Starlette
(``URL``, ``URLPath``, ``Headers``, ``MutableHeaders``, ``QueryParams``, ``ImmutableMultiDict``,
``MultiDict``, ``FormData``, ``State``, ``Address``, ``Secret``, ``CommaSeparatedStrings``).
Header names and values are decoded as latin-1 (RFC 9110 section 5.5 allows only octets).
"""

from __future__ import annotations

import re
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, Sequence, ValuesView
from shlex import shlex
from typing import Any, NamedTuple, TypeVar
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from tether.types import Scope

__all__ = [
    "URL",
    "Address",
    "CommaSeparatedStrings",
    "FormData",
    "Headers",
    "ImmutableMultiDict",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "Secret",
    "State",
    "URLPath",
]

_KeyT = TypeVar("_KeyT")
_ValueT = TypeVar("_ValueT")

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


class Secret:
    """A string that does not show in ``repr()`` (tracebacks, logs); ``str()`` reveals it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


class CommaSeparatedStrings(Sequence[str]):
    """A sequence parsed from ``"a, b, 'c d'"`` (shell-like quoting) or given as a list."""

    def __init__(self, value: str | Sequence[str]) -> None:
        if isinstance(value, str):
            splitter = shlex(value, posix=True)
            splitter.whitespace = ","
            splitter.whitespace_split = True
            self._items = [item.strip() for item in splitter]
        else:
            self._items = list(value)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        return self._items[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"

    def __str__(self) -> str:
        return ", ".join(repr(item) for item in self._items)


class ImmutableMultiDict(Mapping[_KeyT, _ValueT]):
    """A read-only mapping that keeps every value of repeated keys.

    ``[]`` and ``get`` give the last value of a key; ``getlist`` gives all of them in order.
    """

    _dict: dict[_KeyT, _ValueT]
    _list: list[tuple[_KeyT, _ValueT]]

    def __init__(
        self,
        *args: ImmutableMultiDict[_KeyT, _ValueT]
        | Mapping[_KeyT, _ValueT]
        | Iterable[tuple[_KeyT, _ValueT]],
        **kwargs: Any,
    ) -> None:
        if len(args) > 1:
            raise TypeError(f"{type(self).__name__} takes at most one positional argument")
        value: Any = args[0] if args else []
        if kwargs:
            value = ImmutableMultiDict(value).multi_items() + list(kwargs.items())
        items: list[tuple[Any, Any]]
        if not value:
            items = []
        elif hasattr(value, "multi_items"):
            items = list(value.multi_items())
        elif isinstance(value, Mapping):
            items = list(value.items())
        else:
            items = list(value)
        self._list = items
        self._dict = dict(items)

    def getlist(self, key: Any) -> list[_ValueT]:
        """Every value of ``key`` in order (empty list when absent)."""
        return [v for k, v in self._list if k == key]

    def keys(self) -> KeysView[_KeyT]:
        """The distinct keys."""
        return self._dict.keys()

    def values(self) -> ValuesView[_ValueT]:
        """The last value of each key."""
        return self._dict.values()

    def items(self) -> ItemsView[_KeyT, _ValueT]:
        """``(key, last value)`` pairs."""
        return self._dict.items()

    def multi_items(self) -> list[tuple[_KeyT, _ValueT]]:
        """Every ``(key, value)`` pair, repeated keys included, in order."""
        return list(self._list)

    def __getitem__(self, key: _KeyT) -> _ValueT:
        return self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[_KeyT]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return False
        return sorted(map(repr, self._list)) == sorted(map(repr, other._list))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


class MultiDict(ImmutableMultiDict[Any, Any]):
    """A mutable :class:`ImmutableMultiDict`: setting a key replaces all its values."""

    def __setitem__(self, key: Any, value: Any) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: Any) -> None:
        self._list = [(k, v) for k, v in self._list if k != key]
        del self._dict[key]

    def pop(self, key: Any, *default: Any) -> Any:
        """Remove ``key`` and return its last value (or ``default``; KeyError without one)."""
        self._list = [(k, v) for k, v in self._list if k != key]
        return self._dict.pop(key, *default)

    def popitem(self) -> tuple[Any, Any]:
        """Remove and return the most recently set key with its last value."""
        key, value = self._dict.popitem()
        self._list = [(k, v) for k, v in self._list if k != key]
        return key, value

    def poplist(self, key: Any) -> list[Any]:
        """Remove ``key`` and return all its values."""
        values = [v for k, v in self._list if k == key]
        self.pop(key, None)
        return values

    def clear(self) -> None:
        """Remove everything."""
        self._dict.clear()
        self._list.clear()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """Return the value of ``key``, setting it to ``default`` first when absent."""
        if key not in self:
            self._dict[key] = default
            self._list.append((key, default))
        return self[key]

    def setlist(self, key: Any, values: list[Any]) -> None:
        """Replace every value of ``key`` with ``values`` (an empty list removes the key)."""
        if not values:
            self.pop(key, None)
            return
        self._list = [(k, v) for k, v in self._list if k != key]
        self._list.extend((key, value) for value in values)
        self._dict[key] = values[-1]

    def append(self, key: Any, value: Any) -> None:
        """Add one more value for ``key``."""
        self._list.append((key, value))
        self._dict[key] = value

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Replace the keys present in the argument(s) with their values."""
        other = MultiDict(*args, **kwargs)
        keys = set(other.keys())
        self._list = [(k, v) for k, v in self._list if k not in keys] + other.multi_items()
        self._dict.update(other)


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


class FormData(ImmutableMultiDict[str, Any]):
    """Parsed form fields (``application/x-www-form-urlencoded``)."""

    async def close(self) -> None:
        """Release uploaded files; URL-encoded forms hold none, so this does nothing yet."""
        for _, value in self.multi_items():
            closer = getattr(value, "close", None)
            if closer is not None:
                await closer()


def _encode_latin1(text: str, what: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"header {what} {text!r} is not latin-1 encodable") from None


def _lookup_name(key: str) -> bytes | None:
    # Header names are ASCII tokens, matched case-insensitively in ASCII only (RFC 9110 5.1);
    # a name that latin-1 cannot hold can match nothing.
    try:
        return key.encode("latin-1").lower()
    except UnicodeEncodeError:
        return None


class Headers(Mapping[str, str]):
    """Immutable, case-insensitive HTTP headers that keep duplicates and order.

    Build from a mapping, from raw ``(bytes, bytes)`` pairs (``raw=``) or from a scope
    (``scope=``). ``[]`` gives the first value of a name; ``getlist`` gives all of them.
    """

    __slots__ = ("_list",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: Scope | None = None,
    ) -> None:
        if (headers is not None) + (raw is not None) + (scope is not None) > 1:
            raise ValueError('Headers() takes only one of "headers", "raw" or "scope"')
        self._list: list[tuple[bytes, bytes]]
        if headers is not None:
            self._list = [
                (_encode_latin1(k, "name").lower(), _encode_latin1(v, "value"))
                for k, v in headers.items()
            ]
        elif raw is not None:
            self._list = raw
        elif scope is not None:
            # The scope may carry any iterable; keep one list so later reads see the same data.
            raw_headers = scope["headers"]
            if not isinstance(raw_headers, list):
                raw_headers = scope["headers"] = list(raw_headers)
            self._list = raw_headers
        else:
            self._list = []

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The underlying ``(name, value)`` byte pairs."""
        return list(self._list)

    def keys(self) -> list[str]:  # type: ignore[override]
        """Every header name, lower-case, duplicates included."""
        return [key.decode("latin-1") for key, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        """Every header value, duplicates included."""
        return [value.decode("latin-1") for _, value in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """Every ``(name, value)`` pair, decoded as latin-1."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._list]

    def getlist(self, key: str) -> list[str]:
        """Every value of the header ``key`` (case-insensitive)."""
        name = _lookup_name(key)
        return [v.decode("latin-1") for k, v in self._list if k == name]

    def mutablecopy(self) -> MutableHeaders:
        """A :class:`MutableHeaders` copy."""
        return MutableHeaders(raw=self._list[:])

    def __getitem__(self, key: str) -> str:
        name = _lookup_name(key)
        for k, v in self._list:
            if k == name:
                return v.decode("latin-1")
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The first value of the header ``key`` (case-insensitive), else ``default``."""
        # Mapping.get would go through __getitem__ and a caught KeyError for absent names.
        name = _lookup_name(key)
        for k, v in self._list:
            if k == name:
                return v.decode("latin-1")
        return default

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = _lookup_name(key)
        return name is not None and any(k == name for k, _ in self._list)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return False
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        as_dict = dict(self.items())
        if len(as_dict) == len(self):
            return f"{type(self).__name__}({as_dict!r})"
        return f"{type(self).__name__}(raw={self.raw!r})"


class MutableHeaders(Headers):
    """Headers that can be changed; setting a name replaces all its values."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        name = _encode_latin1(key, "name").lower()
        encoded = _encode_latin1(value, "value")
        positions = [i for i, (k, _) in enumerate(self._list) if k == name]
        for index in reversed(positions[1:]):
            del self._list[index]
        if positions:
            self._list[positions[0]] = (name, encoded)
        else:
            self._list.append((name, encoded))

    def __delitem__(self, key: str) -> None:
        name = _lookup_name(key)
        self._list[:] = [(k, v) for k, v in self._list if k != name]

    def __ior__(self, other: Mapping[str, str]) -> MutableHeaders:
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        new = self.mutablecopy()
        new.update(other)
        return new

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The live list of ``(name, value)`` byte pairs (changes show in responses)."""
        return self._list

    def setdefault(self, key: str, value: str) -> str:
        """Return the header's value, setting it to ``value`` first when absent."""
        if key not in self:
            self[key] = value
        return self[key]

    def update(self, other: Mapping[str, str]) -> None:
        """Set every header of ``other``."""
        for key, value in other.items():
            self[key] = value

    def append(self, key: str, value: str) -> None:
        """Add one more value for ``key``, keeping existing ones."""
        self._list.append((_encode_latin1(key, "name").lower(), _encode_latin1(value, "value")))

    def add_vary_header(self, vary: str) -> None:
        """Add ``vary`` to the ``Vary`` header."""
        existing = self.get("vary")
        self["vary"] = f"{existing}, {vary}" if existing else vary


class State:
    """Attribute and item access over one dict (``scope["state"]`` or the app's state).

    Writes go to the wrapped dict, so ``websocket.state.user = u`` is
    ``scope["state"]["user"] = u``.
    """

    __slots__ = ("_state",)
    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no attribute {key!r}") from None

    def __delattr__(self, key: str) -> None:
        try:
            del self._state[key]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no attribute {key!r}") from None

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        del self._state[key]

    def __contains__(self, key: object) -> bool:
        return key in self._state

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._state!r})"
