"""Server spans of HTTP requests and WebSocket connections (tether.telemetry.asgi/websocket)."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from otel_helpers import points, server_spans
from tether import HTTPException, Router, Tether, WebSocket, WebSocketDisconnect
from tether.exceptions import ConfigurationError
from tether.metrics import MetricsRegistry, TetherMetrics
from tether.telemetry import TraceContextFilter
from tether.testclient import TestClient

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def test_http_span_has_template_status_parent_and_masked_query(otel: Any) -> None:
    config, exporter, reader = otel
    app = Tether(telemetry=config)
    seen: list[int] = []

    @app.get("/items/{item_id}")
    def item(item_id: int) -> int:
        seen.append(trace.get_current_span().get_span_context().span_id)
        return item_id

    response = TestClient(app).get(
        "/items/7?page=2&token=secret-value", headers={"traceparent": TRACEPARENT}
    )
    assert response.json() == 7
    (span,) = server_spans(exporter)
    assert span.name == "GET /items/{item_id}"
    assert span.context.trace_id == int(TRACE_ID, 16)
    assert span.parent is not None and span.parent.span_id == int(PARENT_ID, 16)
    (endpoint,) = [s for s in exporter.get_finished_spans() if s.name == "fastapi.endpoint"]
    assert endpoint.parent is not None and endpoint.parent.span_id == span.context.span_id
    assert seen == [endpoint.context.span_id]  # the handler runs in its operation span
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/items/{item_id}"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["url.query"] == "page=2&token=REDACTED"
    assert "secret-value" not in repr(span.attributes)
    assert span.status.status_code == StatusCode.UNSET
    (duration,) = points(reader, "http.server.request.duration")
    assert duration.count == 1 and duration.attributes["http.route"] == "/items/{item_id}"
    assert points(reader, "http.server.active_requests")[0].value == 0
    assert not trace.get_current_span().get_span_context().is_valid  # detached afterwards


@pytest.mark.parametrize(
    ("path", "status", "route", "error"),
    [
        ("/ok", 200, "/ok", None),
        ("/missing", 404, None, None),
        ("/fail", 500, "/fail", "ValueError"),
        ("/handled", 503, "/handled", "503"),
    ],
)
def test_http_statuses_and_errors(
    otel: Any, path: str, status: int, route: str | None, error: str | None
) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)

    @app.get("/ok")
    def ok() -> str:
        return "ok"

    @app.get("/fail")
    def fail() -> None:
        raise ValueError("private failure text")

    @app.get("/handled")
    def handled() -> None:
        raise HTTPException(503, "Unavailable")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get(path).status_code == status
    (span,) = server_spans(exporter)
    assert span.attributes is not None
    assert span.attributes.get("http.route") == route
    assert span.name == ("GET " + route if route else "GET")
    assert span.attributes.get("error.type") == error
    assert (span.status.status_code == StatusCode.ERROR) == (error is not None)
    assert "private failure text" not in repr(span.attributes)


def test_mounted_app_route_template_and_one_span(otel: Any) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)
    child = Tether(telemetry=config)  # traced too: still one server span per request
    router = Router()

    @router.get("/items/{item_id}")
    def item(item_id: int) -> int:
        return item_id

    @router.websocket("/rooms/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.close()

    child.include_router(router, prefix="/api")
    app.mount("/tenants/{tenant}", child)
    client = TestClient(app)
    assert client.get("/tenants/acme/api/items/4").json() == 4
    with client.websocket_connect("/tenants/acme/api/rooms/r1"):
        pass
    http, ws = server_spans(exporter)
    assert http.name == "GET /tenants/{tenant}/api/items/{item_id}"
    assert ws.name == "WS /tenants/{tenant}/api/rooms/{room}"


def test_websocket_connection_span_events_close_and_sampled_messages(otel: Any) -> None:
    config, exporter, _ = otel
    config.update(message_span_every=3, connection_events=True)
    app = Tether(telemetry=config)

    @app.websocket("/ws/{room}")
    async def echo(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        for _ in range(7):
            await websocket.send_text(await websocket.receive_text())
        await websocket.close(4000, "done, token=abc")

    with TestClient(app).websocket_connect("/ws/lobby", headers={"traceparent": TRACEPARENT}) as ws:
        for n in range(7):
            ws.send_text(f"m{n}")
            assert ws.receive_text() == f"m{n}"
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()
    (span,) = server_spans(exporter)
    assert span.name == "WS /ws/{room}"
    assert span.parent is not None and span.parent.span_id == int(PARENT_ID, 16)
    attributes = dict(span.attributes or {})
    assert attributes["network.protocol.name"] == "websocket"
    assert attributes["tether.websocket.close_code"] == 4000
    assert attributes["tether.websocket.close_initiator"] == "server"
    assert attributes["tether.websocket.close_reason"] == "done, token=***"
    assert attributes["tether.websocket.messages_received"] == 7
    assert "tether.websocket.denied" not in attributes
    assert [event.name for event in span.events] == ["websocket.accept", "websocket.close"]
    messages = [s for s in exporter.get_finished_spans() if s.name.startswith("websocket.")]
    names = sorted(s.name for s in messages)
    assert names == ["websocket.receive"] * 2 + ["websocket.send"] * 2  # messages 3 and 6
    assert {s.parent.span_id for s in messages if s.parent} == {span.context.span_id}
    indexes = sorted((s.attributes or {})["tether.websocket.message.index"] for s in messages)
    assert indexes == [3, 3, 6, 6]


def test_default_sampling_makes_no_message_span_for_a_short_connection(otel: Any) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        for _ in range(50):
            await websocket.send_text(await websocket.receive_text())

    with TestClient(app).websocket_connect("/ws") as ws:
        for n in range(50):
            ws.send_text(str(n))
            ws.receive_text()
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["fastapi.dependencies", "fastapi.endpoint", "WS /ws"]  # no message span


def test_denied_handshake_records_the_reason(otel: Any) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)

    @app.websocket("/ws")
    async def refuse(websocket: WebSocket) -> None:
        await websocket.close(1008, "bad token=abc")

    with pytest.raises(WebSocketDisconnect), TestClient(app).websocket_connect("/ws"):
        pass  # pragma: no cover
    with pytest.raises(WebSocketDisconnect), TestClient(app).websocket_connect("/nowhere"):
        pass  # pragma: no cover
    refused, unknown = server_spans(exporter)
    assert refused.attributes is not None and unknown.attributes is not None
    assert refused.attributes["tether.websocket.denied"] is True
    assert refused.attributes["tether.websocket.denial_reason"] == "bad token=***"
    assert refused.attributes["tether.websocket.close_code"] == 1008
    assert refused.status.status_code == StatusCode.UNSET
    assert unknown.name == "WS"
    assert unknown.attributes["tether.websocket.denied"] is True
    assert unknown.attributes["http.response.status_code"] == 404


@pytest.mark.parametrize(("code", "error"), [(1000, False), (1001, False), (1006, True)])
def test_client_close_codes(otel: Any, code: int, error: bool) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)

    @app.websocket("/ws")
    async def wait(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()

    # The endpoint's WebSocketDisconnect comes out of the block, as with the peer's client.
    with pytest.raises(WebSocketDisconnect), TestClient(app).websocket_connect("/ws") as ws:
        ws.close(code)
    (span,) = server_spans(exporter)
    assert (span.status.status_code == StatusCode.ERROR) == error
    assert (span.attributes or {})["tether.websocket.close_initiator"] == "client"


def test_unhandled_websocket_error_marks_the_span(otel: Any) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)

    @app.websocket("/ws")
    async def boom(websocket: WebSocket) -> None:
        await websocket.accept()
        raise RuntimeError("private")

    client = TestClient(app, raise_server_exceptions=False)
    with client.websocket_connect("/ws") as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    assert closed.value.code == 1011
    (span,) = server_spans(exporter)
    assert span.status.status_code == StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "RuntimeError"
    assert (span.attributes or {})["tether.websocket.close_code"] == 1011


def test_log_records_carry_trace_and_span_ids(otel: Any, caplog: pytest.LogCaptureFixture) -> None:
    config, exporter, _ = otel
    app = Tether(telemetry=config)
    log = logging.getLogger("tests.telemetry.app")
    log.addFilter(TraceContextFilter())

    @app.get("/")
    def index() -> str:
        log.warning("inside")
        return "ok"

    with caplog.at_level(logging.WARNING, logger="tests.telemetry.app"):
        TestClient(app).get("/", headers={"traceparent": TRACEPARENT})
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "fastapi.endpoint"]
    (record,) = [r for r in caplog.records if r.getMessage() == "inside"]
    assert record.otelTraceID == TRACE_ID
    assert record.otelSpanID == format(span.context.span_id, "016x")
    assert any(isinstance(f, TraceContextFilter) for f in logging.getLogger("tether.error").filters)


def test_exclude_and_switches(otel: Any) -> None:
    config, exporter, reader = otel
    config["exclude"] = lambda scope: scope["path"] == "/health"
    client = TestClient(Tether(telemetry=config))
    client.get("/health")
    assert not exporter.get_finished_spans() and not points(reader, "http.server.request.duration")
    client.get("/other")
    assert len(server_spans(exporter)) == 1
    TestClient(Tether(telemetry={**config, "tracing": False})).get("/x")
    assert len(server_spans(exporter)) == 1  # no new span, but a new measurement
    assert sum(p.count for p in points(reader, "http.server.request.duration")) == 2


def test_counters_are_observed_as_instruments(otel: Any) -> None:
    config, _, reader = otel
    counters = TetherMetrics(MetricsRegistry())
    app = Tether(telemetry=config, metrics=counters)

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    with TestClient(app).websocket_connect("/ws") as ws:
        ws.send_text("hello")
        ws.receive_text()
    (total,) = points(reader, "tether.connections")
    assert total.value == counters.connections_total.value == 1
    (sent,) = points(reader, "tether.messages_sent")
    assert sent.value == counters.registry.sample_value("tether_messages_sent_total") == 1


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="unknown telemetry settings"):
        Tether(telemetry={"tracing": True, "sampler": 1})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(ConfigurationError, match="message_span_every"):
        Tether(telemetry={"message_span_every": -1})


def test_without_providers_or_when_off_nothing_is_traced(otel: Any) -> None:
    app = Tether()  # default: on, but no provider is configured in this process

    @app.get("/")
    def index() -> bool:
        return trace.get_current_span().get_span_context().is_valid

    assert TestClient(app).get("/").json() is False
    assert Tether(telemetry=False)._telemetry is None


def test_an_app_without_telemetry_never_imports_opentelemetry() -> None:
    code = (
        "import sys, tether\n"
        "from tether.testclient import TestClient\n"
        "app = tether.Tether(telemetry=False)\n"
        "TestClient(app).get('/')\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_excluded_websocket_through_a_traced_mount_makes_no_span(otel: Any) -> None:
    config, exporter, reader = otel
    config["exclude"] = lambda scope: scope["type"] == "websocket"
    app, child = Tether(telemetry=config), Tether(telemetry=config)
    app.mount("/child", child)

    @child.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        assert not trace.get_current_span().get_span_context().is_valid
        await websocket.accept()
        await websocket.close()

    with TestClient(app).websocket_connect("/child/ws"):
        pass
    assert not exporter.get_finished_spans()
    assert reader.get_metrics_data() is None


def test_providers_set_after_the_app_is_built_are_used() -> None:
    # Global providers can be set once per process: a child process of its own.
    code = """
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tether import Tether
from tether.testclient import TestClient

