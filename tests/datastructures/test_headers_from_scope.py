"""Headers built from a scope, and ``get`` with its cache of looked-up names."""

from typing import Any

from tether.datastructures.headers import _MAX_NAMES, _NAMES, Headers, headers_from_scope
from tether.requests import HTTPConnection


def test_from_scope_is_headers_scope_and_shares_the_list() -> None:
    raw = [(b"host", b"example.org"), (b"x-a", b"1"), (b"x-a", b"2")]
    scope: dict[str, Any] = {"type": "websocket", "headers": raw}
    built = headers_from_scope(scope)
    assert type(built) is Headers
    assert built == Headers(scope=scope)
    assert built.getlist("X-A") == ["1", "2"]
    assert built.raw == raw


def test_from_scope_turns_any_iterable_into_one_list() -> None:
    scope: dict[str, Any] = {"type": "http", "headers": ((b"a", b"1"),)}
    assert HTTPConnection(scope).headers["a"] == "1"
    assert scope["headers"] == [(b"a", b"1")]


def test_get_is_case_insensitive_and_survives_a_full_cache() -> None:
    headers = Headers(raw=[(b"content-type", b"text/plain"), (b"x-\xe9", b"v")])
    for _ in range(2):  # the second round reads cached names
        assert headers.get("Content-Type") == "text/plain"
        assert headers.get("X-\xe9") == "v"  # ASCII-only case folding (RFC 9110 5.1)
        assert headers.get("x-\u20ac", "none") == "none"  # not latin-1: matches nothing
    for index in range(_MAX_NAMES + 10):
        assert headers.get(f"x-unknown-{index}") is None
    assert len(_NAMES) <= _MAX_NAMES
    assert headers.get("CONTENT-TYPE") == "text/plain"
