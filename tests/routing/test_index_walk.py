"""The index's one-split walk gives the candidates the general walk gives."""

from hypothesis import given
from hypothesis import strategies as st

from tether.routing import Mount, WebSocketRoute
from tether.routing.index import RouteIndex


async def _endpoint(ws: object) -> None: ...


TEMPLATES = [
    "/a",
    "/a/{x}",
    "/a/b/{y}",
    "/a/b",
    "/a/b/c/{z:int}",
    "/{anything}",
    "/b/{x}/c",
    "/c/{x}",
]

_SEGMENTS = st.sampled_from(["a", "b", "c", "d", "", "1", "x\n"])
_PATHS = st.lists(_SEGMENTS, max_size=5).map(lambda parts: "/" + "/".join(parts))


def _index(templates: list[str], mount: bool = True) -> RouteIndex:
    routes = [WebSocketRoute(path, _endpoint) for path in templates]
    if mount:
        routes.append(Mount("/a/b", routes=[WebSocketRoute("/{q}", _endpoint)]))
    return RouteIndex(routes)


@given(
    st.lists(st.sampled_from(TEMPLATES), min_size=1, max_size=6, unique=True),
    _PATHS,
    st.booleans(),
)
def test_walk_unlisted_agrees_with_walk(templates: list[str], path: str, mount: bool) -> None:
    table = _index(templates, mount).websocket
    if path in table.static_routes:
        return  # the router answers those from static_routes, never from a walk
    assert list(table.walk_unlisted(path)) == list(table.walk(path))


def test_two_trie_levels_are_merged_in_declaration_order() -> None:
    table = _index(["/a/b/{y}", "/a/{x}"]).websocket
    routes = table.walk_unlisted("/a/b/zz")
    assert [getattr(route, "path", None) for route in routes] == ["/a/b/{y}", "/a/{x}", "/a/b"]


def test_a_one_level_trie_is_one_lookup_and_agrees() -> None:
    table = _index(["/a/{x}", "/c/{x}", "/b/{x}/c", "/a"], mount=False).websocket
    assert table.first_level is not None
    for path in ("/a/1", "/a", "/c/x/y", "/b/1/c", "/d/1", "/", "//", "/a/"):
        if path not in table.static_routes:
            assert list(table.walk_unlisted(path)) == list(table.walk(path)), path
    assert _index(["/a/{x}"], mount=True).websocket.first_level is None
