"""auto_configure (tether.telemetry.environment): OTLP export set up from OTEL_* variables.

A real OTLP/HTTP receiver stands in for the collector: an HTTP server on a free port that
records each export request's path and body size, so the test sees what the SDK's exporter
really sent over the network.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tether import Tether
from tether.exceptions import ConfigurationError
from tether.telemetry.environment import export_endpoint
from tether.testclient import TestClient


class Collector:
    """Records (path, body size) of every POST; answers 200 with an empty protobuf body."""

    def __init__(self) -> None:
        self.received: list[tuple[str, int]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                size = int(self.headers.get("content-length", "0"))
                self.rfile.read(size)
                collector.received.append((self.path, size))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def paths(self) -> set[str]:
        return {path for path, size in self.received if size > 0}


@pytest.fixture
def collector(clean_otel_environment: None) -> Iterator[Collector]:
    receiver = Collector()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_explicit_providers_get_an_exporter_flushed_at_shutdown(
    otel: Any, logs: Any, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, exporter, _ = otel
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url + "/")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    app = Tether(telemetry=config)

    @app.get("/fail")
    async def fail() -> None:
        raise RuntimeError("broken")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/fail").status_code == 500
    assert len(exporter.get_finished_spans()) == 3  # the test's exporter still gets them all
    assert collector.paths() == {"/v1/traces", "/v1/logs"}  # metrics: OTEL_METRICS_EXPORTER


def test_without_an_endpoint_or_with_auto_configure_off_nothing_is_added(
    otel: Any, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _, _ = otel
    app = Tether(telemetry=config)
    with TestClient(app) as client:
        client.get("/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", collector.url + "/v1/traces")
    config["auto_configure"] = False
    with TestClient(Tether(telemetry=config)) as client:
        client.get("/")
    assert collector.received == []


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER=otlp"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "http/protobuf only"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "collector:4318", "absolute http(s) URL"),
    ],
)
def test_what_it_cannot_set_up_fails_the_startup(
    monkeypatch: pytest.MonkeyPatch,
    clean_otel_environment: None,
    variable: str,
    value: str,
    words: str,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        export_endpoint("TRACES")


def test_endpoints_per_signal_and_switches(
    monkeypatch: pytest.MonkeyPatch, clean_otel_environment: None
) -> None:
    assert export_endpoint("TRACES") is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example:4318/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs.example/ingest")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    assert export_endpoint("TRACES") == "https://otel.example:4318/v1/traces"
    assert export_endpoint("LOGS") == "http://logs.example/ingest"
    assert export_endpoint("METRICS") is None


def test_a_default_app_installs_global_providers_from_the_environment(
    collector: Collector,
) -> None:
    # Global providers can be set once per process: a fresh interpreter.
    code = textwrap.dedent(
        """
        from opentelemetry import trace
        from tether import Tether
        from tether.testclient import TestClient

        app = Tether()

        @app.get("/")
        async def index() -> str:
            return "ok"

        with TestClient(app) as client:
            assert client.get("/").json() == "ok"
            assert type(trace.get_tracer_provider()).__name__ == "TracerProvider"
        """
    )
    environment = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=environment)
    assert {"/v1/traces", "/v1/metrics"} <= collector.paths()


def test_an_unsupported_exporter_stops_the_app_from_starting(
    otel: Any, monkeypatch: pytest.MonkeyPatch, clean_otel_environment: None
) -> None:
    config, _, _ = otel
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    app = Tether(telemetry=config)
    with pytest.raises(ConfigurationError, match="auto_configure"), TestClient(app):
        pass  # pragma: no cover
