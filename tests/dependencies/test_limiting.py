"""Depends(max_concurrency=N): at most N runs at once, on HTTP and WebSocket routes."""

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from tether.applications import Tether
from tether.exceptions import ConfigurationError
from tether.params import Depends
from tether.testclient import AsyncTestClient, TestClient
from tether.websockets import WebSocket


class Gauge:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


async def test_async_dependency_runs_at_most_n_at_once() -> None:
    gauge = Gauge()
    release = asyncio.Event()

    async def slow(q: str = "x") -> str:
        gauge.enter()
        await release.wait()
        gauge.leave()
        return q

    app = Tether()

    @app.get("/a")
    async def route_a(value: Annotated[str, Depends(slow, max_concurrency=2)]) -> Any:
        return {"value": value}

    @app.get("/b")
    async def route_b(value: Annotated[str, Depends(slow, max_concurrency=2)]) -> Any:
        return {"value": value}  # same dependency and limit: the same two slots

    async with AsyncTestClient(app) as client:
        calls = [asyncio.ensure_future(client.get(p)) for p in ("/a", "/b", "/a", "/b", "/a")]
        for _ in range(50):  # let every request reach the dependency or the queue
            await asyncio.sleep(0)
        assert gauge.peak == 2
        release.set()
        responses = await asyncio.gather(*calls)
    assert [r.json() for r in responses] == [{"value": "x"}] * 5
    assert gauge.peak == 2


def test_sync_dependency_and_its_parameters() -> None:
    gauge = Gauge()

    def reader(q: str) -> str:
        gauge.enter()
        gauge.leave()
        return q.upper()

    app = Tether()

    @app.get("/")
    def route(value: str = Depends(reader, max_concurrency=1)) -> Any:
        return {"value": value}

    client = TestClient(app)
    assert client.get("/?q=abc").json() == {"value": "ABC"}
    assert client.get("/").status_code == 422  # the wrapped dependency's own parameter
    app.dependency_overrides[reader] = lambda: "override"
    assert client.get("/").json() == {"value": "override"}


async def test_yield_dependency_holds_its_slot_for_the_whole_websocket() -> None:
    events: list[str] = []

    async def connection() -> AsyncIterator[str]:
        events.append("open")
        try:
            yield "conn"
        finally:
            events.append("close")

    def sync_pool() -> Iterator[str]:
        yield "sync"

    app = Tether()

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket,
        conn: Annotated[str, Depends(connection, max_concurrency=1)],
        other: Annotated[str, Depends(sync_pool, max_concurrency=3)],
    ) -> None:
        await websocket.accept()
        await websocket.send_text(f"{conn}+{other}")
        await websocket.receive_text()  # until the client leaves

    client = AsyncTestClient(app, raise_server_exceptions=False)
    first = client.websocket_connect("/ws")
    await first.start()
    assert await first.receive_text() == "conn+sync"
    second = client.websocket_connect("/ws")
    entering = asyncio.ensure_future(second.start())
    done, _ = await asyncio.wait([entering], timeout=0.2)
    assert not done  # the one slot is held by the first connection
    await first.stop()
    await entering
    assert await second.receive_text() == "conn+sync"
    await second.stop()
    assert events == ["open", "close", "open", "close"]


def test_max_concurrency_must_be_a_positive_integer() -> None:
    async def dep() -> int:
        return 1

    app = Tether()
    with pytest.raises(ConfigurationError):

        @app.get("/")
        async def route(value: int = Depends(dep, max_concurrency=0)) -> Any:
            return value