client = TestClient(Tether())
assert client.get("/").status_code == 404
exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
assert client.get("/").status_code == 404
assert [s.name for s in exporter.get_finished_spans()] == ["GET"], exporter.get_finished_spans()
assert reader.get_metrics_data() is not None
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_frontend_requests_report_the_frontends_template(otel: Any, tmp_path: Any) -> None:
    config, exporter, reader = otel
    (tmp_path / "index.html").write_text("shell")
    (tmp_path / "site.css").write_text("css")
    app = Tether(telemetry=config)
    app.frontend("/", directory=tmp_path, fallback="index.html")
    admin = Router(prefix="/admin")
    admin.frontend("/ui", directory=tmp_path, fallback="index.html")
    app.include_router(admin, prefix="/v2")
    client = TestClient(app)

    assert client.get("/site.css").text == "css"
    assert client.get("/v2/admin/ui/users/7", headers={"accept": "text/html"}).text == "shell"
    assert client.get("/v2/admin/ui", follow_redirects=False).status_code == 307

    spans = exporter.get_finished_spans()  # the server spans only: serving is no operation
    routes = [span.attributes["http.route"] for span in spans]  # type: ignore[index]
    assert routes == ["/{path}", "/v2/admin/ui/{path}", "/v2/admin/ui/{path}"]
