"""The router's lookup index: which routes could match a path, in declaration order.

A linear scan tries every route's regex; with a thousand routes that is a thousand regex
calls for the last one. The index narrows the candidates first, per scope type:

* routes without parameters go into a dict keyed by their exact path;
* routes with parameters (and mounts) go into a trie keyed by the literal segments before
  their first parameter (``/api/v1/items/{id}`` sits at ``api -> v1 -> items``);
* everything the index cannot reason about (``Host``, custom ``matches``) sits at the trie
  root, so it is a candidate for every path.

A lookup collects the exact-path entry and the entries of every trie node along the request
path, then merges them by declaration index. The router then calls ``matches`` on each
candidate in that order, so "first declared match wins" holds exactly as in a linear scan:
the index only ever drops routes that could not have matched.

:class:`RouteList` is a ``list`` that counts its mutations; the router rebuilds the index
lazily when the count moved, so ``router.routes.append(...)`` keeps working.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import Any, SupportsIndex

from tether.routing.routes import BaseRoute, Route, WebSocketRoute

__all__ = ["RouteIndex", "RouteList"]

Entry = tuple[int, BaseRoute]


class RouteList(list[BaseRoute]):
    """A list of routes that bumps ``version`` on every change."""

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def append(self, route: BaseRoute) -> None:
        super().append(route)
        self._changed()

    def extend(self, routes: Iterable[BaseRoute]) -> None:
        super().extend(routes)
        self._changed()

    def insert(self, index: SupportsIndex, route: BaseRoute) -> None:
        super().insert(index, route)
        self._changed()

    def remove(self, route: BaseRoute) -> None:
        super().remove(route)
        self._changed()

    def pop(self, index: SupportsIndex = -1) -> BaseRoute:
        route = super().pop(index)
        self._changed()
        return route

    def clear(self) -> None:
        super().clear()
        self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, routes: Iterable[BaseRoute]) -> RouteList:  # type: ignore[override,misc]
        super().__iadd__(routes)
        self._changed()
        return self

    def __imul__(self, count: SupportsIndex) -> RouteList:
        super().__imul__(count)
        self._changed()
        return self


class _Node:
    __slots__ = ("children", "entries", "routes")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.entries: list[Entry] = []
        self.routes: tuple[BaseRoute, ...] = ()  # the entries' routes, for one-list lookups


class _Table:
    """The index for one scope type."""

    __slots__ = ("first_level", "root", "static", "static_routes")

    def __init__(self) -> None:
        self.static: dict[str, list[Entry]] = {}
        self.static_routes: dict[str, tuple[BaseRoute, ...]] = {}
        self.root = _Node()
        # First path segment -> routes, when that is the whole trie (see finish).
        self.first_level: dict[str, tuple[BaseRoute, ...]] | None = None

    def add(self, entry: Entry) -> None:
        key = entry[1].index_key()
        if isinstance(key, str):
            self.static.setdefault(key, []).append(entry)
            return
        node = self.root
        for segment in key or ():
            node = node.children.setdefault(segment, _Node())
        node.entries.append(entry)
        node.routes = tuple(route for _, route in node.entries)

    def finish(self) -> None:
        """Precompute the whole answer for every static path (they are few and often asked)."""
        self.static_routes = {path: tuple(self.walk(path)) for path in self.static}
        # The commonest trie: templated routes under distinct first segments (/rooms/{id},
        # /chat/{room}), nothing at the root. A walk is then one dict lookup.
        root = self.root
        self.first_level = None
        if not root.entries and not any(child.children for child in root.children.values()):
            self.first_level = {key: child.routes for key, child in root.children.items()}

    def candidates(self, path: str) -> Sequence[BaseRoute]:
        found = self.static_routes.get(path)
        if found is not None:
            return found
        return self.walk_unlisted(path)

    def walk_unlisted(self, path: str) -> Sequence[BaseRoute]:
        """:meth:`walk` for a path that is not a key of ``static_routes`` (no exact entry).

        Splits the path once and builds no list of entry lists unless two trie nodes on the
        way hold routes (the merge is then needed).
        """
        if path[:1] != "/":
            return self.walk(path)
        first = self.first_level
        if first is not None:
            end = path.find("/", 1)
            return first.get(path[1:] if end < 0 else path[1:end], ())
        node = self.root
        if node.entries:
            return self.walk(path)
        children = node.children
        hit: _Node | None = None
        more: list[_Node] | None = None
        for segment in path[1:].split("/"):
            child = children.get(segment)
            if child is None:
                break
            if child.entries:
                if hit is None:
                    hit = child
                elif more is None:
                    more = [hit, child]
                else:
                    more.append(child)
            children = child.children
            if not children:
                break
        if more is not None:
            return [route for _, route in heapq.merge(*(found.entries for found in more))]
        return () if hit is None else hit.routes

    def walk(self, path: str) -> Sequence[BaseRoute]:
        """The candidates for ``path`` from the trie (``candidates`` asks ``static_routes`` first)."""
        # A tuple or list, not a generator: the caller may stay suspended in a route for the
        # whole connection, and a live generator would be kept with it.
        lists: list[list[Entry]] = []
        found: Sequence[BaseRoute] = ()
        exact = self.static.get(path)
        if exact:
            lists.append(exact)
            found = tuple(route for _, route in exact)
        node = self.root
        if node.entries:
            lists.append(node.entries)
            found = node.routes
        if node.children:
            for segment in path.split("/")[1:]:
                child = node.children.get(segment)
                if child is None:
                    break
                node = child
                if node.entries:
                    lists.append(node.entries)
                    found = node.routes
        if len(lists) <= 1:
            return found
        # Declaration indexes are unique, so the tuples never compare their routes.
        return [route for _, route in heapq.merge(*lists)]


def _scope_types(route: BaseRoute) -> tuple[str, ...]:
    if route.index_key() is None:  # custom matching may accept either kind
        return ("http", "websocket")
    if isinstance(route, Route):
        return ("http",)
    if isinstance(route, WebSocketRoute):
        return ("websocket",)
    return ("http", "websocket")


class RouteIndex:
    """Candidate routes per scope type and path; built once per version of a route list."""

    __slots__ = ("_tables", "websocket")

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._tables = {"http": _Table(), "websocket": _Table()}
        self.websocket = self._tables["websocket"]
        """The WebSocket table, for the router's inlined lookup."""
        for position, route in enumerate(routes):
            for scope_type in _scope_types(route):
                self._tables[scope_type].add((position, route))
        for table in self._tables.values():
            table.finish()

    def candidates(self, scope_type: str, route_path: str) -> Sequence[BaseRoute]:
        """Routes that might match, in declaration order."""
        return self._tables[scope_type].candidates(route_path)
