"""docs/examples/observability.py: one message traced from the socket through the channel."""

from __future__ import annotations

import json
import logging
from typing import Any

from docs.examples import observability

from otel_helpers import points, server_spans
from tether.testclient import TestClient


def test_a_message_is_traced_from_socket_to_publish_to_delivery(otel: Any) -> None:
    config, exporter, reader = otel
    app = observability.create_app(config)
    with TestClient(app) as client:
        with client.websocket_connect("/rooms/lobby") as ws:
            ws.send_text("hello")
            frame = json.loads(ws.receive_text())
            assert frame["data"] == {"text": "hello"}
        assert client.get("/rooms/lobby/history").json() == ['{"text":"hello"}']
    connection = next(s for s in server_spans(exporter) if s.name == "WS /rooms/{room}")
    spans = exporter.get_finished_spans()
    (publish,) = [s for s in spans if s.name == "publish room"]
    (deliver,) = [s for s in spans if s.name == "deliver room"]
    (endpoint,) = [
        s
        for s in spans
        if s.name == "fastapi.endpoint" and s.context.trace_id == connection.context.trace_id
    ]
    assert endpoint.parent is not None and endpoint.parent.span_id == connection.context.span_id
    assert publish.parent is not None and publish.parent.span_id == endpoint.context.span_id
    assert deliver.parent is not None and deliver.parent.span_id == publish.context.span_id
    assert {s.context.trace_id for s in (connection, publish, deliver)} == {
        connection.context.trace_id
    }
    assert any(s.name == "GET /rooms/{room}/history" for s in server_spans(exporter))
    assert points(reader, "tether.channel.published")[0].value >= 1


def test_log_format_has_the_ids() -> None:
    observability.setup_logging()
    handler = logging.getLogger("chat").handlers[-1]
    record = logging.LogRecord("chat", logging.INFO, __file__, 1, "x", None, None)
    assert handler.filter(record)
    assert "trace=00000000000000000000000000000000" in handler.format(record)
    logging.getLogger("chat").removeHandler(handler)
