"""Multi-value mappings: :class:`ImmutableMultiDict`, :class:`MultiDict`, :class:`FormData`.

Re-exported by :mod:`tether.datastructures`, the public home of these names.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any, TypeVar

__all__ = ["FormData", "ImmutableMultiDict", "MultiDict"]

_KeyT = TypeVar("_KeyT")
_ValueT = TypeVar("_ValueT")


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


class FormData(ImmutableMultiDict[str, Any]):
    """Parsed form fields (``application/x-www-form-urlencoded``)."""

    async def close(self) -> None:
        """Release uploaded files; URL-encoded forms hold none, so this does nothing yet."""
        for _, value in self.multi_items():
            closer = getattr(value, "close", None)
            if closer is not None:
                await closer()
