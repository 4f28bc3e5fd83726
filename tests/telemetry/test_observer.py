"""Operation spans, OpenTelemetry log records and telemetry data of HTTP routes
(tether.telemetry.observer); FastAPI's tests in tests/compat cover the WebSocket side."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import StatusCode
from pydantic import BaseModel

from otel_helpers import server_spans
from tether import BackgroundTasks, HTTPException, Tether, WebSocket, WebSocketDisconnect
from tether.runtime.limits import WebSocketLimits
from tether.telemetry import TelemetryData, get_telemetry_data
from tether.testclient import TestClient


class Item(BaseModel):
    name: str
    price: float


def test_http_validation_failure_logs_a_count_and_keeps_the_body(otel: Any, logs: Any) -> None:
    config, exporter, _ = otel
    seen: list[TelemetryData | None] = []

    class Observe:
        def on_emit(self, record: Any) -> None:
            seen.append(get_telemetry_data(record.log_record.context))

        def shutdown(self) -> None: ...

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    config["logger_provider"].add_log_record_processor(Observe())
    app = Tether(telemetry=config)

    @app.post("/items/{item_id}")
    async def create(item_id: int, item: Item) -> Item:
        return item  # pragma: no cover

    response = TestClient(app).post("/items/1", json={"name": "x", "price": "secret-price"})
    assert response.status_code == 422
    (record,) = logs.get_finished_logs()
    assert record.log_record.event_name == "fastapi.validation.failed"
    assert record.log_record.severity_number == SeverityNumber.WARN
    assert dict(record.log_record.attributes) == {
        "http.route": "/items/{item_id}",
        "fastapi.validation.error_count": 1,
    }
    assert "secret-price" not in repr(record.log_record.attributes)
    (data,) = seen
    assert data is not None and data.request is not None and data.websocket is None
    assert data.body == {"name": "x", "price": "secret-price"}
    assert data.errors is not None and data.errors[0]["loc"] == ("body", "price")
    (span,) = server_spans(exporter)
    assert record.log_record.span_id == span.context.span_id
    assert all(s.status.status_code == StatusCode.UNSET for s in exporter.get_finished_spans())


def test_http_exception_is_logged_once_and_marks_its_operation(otel: Any, logs: Any) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)
    failure = RuntimeError("broken")

    @app.get("/fail")
    async def fail() -> None:
        raise failure

    assert TestClient(app, raise_server_exceptions=False).get("/fail").status_code == 500
    (record,) = logs.get_finished_logs()
    assert record.log_record.event_name == "http.server.request.exception"
    assert record.log_record.exception is failure
    assert record.log_record.body == "Unhandled exception in FastAPI request"
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["fastapi.endpoint"].status.status_code == StatusCode.ERROR
    assert spans["fastapi.dependencies"].status.status_code == StatusCode.UNSET
    assert (spans["fastapi.endpoint"].attributes or {})["code.function.name"].endswith(".fail")
    assert spans["GET /fail"].status.status_code == StatusCode.ERROR


def test_serialization_span_and_no_operation_spans_when_off(otel: Any) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)

    @app.get("/item")
    async def item() -> Item:
        return Item(name="a", price=1)

    assert TestClient(app).get("/item").json() == {"name": "a", "price": 1.0}
    names = sorted(s.name for s in exporter.get_finished_spans())
    assert names == [
        "GET /item",
        "fastapi.dependencies",
        "fastapi.endpoint",
        "fastapi.serialization",
    ]
    exporter.clear()
    config["operation_spans"] = False
    quiet = Tether(telemetry=config)
    quiet.get("/item")(item)
    assert TestClient(quiet).get("/item").status_code == 200
    assert [s.name for s in exporter.get_finished_spans()] == ["GET /item"]


def test_no_data_outside_a_request_or_without_telemetry() -> None:
    app = Tether(telemetry=False)
    seen: list[TelemetryData | None] = []

    @app.get("/")
    async def index() -> str:
        seen.append(get_telemetry_data())
        return "ok"

    assert TestClient(app).get("/").text == '"ok"'
    assert seen == [None]
    assert get_telemetry_data() is None


def test_background_tasks_run_in_operation_spans(otel: Any) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)
    ran: list[str] = []

    def first() -> None:
        ran.append("first")

    async def second(word: str) -> None:
        ran.append(word)

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> str:
        tasks.add_task(first)
        tasks.add_task(second, "second")
        return "ok"

    assert TestClient(app).get("/").json() == "ok"
    assert ran == ["first", "second"]
    (server,) = server_spans(exporter)
    tasks = [s for s in exporter.get_finished_spans() if s.name == "fastapi.background_task"]
    functions = [(s.attributes or {})["code.function.name"] for s in tasks]
    assert [name.rsplit(".", 1)[-1] for name in functions] == ["first", "second"]
    assert all(s.parent is not None and s.parent.span_id == server.context.span_id for s in tasks)


def test_an_http_exception_in_a_background_task_is_logged_as_unhandled(
    otel: Any, logs: Any
) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)
    error = HTTPException(503)

    def fail() -> None:
        raise error

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> str:
        tasks.add_task(fail)
        return "ok"

    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 200
    (record,) = logs.get_finished_logs()
    assert record.log_record.event_name == "http.server.request.exception"
    assert isinstance(record.log_record.exception, RuntimeError)
    assert record.log_record.exception.__cause__ is error
    (task,) = [s for s in exporter.get_finished_spans() if s.name == "fastapi.background_task"]
    assert (task.attributes or {})["error.type"] == "tether.exceptions.HTTPException"


def test_a_traced_connection_keeps_the_apps_limits(otel: Any) -> None:
    """Traced connections keep the direct path with the endpoint's observed call: the limits
    still hold."""
    config, exporter, _ = otel
    app = Tether(telemetry=config, limits=WebSocketLimits(max_message_size=16))

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.send_text(await websocket.receive_text())

    with TestClient(app).websocket_connect("/ws") as ws:
        ws.send_text("short")
        assert ws.receive_text() == "short"
        ws.send_text("x" * 64)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1009
    (span,) = server_spans(exporter)
    assert (span.attributes or {})["tether.websocket.close_code"] == 1009
    assert [s.name for s in exporter.get_finished_spans() if s.name.startswith("fastapi.")] == [
        "fastapi.dependencies",
        "fastapi.endpoint",
    ]
