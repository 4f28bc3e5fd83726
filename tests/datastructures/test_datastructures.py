"""tether.datastructures: URLs, headers, multidicts, state."""

from __future__ import annotations

from typing import Any

import pytest

from tether.datastructures import (
    URL,
    Address,
    CommaSeparatedStrings,
    FormData,
    Headers,
    ImmutableMultiDict,
    MultiDict,
    MutableHeaders,
    QueryParams,
    Secret,
    State,
    URLPath,
)


def ws_scope(**extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/123",
        "query_string": b"a=abc",
        "headers": [(b"host", b"testserver")],
    }
    scope.update(extra)
    return scope


def test_url_components() -> None:
    url = URL("wss://user:pw@Example.org:8443/chat/room?x=1&y=2#frag")
    assert (url.scheme, url.hostname, url.port, url.path) == (
        "wss",
        "example.org",
        8443,
        "/chat/room",
    )
    assert (url.query, url.fragment, url.username, url.password) == (
        "x=1&y=2",
        "frag",
        "user",
        "pw",
    )
    assert url.is_secure and not URL("ws://a/").is_secure and URL("https://a").is_secure
    assert url == str(url) and hash(url) == hash(URL(str(url)))
    assert "pw" not in repr(url)


def test_url_replace_and_query_helpers() -> None:
    url = URL("http://h:80/p?a=1&b=2")
    assert str(url.replace(scheme="https", port=443)) == "https://h:443/p?a=1&b=2"
    assert str(url.replace(hostname="other")) == "http://other:80/p?a=1&b=2"
    assert str(url.include_query_params(a=3)) == "http://h:80/p?b=2&a=3"
    assert str(url.replace_query_params(z="q")) == "http://h:80/p?z=q"
    assert str(url.remove_query_params("a")) == "http://h:80/p?b=2"
    assert str(URL(scheme="ws", netloc="x", path="/y")) == "ws://x/y"
    assert str(URL("http://[::1]:8000/").replace(port=9)) == "http://[::1]:9/"


def test_url_from_scope() -> None:
    assert str(URL(scope=ws_scope())) == "ws://testserver/123?a=abc"
    scope = ws_scope(
        scheme="wss", path="/api/room/r1", query_string=b"", headers=[(b"host", b"example.org")]
    )
    assert str(URL(scope=scope)) == "wss://example.org/api/room/r1"


@pytest.mark.parametrize(
    ("server", "scheme", "expected"),
    [
        (("example.com", 80), "ws", "ws://example.com/p"),
        (("example.com", 443), "wss", "wss://example.com/p"),
        (("example.com", 8000), "ws", "ws://example.com:8000/p"),
        (("::1", 8000), "ws", "ws://[::1]:8000/p"),
        (("sock", None), "ws", "ws://sock/p"),
        (None, "ws", "/p"),
    ],
)
def test_url_from_server_when_no_host(server: Any, scheme: str, expected: str) -> None:
    scope = ws_scope(path="/p", query_string=b"", headers=[], server=server, scheme=scheme)
    assert str(URL(scope=scope)) == expected


@pytest.mark.parametrize("host", [b"evil.com/x", b"a b", b"", b"x@y"])
def test_invalid_host_header_is_ignored(host: bytes) -> None:
    scope = ws_scope(path="/p", query_string=b"", headers=[(b"host", host)], server=("srv", 80))
    assert str(URL(scope=scope)) == "ws://srv/p"


def test_path_structure_characters_are_escaped() -> None:
    scope = ws_scope(path="/a?b#c\\d", query_string=b"")
    assert URL(scope=scope).path == "/a%3Fb%23c%5Cd"


@pytest.mark.parametrize(
    ("protocol", "base", "expected"),
    [
        ("websocket", "http://h/", "ws://h/room"),
        ("websocket", "https://h/", "wss://h/room"),
        ("http", "ws://h/", "http://h/room"),
        ("http", "wss://h/", "https://h/room"),
        ("", "wss://h/api/", "wss://h/api/room"),
    ],
)
def test_make_absolute_url(protocol: str, base: str, expected: str) -> None:
    assert str(URLPath("/room", protocol).make_absolute_url(base)) == expected


def test_urlpath_host_and_protocol() -> None:
    path = URLPath("/x", "http", host="other.org")
    assert path == "/x" and path.host == "other.org"
    assert str(path.make_absolute_url(URL("https://h/"))) == "https://other.org/x"
    with pytest.raises(ValueError):
        URLPath("/x", "ftp")


