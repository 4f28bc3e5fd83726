"""Issue 21.7: ``tether run`` gives uvicorn the app's ``max_message_size``.

uvicorn buffers up to 16 MiB per message before the app's own check sees anything: 20 sockets
sending unfinished fragments held 314 MiB. With ``--ws-max-size`` following the app, uvicorn
closes 1009 as soon as a message outgrows the app's cap, finished or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
import websockets

from servers import ROOT, free_port, wait_for_port
from tether import cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@contextlib.contextmanager
def tether_run(*extra: str) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT / "src")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tether", "run", "limits_app:app", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 20)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


async def _unfinished_message(port: int) -> int | None:
    """Send 8 KiB as the first fragment of a message that never ends; return the close code."""
    stop = asyncio.Event()

    async def fragments() -> AsyncIterator[str]:
        yield "x" * 8192
        await stop.wait()
        yield ""

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", ping_interval=None) as ws:
        sending = asyncio.create_task(ws.send(fragments()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws.wait_closed(), 3)
        stop.set()
        sending.cancel()
        with contextlib.suppress(BaseException):
            await sending
        return ws.close_code


async def test_tether_run_caps_uvicorn_buffer_at_the_app_limit() -> None:
    with tether_run() as port:
        assert await _unfinished_message(port) == 1009
    with tether_run("--ws-max-size", str(1 << 20)) as port:  # explicit: uvicorn holds it all
        assert await _unfinished_message(port) is None


def test_ws_max_size_reads_app_and_route_limits() -> None:
    from limits_app import app
    from tether import Tether
    from tether.limits import limits

    assert cli.ws_max_size(app) == 1024
    assert cli.ws_max_size(Tether()) == 1 << 20  # the default limits
    assert cli.ws_max_size(Tether(limits=None)) is None
    bigger = Tether(limits=app.limits)

    @bigger.websocket("/big")
    @limits(max_message_size=4096)
    async def big(websocket: object) -> None: ...

    assert cli.ws_max_size(bigger) == 4096
