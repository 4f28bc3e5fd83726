"""Issue 21.9: no token reaches the log, even at --log-level trace.

Before: a percent-encoded parameter name (``tok%65n=``) escaped masking, uvicorn's trace-level
scope dump (``uvicorn.asgi``) was not filtered, and a ``bearer.<token>`` subprotocol was
logged in clear by the handshake's debug lines.
"""

from __future__ import annotations

import pytest
import websockets

from servers import ROOT, uvicorn_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize("level", ["debug", "trace"])
async def test_tokens_stay_out_of_debug_and_trace_logs(level: str) -> None:
    import os

    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT / "src")])}
    with uvicorn_process("logmask_app:app", env=env, args=["--log-level", level]) as server:
        url = f"{server.ws_url}/ws?tok%65n=SECRETQ1&room=1&access_token=SECRETQ2"
        async with websockets.connect(
            url,
            subprotocols=["chat", "bearer.SECRETP3"],
            ping_interval=None,  # type: ignore[list-item]
        ) as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"
        server.stop()
        log = server.log()
    assert "room=1" in log  # the handshake was logged at all
    assert "SECRET" not in log, [line for line in log.splitlines() if "SECRET" in line]
