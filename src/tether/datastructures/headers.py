"""HTTP headers: :class:`Headers` and :class:`MutableHeaders`.

Names and values are decoded as latin-1 (RFC 9110 section 5.5 allows only octets).
Re-exported by :mod:`tether.datastructures`, the public home of these names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar, overload

from tether.types import Scope

__all__ = ["Headers", "MutableHeaders", "headers_from_scope"]

_T = TypeVar("_T")


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


_new = object.__new__

_NAMES: dict[str, bytes | None] = {}
"""Header names as ``get`` looks them up (latin-1, lower case), by the str asked for: code
asks for the same few names on every connection. Bounded, since names may come from input."""
_MAX_NAMES = 256


def _cached_name(key: str) -> bytes | None:
    name = _lookup_name(key)
    if len(_NAMES) < _MAX_NAMES:
        _NAMES[key] = name
    return name


def headers_from_scope(scope: Scope) -> Headers:
    """``Headers(scope=scope)`` without the argument checks: what every connection builds.

    Raises ``KeyError`` when the scope has no ``headers``.
    """
    raw = scope["headers"]
    if not isinstance(raw, list):  # any iterable may come: keep one list so later reads agree
        raw = scope["headers"] = list(raw)
    headers = _new(Headers)
    headers._list = raw
    return headers


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
        self._list: list[tuple[bytes, bytes]]
        if scope is not None and headers is None and raw is None:  # every connection's case
            # The scope may carry any iterable; keep one list so later reads see the same data.
            raw_headers = scope["headers"]
            if not isinstance(raw_headers, list):
                raw_headers = scope["headers"] = list(raw_headers)
            self._list = raw_headers
            return
        if (headers is not None) + (raw is not None) + (scope is not None) > 1:
            raise ValueError('Headers() takes only one of "headers", "raw" or "scope"')
        if headers is not None:
            self._list = [
                (_encode_latin1(k, "name").lower(), _encode_latin1(v, "value"))
                for k, v in headers.items()
            ]
        elif raw is not None:
            self._list = raw
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

    @overload
    def get(self, key: str) -> str | None: ...

    @overload
    def get(self, key: str, default: str | _T) -> str | _T: ...

    def get(self, key: str, default: Any = None) -> Any:
        """The first value of the header ``key`` (case-insensitive), else ``default``."""
        # Mapping.get would go through __getitem__ and a caught KeyError for absent names.
        try:
            name = _NAMES[key]
        except KeyError:
            name = _cached_name(key)
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
