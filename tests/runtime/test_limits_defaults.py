"""Limits are on unless lifted: what a fresh ``Tether()`` refuses, on a real uvicorn.

Each case runs on both of the app's paths: the direct one (limits enforced inline by the
WebSocket) and the full stack (``metrics=True`` puts a middleware in, so ``LimitsMiddleware``
enforces them). The outcomes must be the same, and the documented ones (docs/limits.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Annotated

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from servers import uvicorn_thread
from tether import Depends, Tether, WebSocket, WebSocketDisconnect
from tether.limits import WebSocketLimits
from tether.metrics import MetricsRegistry, TetherMetrics
from tether.runtime.limits_policy import CLIENT_SPEAKS_FIRST
from tether.security import APIKeyQuery
from tether.testclient import TestClient, WebSocketDenialResponse

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MIB = 1 << 20
key_scheme = APIKeyQuery(name="key")


def build(path: str, limits: WebSocketLimits | None | str = "default") -> Tether:
    options: dict[str, object] = {} if limits == "default" else {"limits": limits}
    if path == "full stack":
        options["metrics"] = TetherMetrics(MetricsRegistry())
    app = Tether(**options)  # type: ignore[arg-type]

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                await websocket.send_text(str(len(text)))
        except WebSocketDisconnect:
            pass

    @app.websocket("/private")
    async def private(websocket: WebSocket, key: Annotated[str, Depends(key_scheme)]) -> None:
        await websocket.accept()
        text = await websocket.receive_text()  # silent first: only the exemption keeps it open
        await websocket.send_text(f"hello {key}: {text}")
        await websocket.receive_text()

    app.add_websocket_route("/feed", feed)
    app.add_websocket_route("/room", room)
    app.add_websocket_route("/greeter", greeter)
    return app


async def feed(websocket: WebSocket) -> None:
    """Push only (a dashboard): never reads, and the client never writes."""
    await websocket.accept()
    for n in range(8):
        await websocket.send_text(str(n))
        await asyncio.sleep(0.1)
    await websocket.close()


async def room(websocket: WebSocket) -> None:
    """A chat room after a welcome: a reader who never types keeps the socket."""
    await websocket.accept()
    await websocket.send_text("welcome")
    try:
        while True:
            await websocket.send_text("echo " + await websocket.receive_text())
    except WebSocketDisconnect:
        pass


async def greeter(websocket: WebSocket) -> None:
    """A protocol endpoint that greets first (as the channels endpoint does)."""
    await websocket.accept()
    await websocket.send_text("connected")
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


setattr(greeter, CLIENT_SPEAKS_FIRST, True)


@pytest.fixture(scope="module", params=["direct", "full stack"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with uvicorn_thread(build(request.param)) as base:
        yield base.replace("http://", "ws://")


async def closed_with(ws: object) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()  # type: ignore[attr-defined]
    close = info.value.rcvd
    assert close is not None, "the server dropped TCP without a close frame"
    return close.code, close.reason


async def test_a_fresh_app_refuses_a_2_mib_message_with_1009(url: str) -> None:
    async with connect(url + "/echo", max_size=None) as ws:
        await ws.send("x" * 1000)
        assert await ws.recv() == "1000"
        await ws.send("x" * (2 * MIB))
        assert await closed_with(ws) == (1009, "message too big")


async def test_a_fresh_app_takes_a_1_mib_message(url: str) -> None:
    async with connect(url + "/echo", max_size=None) as ws:
        await ws.send("x" * MIB)
        assert await ws.recv() == str(MIB)


async def test_a_fresh_app_closes_a_1000_per_second_flood_with_1013(url: str) -> None:
    async with connect(url + "/echo") as ws:
        for _ in range(1000):  # sent as fast as the loop goes: far above 1,000 per second
            try:
                await ws.send("x")
            except ConnectionClosed:
                break
        assert await closed_with(ws) == (1013, "rate limit exceeded")


async def test_a_burst_of_the_bucket_then_the_refill_passes(url: str) -> None:
    async with connect(url + "/echo") as ws:
        for _ in range(200):  # the whole bucket at once
            await ws.send("x")
        for _ in range(200):
            assert await ws.recv() == "1"
        await asyncio.sleep(0.1)  # time is what is tested here: 0.1 s at 100/s refills 10
        for _ in range(5):
            await ws.send("y")
            assert await ws.recv() == "1"


@pytest.mark.parametrize("path", ["direct", "full stack"])
@pytest.mark.parametrize(
    "limits",
    [None, WebSocketLimits.none(), WebSocketLimits.recommended(max_message_size=None)],
    ids=["limits=None", "none()", "field None"],
)
async def test_lifted_limits_let_a_2_mib_message_through(
    path: str, limits: WebSocketLimits | None
) -> None:
    with uvicorn_thread(build(path, limits)) as base:
        async with connect(base.replace("http", "ws") + "/echo", max_size=None) as ws:
            await ws.send("x" * (2 * MIB))
            assert await ws.recv() == str(2 * MIB)


@pytest.mark.parametrize("path", ["direct", "full stack"])
async def test_rate_limit_lifted_by_none(path: str) -> None:
    with uvicorn_thread(build(path, WebSocketLimits.recommended(messages_per_second=None))) as b:
        async with connect(b.replace("http", "ws") + "/echo") as ws:
            for _ in range(1000):
                await ws.send("x")
            for _ in range(1000):
                assert await ws.recv() == "1"


@pytest.mark.parametrize("path", ["direct", "full stack"])
async def test_first_message_timeout_spares_authenticated_routes(path: str) -> None:
    limits = WebSocketLimits.recommended(first_message_timeout=0.3)
    with uvicorn_thread(build(path, limits)) as base:
        url = base.replace("http", "ws")
        async with connect(url + "/echo") as silent:
            assert await closed_with(silent) == (1008, "no message in time")
        async with connect(url + "/private?key=k1") as authenticated:
            await asyncio.sleep(0.6)  # twice the timeout: the route authenticated at the handshake
            await authenticated.send("bye")  # still open
            assert await authenticated.recv() == "hello k1: bye"
        async with connect(url + "/echo") as talker:
            await talker.send("hi")
            assert await talker.recv() == "2"
            await asyncio.sleep(0.6)  # the first message came in time: no more deadline
            await talker.send("again")
            assert await talker.recv() == "5"


@pytest.mark.parametrize("path", ["direct", "full stack"])
async def test_first_message_deadline_is_met_by_the_apps_own_frames(path: str) -> None:
    """Silent clients of a push-only feed or a chat room that greets them are connections the
    app uses: kept. A protocol endpoint that greets everyone marks itself, and its silent
    clients are closed as on a route that sends nothing."""
    limits = WebSocketLimits.recommended(first_message_timeout=0.3)
    with uvicorn_thread(build(path, limits)) as base:
        url = base.replace("http", "ws")
        async with connect(url + "/feed") as reader:
            got = [await reader.recv() for _ in range(8)]  # 0.8 s: past the deadline
            assert got == [str(n) for n in range(8)]
            assert await closed_with(reader) == (1000, "")
        async with connect(url + "/room") as lurker:
            assert await lurker.recv() == "welcome"
            await asyncio.sleep(0.7)
            await lurker.send("at last")
            assert await lurker.recv() == "echo at last"
        async with connect(url + "/greeter") as silent:
            assert await silent.recv() == "connected"
            assert await closed_with(silent) == (1008, "no message in time")
        async with connect(url + "/greeter") as talker:
            assert await talker.recv() == "connected"
            await talker.send("hi")
            assert await talker.recv() == "hi"
            await asyncio.sleep(0.6)
            await talker.send("still here")
            assert await talker.recv() == "still here"


@pytest.mark.parametrize("path", ["direct", "full stack"])
async def test_rate_limit_error_mode_drops_and_keeps_the_connection(path: str) -> None:
    limits = WebSocketLimits.recommended(
        messages_per_second=0.001, burst=2, rate_limit_action="error"
    )
    with uvicorn_thread(build(path, limits)) as base:
        async with connect(base.replace("http", "ws") + "/echo") as ws:
            for text in ("a", "bb", "ccc", "dddd"):
                await ws.send(text)
            replies = [await ws.recv() for _ in range(4)]
            assert replies[:2] == ["1", "2"]
            text = "more than 0.001 messages per second; message dropped"
            error = (
                f'{{"type":"error","id":null,"code":"rate_limited","message":"{text}",'
                f'"error":{{"code":"rate_limited","message":"{text}"}}}}'
            )
            assert replies[2:] == [error, error]


@pytest.mark.parametrize("path", ["direct", "full stack"])
def test_per_client_cap_counts_remote_clients_only(path: str) -> None:
    """In-process the client is "testclient", a remote address: counted (429 past the cap)."""
    app = build(path, WebSocketLimits.recommended(max_connections_per_client=2))
    with TestClient(app) as client:
        with client.websocket_connect("/echo"), client.websocket_connect("/echo"):
            with (
                pytest.raises(WebSocketDenialResponse) as info,
                client.websocket_connect("/echo"),
            ):
                pass
            assert (info.value.status_code, info.value.text) == (
                429,
                "too many connections from this client",
            )
        with client.websocket_connect("/echo"):  # released on close
            pass


@pytest.mark.parametrize("path", ["direct", "full stack"])
async def test_loopback_peers_are_not_capped_per_client(path: str) -> None:
    app = build(path, WebSocketLimits.recommended(max_connections_per_client=2))
    with uvicorn_thread(app) as base:
        url = base.replace("http", "ws") + "/echo"
        async with connect(url) as a, connect(url) as b, connect(url) as c:
            for ws in (a, b, c):
                await ws.send("x")
                assert await ws.recv() == "1"


def test_the_first_message_sweep_stops_when_nothing_waits() -> None:
    """No timer per connection, and none left once every connection is gone."""
    app = build("direct", WebSocketLimits.recommended(first_message_timeout=0.2))
    with TestClient(app) as client:
        for _ in range(50):
            with client.websocket_connect("/echo") as ws:
                ws.send_text("x")
                assert ws.receive_text() == "1"
        limits = app._direct.limits  # type: ignore[union-attr]
        assert limits is not None
        deadline = time.monotonic() + 5
        while (limits.waiting or limits._sweep is not None) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert limits.waiting == {} and limits._sweep is None


@pytest.mark.parametrize("path", ["direct", "full stack"])
async def test_a_route_given_a_complete_configuration_replaces_the_apps_whole(path: str) -> None:
    """``limits=WebSocketLimits.none()`` on a route lifts every default there; a plain
    ``WebSocketLimits(field=...)`` changes that field only, the app's others stay."""
    app = build(path)

    async def count(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(str(len(await websocket.receive_text())))
        except WebSocketDisconnect:
            pass

    app.add_api_websocket_route("/free", count, limits=WebSocketLimits.none())
    app.add_api_websocket_route("/bigger", count, limits=WebSocketLimits(max_message_size=3 * MIB))
    with uvicorn_thread(app) as base:
        url = base.replace("http", "ws")
        async with connect(url + "/free", max_size=None) as free:
            await free.send("x" * (2 * MIB))
            assert await free.recv() == str(2 * MIB)
            for _ in range(400):  # over the default burst of 200: no rate limit either
                await free.send("y")
            assert [await free.recv() for _ in range(400)] == ["1"] * 400
        async with connect(url + "/bigger", max_size=None) as bigger:
            await bigger.send("x" * (2 * MIB))
            assert await bigger.recv() == str(2 * MIB)
            for _ in range(400):  # the app's rate limit still holds here
                await bigger.send("y")
            assert await closed_with(bigger) == (1013, "rate limit exceeded")
