"""Streaming responses on a real uvicorn: the source is closed when the client leaves, a drain
ends open streams cleanly, JSON lines arrive as they are produced."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from servers import uvicorn_thread
from tether import Request, Tether
from tether.sse import EventSourceResponse, ServerSentEvent

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

WAIT = 10.0


def make_app() -> tuple[Tether, dict[str, threading.Event]]:
    app = Tether()
    flags = {name: threading.Event() for name in ("async_closed", "sync_closed", "drained")}

    @app.get("/forever", response_class=EventSourceResponse)
    async def forever() -> AsyncIterator[ServerSentEvent]:
        try:
            n = 0
            while True:
                n += 1
                yield ServerSentEvent(data=n, id=str(n))
                await asyncio.sleep(0.01)
        finally:
            flags["async_closed"].set()

    @app.get("/forever-sync", response_class=EventSourceResponse)
    def forever_sync() -> Iterator[dict[str, int]]:
        try:
            n = 0
            while True:
                n += 1
                yield {"n": n}
                time.sleep(0.01)
        finally:
            flags["sync_closed"].set()

    @app.get("/quiet", response_class=EventSourceResponse)
    async def quiet() -> AsyncIterator[dict[str, str]]:
        yield {"hello": "world"}
        await asyncio.Event().wait()  # nothing more, ever: only a drain ends this stream

    @app.post("/drain")
    async def drain(request: Request) -> dict[str, int]:
        flags["drained"].set()
        return {"closed": await request.app.drain()}

    @app.get("/lines")
    async def lines() -> AsyncIterator[dict[str, int]]:
        for n in range(3):
            yield {"n": n}
            await asyncio.sleep(0.05)

    return app, flags


def wait_for(flag: threading.Event) -> None:
    assert flag.wait(WAIT), "the condition did not come true in time"


@pytest.mark.parametrize(
    ("path", "flag"), [("/forever", "async_closed"), ("/forever-sync", "sync_closed")]
)
def test_source_is_closed_when_the_client_goes_away(path: str, flag: str) -> None:
    app, flags = make_app()
    with uvicorn_thread(app) as url, httpx.Client(base_url=url, timeout=WAIT) as client:
        with client.stream("GET", path) as response:
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            for line in response.iter_lines():
                if line.startswith("data: ") and json.loads(line[6:]) in (3, {"n": 3}):
                    break
        wait_for(flags[flag])


def test_drain_ends_open_streams_cleanly() -> None:
    app, flags = make_app()
    with uvicorn_thread(app) as url, httpx.Client(base_url=url, timeout=WAIT) as client:
        with client.stream("GET", "/quiet") as response:
            lines = response.iter_lines()
            assert next(lines) == 'data: {"hello":"world"}'
            threading.Thread(
                target=lambda: httpx.post(url + "/drain", timeout=WAIT), daemon=True
            ).start()
            rest = list(lines)  # ends only when the server completes the response
        assert rest == [""]
        wait_for(flags["drained"])
        # A stream opened while the app drains ends at once (the client goes elsewhere).
        late = client.get("/quiet")
        assert late.status_code == 200
        assert late.text == ""


def test_json_lines_stream_as_produced() -> None:
    app, _ = make_app()
    with (
        uvicorn_thread(app) as url,
        httpx.Client(base_url=url, timeout=WAIT) as client,
        client.stream("GET", "/lines") as response,
    ):
        assert response.headers["content-type"] == "application/jsonl"
        assert response.headers.get("transfer-encoding") == "chunked"
        received = [json.loads(line) for line in response.iter_lines() if line]
    assert received == [{"n": 0}, {"n": 1}, {"n": 2}]
