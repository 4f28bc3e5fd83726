"""tether._json: the orjson and stdlib paths write the same text as the peer's json.dumps."""

from __future__ import annotations

import enum
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether import _json

_orjson = _json._make_orjson_codec()
orjson_dumps_bytes, orjson_loads = _orjson.dumps_bytes, _orjson.loads


def peer_text(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


keys = st.one_of(st.text(), st.integers(-10, 10), st.booleans(), st.none())
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # includes integers beyond 64 bits
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"])),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(documents)
def test_both_codecs_write_the_peers_text(obj: Any) -> None:
    expected = peer_text(obj)
    assert _json._stdlib_dumps(obj) == expected
    assert orjson_dumps_bytes(obj) == expected.encode()
    assert _orjson.dumps(obj) == expected
    assert _json.dumps(obj) == expected
    assert _json.dumps_bytes(obj) == expected.encode()


@settings(max_examples=300, deadline=None)
@given(documents)
def test_both_decoders_agree_within_64_bits(obj: Any) -> None:
    text = peer_text(obj)
    if any(len(token) > 18 for token in text.replace("-", " ").split()):
        return  # a long digit run may be a >64-bit integer: documented difference
    assert orjson_loads(text) == _json._stdlib_loads(text) == json.loads(text)
    assert orjson_loads(text.encode()) == _json._stdlib_loads(text.encode())


@pytest.mark.parametrize("value", [1.5e-05, 2.5e-07, 1e-300, -3e-5, 1e16, 1e22, 0.1])
def test_float_text_matches_python(value: float) -> None:
    assert orjson_dumps_bytes([value]).decode() == _json._stdlib_dumps([value]) == f"[{value!r}]"
    assert _json.dumps([value]) == f"[{value!r}]"
    assert _json.dumps({"-": value, "text": "a-b.c"}) == f'{{"-":{value!r},"text":"a-b.c"}}'


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_become_null_in_both(value: float) -> None:
    obj = {"a": [value, 1.0]}
    assert _json._stdlib_dumps(obj) == orjson_dumps_bytes(obj).decode() == '{"a":[null,1.0]}'


def test_fallback_cases_give_peer_text() -> None:
    class Level(enum.IntEnum):
        HIGH = 2

    class Name(str):
        pass

    obj = {1: 2**70, "l": Level.HIGH, "n": Name("x"), "t": (1, 2)}
    assert (
        orjson_dumps_bytes(obj).decode()
        == peer_text(obj)
        == '{"1":1180591620717411303424,"l":2,"n":"x","t":[1,2]}'
    )


def test_enum_and_uuid_same_in_both() -> None:
    class Color(enum.Enum):
        RED = "red"

    ident = uuid.UUID(int=5)
    obj = {"c": Color.RED, "u": ident}
    assert _json._stdlib_dumps(obj) == orjson_dumps_bytes(obj).decode()
    assert _json._stdlib_dumps(obj) == f'{{"c":"red","u":"{ident}"}}'


@pytest.mark.parametrize("dumps", [_json._stdlib_dumps, orjson_dumps_bytes])
def test_unserialisable_is_typeerror(dumps: Any) -> None:
    with pytest.raises(TypeError):
        dumps({"s": {1}})


@pytest.mark.parametrize("loads", [_json._stdlib_loads, orjson_loads])
def test_decode_errors_and_extensions(loads: Any) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads("{nope")
    with pytest.raises(ValueError):
        loads(b"\xff\xfe")
    assert math.isnan(loads("NaN"))
    assert loads('"\\ud800"') == "\ud800"


def test_codec_name() -> None:
    assert _json.CODEC in ("orjson", "json")
