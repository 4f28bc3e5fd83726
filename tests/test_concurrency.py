"""Sync code runs in AnyIO worker threads: anyio.from_thread works in every kind of sync hook."""

import contextvars
import threading
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest

from tether.applications import Tether
from tether.background import BackgroundTasks
from tether.concurrency import iterate_in_threadpool, run_in_threadpool
from tether.params import Depends
from tether.requests import HTTPConnection
from tether.responses import JSONResponse, PlainTextResponse
from tether.testclient import TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket

seen: list[str] = []


async def tag(value: str) -> str:
    return f"loop:{value}"


def sync_dependency() -> str:
    return anyio.from_thread.run(tag, "dep")  # fails outside an AnyIO worker thread


class Refused(Exception):
    pass


def make_app() -> Tether:
    app = Tether()

    @app.exception_handler(Refused)
    def on_refused(conn: HTTPConnection, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse(anyio.from_thread.run(tag, "handler"), status_code=409)

    @app.get("/sync")
    def sync_endpoint(value: str = Depends(sync_dependency)) -> Any:
        tasks = BackgroundTasks()
        tasks.add_task(lambda: seen.append(anyio.from_thread.run(tag, "background")))
        body = {"dep": value, "endpoint": anyio.from_thread.run(tag, "endpoint")}
        return JSONResponse(body, background=tasks)

    @app.get("/refuse")
    def refuse() -> None:
        raise Refused

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, value: str = Depends(sync_dependency)) -> None:
        await websocket.accept()
        await websocket.send_text(value)
        await websocket.close()

    @app.websocket("/ws-refuse")
    async def ws_refuse(websocket: WebSocket) -> None:
        raise Refused

    return app


def test_from_thread_works_in_dependencies_endpoints_handlers_and_background_tasks() -> None:
    seen.clear()
    client = TestClient(make_app())
    response = client.get("/sync")
    assert response.json() == {"dep": "loop:dep", "endpoint": "loop:endpoint"}
    assert seen == ["loop:background"]
    assert client.get("/refuse").text == "loop:handler"
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "loop:dep"
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws-refuse"):
        pass
    assert (denied.value.status_code, denied.value.text) == (409, "loop:handler")


async def test_the_thread_limiter_bounds_concurrency_and_contextvars_are_copied() -> None:
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    limiter.total_tokens = 2
    running, peak = 0, 0
    lock = threading.Lock()
    gate = threading.Event()
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var")
    var.set("copied")

    def work() -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait(2)
        with lock:
            running -= 1
        return var.get()

    try:
        async with anyio.create_task_group() as group:
            results: list[str] = []

            async def one() -> None:
                results.append(await run_in_threadpool(work))

            for _ in range(5):
                group.start_soon(one)
            await anyio.wait_all_tasks_blocked()
            gate.set()
    finally:
        limiter.total_tokens = tokens
    assert peak == 2
    assert results == ["copied"] * 5


async def test_iterate_in_threadpool() -> None:
    assert [item async for item in iterate_in_threadpool(iter([1, 2, 3]))] == [1, 2, 3]
