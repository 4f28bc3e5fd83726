"""Issue 21.3: the error middleware logs a client-chosen path as one escaped line.

``scope["path"]`` is percent-decoded: ``%0a`` in the request target became a newline in the
``tether.error`` record, so a client could write a forged log line after it.
"""

from __future__ import annotations

import logging

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from servers import uvicorn_thread
from tether import Tether, WebSocket
from tether.logsafe import printable

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def test_path_with_encoded_newline_stays_on_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Tether()

    @app.websocket("/ws/{name}")
    async def fails(websocket: WebSocket, name: str) -> None:
        await websocket.accept()
        raise RuntimeError("boom")

    # The str convertor matches anything but "/", a decoded CR LF included.
    forged = '/ws/x%0d%0a127.0.0.1 - "GET admin%3Ftoken=s3cret HTTP1.1" 200'
    with caplog.at_level(logging.ERROR, "tether.error"), uvicorn_thread(app) as base:
        url = base.replace("http://", "ws://") + forged.replace(" ", "%20").replace('"', "%22")
        async with websockets.connect(url, open_timeout=5) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
    records = [r for r in caplog.records if r.name == "tether.error"]
    assert len(records) == 1
    line = records[0].getMessage()
    assert "\n" not in line and "\r" not in line
    assert "\\x0d\\x0a127.0.0.1" in line and "s3cret" not in line


def test_printable_escapes_controls_and_masks() -> None:
    assert printable("/a\u2028b\x7f") == "/a\\u2028b\\x7f"
    assert printable("/x?token=abc") == "/x?token=***"
    assert len(printable("/" + "a" * 1000)) == 200