def test_headers_case_insensitive_multidict() -> None:
    headers = Headers(raw=[(b"x-a", b"1"), (b"x-a", b"2"), (b"host", b"h\xe9")])
    assert headers["X-A"] == "1" and headers.getlist("x-a") == ["1", "2"]
    assert headers["host"] == "hé" and "HOST" in headers and 5 not in headers
    assert headers.keys() == ["x-a", "x-a", "host"] and len(headers) == 3
    assert headers == Headers(raw=[(b"host", b"h\xe9"), (b"x-a", b"1"), (b"x-a", b"2")])
    assert Headers({"Content-Type": "a"}).raw == [(b"content-type", b"a")]
    with pytest.raises(KeyError):
        headers["missing"]
    with pytest.raises(ValueError):
        Headers({"x": "snow ☃"})


def test_headers_get_first_value_or_default() -> None:
    headers = Headers(raw=[(b"x-a", b"1"), (b"x-a", b"2"), (b"host", b"h\xe9")])
    assert headers.get("X-A") == "1" and headers.get("host") == "hé"
    assert headers.get("missing") is None and headers.get("missing", "d") == "d"
    assert headers.get("snow ☃", "d") == "d"  # no latin-1 name can match it
    with pytest.raises(ValueError, match="only one of"):
        Headers({"a": "1"}, raw=[])
    with pytest.raises(ValueError, match="only one of"):
        Headers(raw=[], scope={"headers": []})


def test_headers_from_scope_list_copy() -> None:
    scope = {"type": "http", "headers": ((b"a", b"1"),)}
    headers = Headers(scope=scope)
    assert isinstance(scope["headers"], list) and headers["a"] == "1"


def test_mutable_headers() -> None:
    headers = MutableHeaders(raw=[(b"a", b"1"), (b"a", b"2")])
    headers["A"] = "3"
    assert headers.raw == [(b"a", b"3")]
    headers.append("a", "4")
    assert headers.getlist("a") == ["3", "4"]
    del headers["a"]
    assert "a" not in headers
    headers.setdefault("b", "1")
    headers.add_vary_header("Origin")
    headers.add_vary_header("Cookie")
    assert headers["vary"] == "Origin, Cookie"
    merged = headers | {"c": "2"}
    assert "c" in merged and "c" not in headers
    headers |= {"d": "3"}
    assert headers["d"] == "3"


def test_multidicts() -> None:
    immutable = ImmutableMultiDict([("a", "1"), ("a", "2"), ("b", "3")])
    assert immutable["a"] == "2" and immutable.getlist("a") == ["1", "2"]
    assert list(immutable.items()) == [("a", "2"), ("b", "3")]
    assert immutable == ImmutableMultiDict([("b", "3"), ("a", "1"), ("a", "2")])
    mutable = MultiDict(immutable)
    mutable["a"] = "x"
    mutable.append("c", "1")
    assert mutable.multi_items() == [("b", "3"), ("a", "x"), ("c", "1")]
    assert mutable.poplist("a") == ["x"] and mutable.pop("zz", None) is None
    mutable.setlist("d", ["1", "2"])
    mutable.update({"d": "3"})
    assert mutable.getlist("d") == ["3"]
    del mutable["b"]
    assert mutable.setdefault("e", "5") == "5"
    mutable.clear()
    assert len(mutable) == 0


def test_query_params() -> None:
    params = QueryParams(b"a=1&a=2&b=&c=%C3%BC")
    assert params["a"] == "2" and params.getlist("a") == ["1", "2"] and params["b"] == ""
    assert dict(params) == {"a": "2", "b": "", "c": "ü"}  # percent-escapes are UTF-8
    assert str(QueryParams({"x": "1 2"})) == "x=1+2"
    assert QueryParams("q=1") == QueryParams([("q", "1")])
    assert QueryParams(x=1)["x"] == "1"


async def test_form_data() -> None:
    form = FormData([("a", "1"), ("a", "2")])
    assert form.getlist("a") == ["1", "2"]
    await form.close()


def test_state_shares_the_dict() -> None:
    backing: dict[str, Any] = {}
    state = State(backing)
    state.user = "u"
    state["room"] = "r"
    assert backing == {"user": "u", "room": "r"}
    assert state.room == "r" and len(state) == 2 and set(state) == {"user", "room"}
    del state.user
    with pytest.raises(AttributeError, match="user"):
        _ = state.user
    with pytest.raises(AttributeError):
        del state.nope
    assert "room" in state


def test_small_types() -> None:
    assert Address("1.2.3.4", 5).host == "1.2.3.4"
    secret = Secret("token")
    assert "token" not in repr(secret) and str(secret) == "token" and secret
    values = CommaSeparatedStrings("a, b, 'c d'")
    assert list(values) == ["a", "b", "c d"] and values[0] == "a" and len(values) == 3
    assert list(CommaSeparatedStrings(["x"])) == ["x"]
