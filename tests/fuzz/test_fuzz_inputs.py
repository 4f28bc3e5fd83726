"""Fuzzing of what an attacker controls: paths, query strings, headers, cookies, JSON, channel
protocol frames and the log masking. Each property: no unexpected exception, sane output.

A finding in a module this suite does not own becomes an ``xfail(strict=True)`` regression test
naming the bug, until the owner fixes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether._json import loads
from tether.datastructures import URL, Headers, QueryParams
from tether.logsafe import MASK, mask_headers, mask_query, mask_text
from tether.requests import HTTPConnection

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

latin1_bytes = st.binary(max_size=200)
# HTTP servers only pass token characters in header names, lowercased (ASGI); values may be
# any bytes.
TOKEN_CHARS = string.ascii_lowercase + string.digits + "!#$%&'*+-.^_`|~"
header_pairs = st.lists(
    st.tuples(
        st.text(TOKEN_CHARS, min_size=1, max_size=30).map(str.encode), st.binary(max_size=120)
    ),
    max_size=12,
)
tokens = st.text(string.ascii_letters + string.digits + "-_.", min_size=4, max_size=40)


def websocket_scope(path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "websocket",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogatepass"),
        "query_string": query,
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
    }


@FUZZ
@given(query=latin1_bytes)
def test_query_params_parse_anything(query: bytes) -> None:
    params = QueryParams(query)
    for key, value in params.multi_items():
        assert isinstance(key, str) and isinstance(value, str)
    assert QueryParams(str(params)).multi_items() == params.multi_items()


@FUZZ
@given(path=st.text(max_size=80), query=latin1_bytes, headers=header_pairs)
def test_connection_properties_never_crash(
    path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    conn = HTTPConnection(websocket_scope("/" + path, query, headers))
    assert isinstance(str(conn.url), str)
    assert isinstance(dict(conn.query_params), dict)
    assert isinstance(conn.cookies, dict)
    for name, value in conn.headers.items():
        assert name == name.lower() and isinstance(value, str)


@FUZZ
@given(text=st.text(max_size=200))
def test_url_parse_anything(text: str) -> None:
    try:
        url = URL(text)
    except ValueError:
        return  # urllib refuses some inputs (bad IPv6 brackets): a clear error is fine
    assert str(URL(str(url))) == str(url)  # what it prints parses back to the same URL
    assert isinstance(url.query, str)
    with contextlib.suppress(ValueError):  # a non-numeric port is reported as ValueError
        url.port  # noqa: B018


@FUZZ
@given(headers=header_pairs)
def test_headers_lookup_is_case_insensitive(headers: list[tuple[bytes, bytes]]) -> None:
    parsed = Headers(raw=headers)
    for name, _ in headers:
        key = name.decode("latin-1")
        assert parsed.getlist(key) == parsed.getlist(key.upper())


@FUZZ
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_json_loads_raises_only_value_error(data: str | bytes) -> None:
    with contextlib.suppress(ValueError):
        loads(data)


@FUZZ
@given(
    value=st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63)
        | st.text(max_size=20)
        | st.floats(allow_nan=False, allow_infinity=False),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_json_loads_agrees_with_stdlib(value: Any) -> None:
    text = json.dumps(value)
    assert loads(text) == json.loads(text)


@FUZZ
@given(
    name=st.sampled_from(["token", "access_token", "api_key", "key", "password", "auth"]),
    secret=tokens,
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_secret_never_survives_masking(name: str, secret: str, before: str, after: str) -> None:
    query = f"{before}&{name}={secret}&{after}"
    assert f"{name}={MASK}" in mask_query(query)
    assert f"{name}={MASK}" in mask_text(f"GET /ws?{query} 101")
    masked = dict(
        mask_headers(
            [
                (b"authorization", f"Bearer {secret}".encode()),
                (b"sec-websocket-protocol", f"chat, {secret}".encode()),
            ]
        )
    )
    assert secret not in masked["authorization"] and secret not in masked["sec-websocket-protocol"]


@FUZZ
@given(query=latin1_bytes, headers=header_pairs)
def test_logsafe_never_crashes(query: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    assert isinstance(mask_query(query), str)
    masked = mask_headers(headers)
    # One pair out per pair in, same order, names only lowercased (never dropped or renamed).
    assert [name for name, _ in masked] == [name.decode("latin-1").lower() for name, _ in headers]
    text = query.decode("latin-1")
    once = mask_text(text)
    assert mask_text(once) == once  # masking an already masked line changes nothing


# --- channel protocol -------------------------------------------------------------------------

frame_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=3),
)
frames = st.one_of(
    st.text(max_size=60),  # not JSON, or not an object
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "subscribe",
                    "unsubscribe",
                    "publish",
                    "history",
                    "presence",
                    "ping",
                    "rpc",
                    "nonsense",
                ]
            )
        },
        optional={
            "id": frame_values,
            "channel": st.one_of(st.text(max_size=30), frame_values),
            "data": frame_values,
            "since": frame_values,
            "limit": frame_values,
        },
    ).map(json.dumps),
)


async def run_protocol(texts: list[str]) -> list[dict[str, Any]]:
    from tether.channels import Channels
    from tether.websockets import WebSocket

    inbox: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    inbox += [{"type": "websocket.receive", "text": text} for text in texts]
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    drained = asyncio.Event()  # the endpoint asked for more after the last fuzzed frame

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop(0)
        drained.set()
        await done.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "websocket.close":
            done.set()

    hub = Channels("memory://")
    await hub.start()
    try:
        task = asyncio.create_task(
            hub.endpoint(WebSocket(websocket_scope("/ws", b"", []), receive, send))
        )
        # Every frame must reach the endpoint before the disconnect (a sleep could cut it short).
        asked = asyncio.create_task(drained.wait())
        await asyncio.wait({task, asked}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        asked.cancel()
        assert task.done() or not inbox, "the endpoint stopped reading the fuzzed frames"
        done.set()
        await asyncio.wait_for(task, 5)
    finally:
        await hub.stop()
    return sent


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(frames, max_size=8))
def test_channel_protocol_survives_any_frames(texts: list[str]) -> None:
    sent = asyncio.run(run_protocol(texts))
    for message in sent:
        if message["type"] == "websocket.send":
            assert isinstance(json.loads(message["text"]), dict)
        elif message["type"] == "websocket.close":
            assert 1000 <= message.get("code", 1000) < 5000
