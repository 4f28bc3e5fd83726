"""FastAPI's BackgroundTasks and Response-parameter tutorials and tests, imports changed.

(fastapi docs_src/background_tasks tutorial001/002, response_cookies, response_headers,
response_change_status_code and their tests.)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import pytest

from tether import BackgroundTasks, Depends, Response, WebSocket, status
from tether import Tether as FastAPI
from tether.responses import JSONResponse
from tether.testclient import TestClient


def test_tutorial001(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    app = FastAPI()

    def write_notification(email: str, message: str = "") -> None:
        with open(log, mode="w") as email_file:
            content = f"notification for {email}: {message}"
            email_file.write(content)

    @app.post("/send-notification/{email}")
    async def send_notification(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(write_notification, email, message="some notification")
        return {"message": "Notification sent in the background"}

    client = TestClient(app)
    response = client.post("/send-notification/foo@example.com")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Notification sent in the background"}
    assert log.read_text() == "notification for foo@example.com: some notification"


LOG_002: list[Path] = []


def write_log(message: str) -> None:
    with open(LOG_002[0], mode="a") as log_file:
        log_file.write(message)


def get_query(background_tasks: BackgroundTasks, q: str | None = None) -> str | None:
    if q:
        message = f"found query: {q}\n"
        background_tasks.add_task(write_log, message)
    return q


app_002 = FastAPI()


@app_002.post("/send-notification/{email}")
async def send_notification(
    email: str, background_tasks: BackgroundTasks, q: Annotated[str, Depends(get_query)]
) -> dict[str, str]:
    message = f"message to {email}\n"
    background_tasks.add_task(write_log, message)
    return {"message": "Message sent"}


def test_tutorial002_tasks_from_a_dependency(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    LOG_002[:] = [log]
    client = TestClient(app_002)
    response = client.post("/send-notification/foo@example.com?q=some-query")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Message sent"}
    assert log.read_text() == "found query: some-query\nmessage to foo@example.com\n"


def test_tasks_run_after_the_response_is_sent() -> None:
    app = FastAPI()
    order: list[str] = []

    async def task() -> None:
        order.append("task")

    @app.get("/")
    async def endpoint(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(task)
        order.append("endpoint")
        return {"ok": True}

    @app.get("/own")
    async def own(tasks: BackgroundTasks) -> JSONResponse:
        tasks.add_task(task)
        return JSONResponse({"own": True})

    client = TestClient(app)
    assert client.get("/").json() == {"ok": True}
    assert order == ["endpoint", "task"]
    assert client.get("/own").json() == {"own": True}
    assert order == ["endpoint", "task", "task"]  # attached to a returned Response too


def test_response_parameter_cookies_headers_and_status() -> None:
    app = FastAPI()
    tasks = {"foo": "Listen to the Bar Fighters"}

    @app.post("/cookie-and-object/")
    def create_cookie(response: Response) -> dict[str, str]:
        response.set_cookie(key="fakesession", value="fake-cookie-session-value")
        return {"message": "Come to the dark side, we have cookies"}

    @app.get("/headers-and-object/")
    def get_headers(response: Response) -> dict[str, str]:
        response.headers["X-Cat-Dog"] = "alone in the world"
        return {"message": "Hello World"}

    @app.put("/get-or-create-task/{task_id}", status_code=200)
    def get_or_create_task(task_id: str, response: Response) -> str:
        if task_id not in tasks:
            tasks[task_id] = "This didn't exist before"
            response.status_code = status.HTTP_201_CREATED
        return tasks[task_id]

    client = TestClient(app)
    response = client.post("/cookie-and-object/")
    assert response.json() == {"message": "Come to the dark side, we have cookies"}
    assert response.cookies["fakesession"] == "fake-cookie-session-value"
    response = client.get("/headers-and-object/")
    assert response.json() == {"message": "Hello World"}
    assert response.headers["X-Cat-Dog"] == "alone in the world"
    assert int(response.headers["content-length"]) == len(response.content)
    response = client.put("/get-or-create-task/foo")
    assert (response.status_code, response.json()) == (200, "Listen to the Bar Fighters")
    response = client.put("/get-or-create-task/bar")
    assert (response.status_code, response.json()) == (201, "This didn't exist before")


def test_websocket_endpoint_tasks_run_after_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    done: list[str] = []

    def record(item: str) -> None:
        done.append(item)

    def fail() -> None:
        raise RuntimeError("task broke")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, tasks: BackgroundTasks) -> None:
        await websocket.accept()
        tasks.add_task(record, "after")
        tasks.add_task(fail)
        await websocket.send_text("hi")
        assert done == []
        await websocket.close()

    caplog.set_level(logging.ERROR, logger="tether.error")
    with TestClient(app).websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "hi"
    assert done == ["after"]
    failures = [r for r in caplog.records if "task broke" in (r.exc_text or "")]
    assert len(failures) == 1
