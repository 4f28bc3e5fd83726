"""tether.responses (plus background and concurrency): HTTP and WebSocket denial scopes."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from tether.background import BackgroundTask, BackgroundTasks
from tether.concurrency import iterate_in_threadpool, run_in_threadpool
from tether.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)


async def call(
    app: Any, scope_type: str = "http", incoming: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    queue = list(incoming or [])
    gate = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await gate.wait()  # an HTTP client that stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": scope_type, "path": "/", "headers": []}, receive, send)
    return sent


def headers_of(message: dict[str, Any]) -> dict[bytes, bytes]:
    return dict(message["headers"])


@pytest.mark.parametrize("scope_type", ["http", "websocket"])
async def test_plain_response_in_both_scopes(scope_type: str) -> None:
    prefix = "websocket." if scope_type == "websocket" else ""
    start, body = await call(PlainTextResponse("héllo", status_code=403), scope_type)
    assert start["type"] == prefix + "http.response.start" and start["status"] == 403
    assert headers_of(start) == {
        b"content-length": b"6",
        b"content-type": b"text/plain; charset=utf-8",
    }
    assert body == {"type": prefix + "http.response.body", "body": "héllo".encode()}


def test_init_headers_rules() -> None:
    assert Response(status_code=204).raw_headers == []
    assert Response(b"x", headers={"Content-Length": "9"}).headers["content-length"] == "9"
    assert (
        Response(media_type="text/html; charset=latin-1").headers["content-type"]
        == "text/html; charset=latin-1"
    )
    assert HTMLResponse("<p>").headers["content-type"] == "text/html; charset=utf-8"
    assert Response(b"x", media_type="image/png").headers["content-type"] == "image/png"


def test_json_and_redirect() -> None:
    response = JSONResponse({"ü": [1, None]})
    assert response.body == '{"ü":[1,null]}'.encode() and response.media_type == "application/json"
    redirect = RedirectResponse("/a b?x=ü")
    assert redirect.status_code == 307 and redirect.headers["location"] == "/a%20b?x=%C3%BC"


def test_cookies() -> None:
    response = Response()
    response.set_cookie("sid", "abc", max_age=60, httponly=True, secure=True, samesite="strict")
    response.delete_cookie("old")
    cookies = response.headers.getlist("set-cookie")
    assert (
        cookies[0].startswith("sid=abc;")
        and "HttpOnly" in cookies[0]
        and "Max-Age=60" in cookies[0]
    )
    assert "SameSite=strict" in cookies[0] and "Secure" in cookies[0]
    assert cookies[1].startswith("old=") and "Max-Age=0" in cookies[1]
    with pytest.raises(ValueError):
        response.set_cookie("x", samesite="bogus")  # type: ignore[arg-type]


async def test_streaming_http_and_background() -> None:
    ran: list[str] = []

    async def chunks() -> Any:
        yield "a"
        yield b"b"

    task = BackgroundTask(ran.append, "done")
    sent = await call(StreamingResponse(chunks(), media_type="text/plain", background=task))
    assert [(m["type"], m.get("body"), m.get("more_body")) for m in sent] == [
        ("http.response.start", None, None),
        ("http.response.body", b"a", True),
        ("http.response.body", b"b", True),
        ("http.response.body", b"", False),
    ]
    assert ran == ["done"]


async def test_streaming_stops_when_http_client_disconnects() -> None:
    async def forever() -> Any:
        while True:
            yield b"x"
            await asyncio.sleep(0)

    sent = await call(StreamingResponse(forever()), incoming=[{"type": "http.disconnect"}])
    assert sent[-1].get("more_body") is not False


@pytest.mark.parametrize("scope_type", ["http", "websocket"])
async def test_file_response(tmp_path: Path, scope_type: str) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"x" * (64 * 1024 + 3))
    sent = await call(FileResponse(path, filename="naïve.txt"), scope_type)
    headers = headers_of(sent[0])
    assert headers[b"content-length"] == str(64 * 1024 + 3).encode()
    assert b"etag" in headers and b"last-modified" in headers
    assert headers[b"content-disposition"] == b"attachment; filename*=utf-8''na%C3%AFve.txt"
    assert b"".join(m["body"] for m in sent[1:]) == path.read_bytes()
    assert sent[-1]["more_body"] is False
    assert all(m["type"].startswith("websocket.") == (scope_type == "websocket") for m in sent)


async def test_file_response_head_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    path.write_text("<p>")
    sent = await call(FileResponse(path, method="HEAD"))
    assert headers_of(sent[0])[b"content-type"].startswith(b"text/html")
    assert sent[1]["body"] == b""
    ws_sent = await call(FileResponse(path, method="HEAD"), "websocket")
    assert ws_sent[1]["body"] == b"<p>"  # a denial always carries its body
    with pytest.raises(RuntimeError, match="no file"):
        await call(FileResponse(tmp_path / "missing"))


async def test_background_tasks_order_and_threads() -> None:
    seen: list[Any] = []

    async def async_task(value: int) -> None:
        seen.append(value)

    def sync_task(value: int) -> None:
        seen.append((value, threading.current_thread() is threading.main_thread()))

    tasks = BackgroundTasks()
    tasks.add_task(async_task, 1)
    tasks.add_task(sync_task, 2)
    assert tasks.tasks[0].is_async and not tasks.tasks[1].is_async
    await tasks()
    assert seen == [1, (2, False)]


async def test_concurrency_helpers() -> None:
    assert await run_in_threadpool(lambda a, b=0: a + b, 1, b=2) == 3
    assert [x async for x in iterate_in_threadpool(iter([1, 2]))] == [1, 2]
