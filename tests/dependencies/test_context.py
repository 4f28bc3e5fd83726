"""Context query parsing: the last-value dict agrees with the ordered pairs."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tether.dependencies.context import MISSING, Context, _parse_query, parse_last_values
from tether.websockets import WebSocket

QUERY = st.text(alphabet="ab=&%+2é ", max_size=12)


@given(QUERY)
def test_last_values_agree_with_pairs(text: str) -> None:
    assert parse_last_values(text) == dict(_parse_query(text))
    assert parse_last_values(text.encode("latin-1")) == dict(_parse_query(text))


async def _never(*args: Any) -> Any:
    raise AssertionError("no I/O")


@given(QUERY)
def test_query_last_matches_query_all(text: str) -> None:
    scope = {"type": "websocket", "query_string": text.encode("latin-1"), "headers": []}
    for first_pairs in (False, True):
        ctx = Context(WebSocket(scope, _never, _never), None)
        if first_pairs:
            ctx.query_pairs()
        for name in ("a", "b", "", "a b"):
            values = ctx.query_all(name)
            assert ctx.query_last(name) == (values[-1] if values else MISSING)


@given(QUERY)
def test_pairs_agree_with_query_params(text: str) -> None:
    # Query() parameters and websocket.query_params must read the same values.
    from tether.datastructures import QueryParams

    raw = text.encode("latin-1")
    assert _parse_query(raw) == QueryParams(raw).multi_items()
