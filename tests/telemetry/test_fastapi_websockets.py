"""FastAPI's published telemetry tests for WebSocket routes, run against tether.

From ``tests/test_telemetry/test_websockets.py`` of FastAPI (MIT licence, Sebastián Ramírez),
the tests whose subject tether implements, with the imports changed and nothing else
(``fastapi`` -> ``tether``, ``starlette.websockets`` -> ``tether.websockets``, ``.conftest``
-> ``otel_helpers``). The others (``test_disabled_and_excluded_connections`` included: it calls
``get_telemetry_data()``) need that function, operation spans or
OpenTelemetry log records, which tether does not have yet (docs/observability.md, "Not
yet"), or expect the test client to re-raise a client's close (tether's does not:
docs/compat.md).
"""

import pytest
from opentelemetry.trace import StatusCode
from otel_helpers import server_spans

from tether import Tether as FastAPI
from tether import WebSocket, WebSocketException
from tether.testclient import TestClient
from tether.websockets import WebSocketDisconnect


def test_handled_websocket_exception(telemetry, logs):
    config, exporter, _ = telemetry
    app = FastAPI(telemetry=config)

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket):
        raise WebSocketException(code=1008)

    with pytest.raises(WebSocketDisconnect) as caught, TestClient(app).websocket_connect("/ws"):
        pass  # pragma: no cover
    assert caught.value.code == 1008
    assert len(server_spans(exporter)) == 1
    assert not logs.get_finished_logs()
    assert all(
        span.status.status_code == StatusCode.UNSET for span in exporter.get_finished_spans()
    )
