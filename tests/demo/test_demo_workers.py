"""``tether demo --workers 2`` on Redis: a message published in one worker reaches the other.

The demo runs as the CLI starts it, in a process group of its own. WebSocket connections are
opened until both worker processes hold some (each names its process in the ``connected``
frame); then a socket on one worker publishes and a socket on the other receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from servers import ROOT, free_port, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.redis]

MAX_SOCKETS = 64


@contextlib.contextmanager
def demo_process(*args: str) -> Iterator[tuple[int, subprocess.Popen[bytes], Any]]:
    """Run ``python -m tether demo ARGS --port P``; kill its whole process group afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "tether", "demo", *args, "--port", str(port)]
    cmd += ["--log-level", "warning"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
        with _stopped_at_exit(proc):
            wait_until_serving(port, proc, log)
            yield port, proc, log


@contextlib.contextmanager
def _stopped_at_exit(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # a worker left behind by its parent


def wait_until_serving(port: int, proc: subprocess.Popen[bytes], log: Any) -> None:
    """Wait for the port, failing at once (with the log) if the demo exits first."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"tether demo exited with {proc.returncode}:\n{log.read().decode()}")
        try:
            wait_for_port(port, timeout=0.5)
            return
        except TimeoutError:
            continue
    pytest.fail(f"tether demo did not listen on port {port}")


async def receive(ws: Any, kind: str, channel: str | None = None) -> dict[str, Any]:
    """The next frame of type ``kind`` (on ``channel`` if given), skipping the others."""
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] == kind and channel in (None, frame.get("channel")):
            return frame


async def one_socket_per_worker(port: int, stack: contextlib.AsyncExitStack) -> dict[str, Any]:
    """Open sockets until two processes answered; return one socket per node id."""
    import websockets

    by_node: dict[str, Any] = {}
    deadline = asyncio.get_running_loop().time() + 30
    index = 0
    # The second worker may still be starting (importing, reaching Redis) when the first one
    # listens: until it accepts too, every socket lands on the first. Keep trying a while.
    while asyncio.get_running_loop().time() < deadline:
        url = f"ws://127.0.0.1:{port}/channels?name=probe{index}"
        index += 1
        ws = await websockets.connect(url, open_timeout=20)
        hello = await receive(ws, "connected")
        if hello["node"] in by_node:
            await ws.close()
            if index % MAX_SOCKETS == 0:
                await asyncio.sleep(0.2)
            continue
        by_node[hello["node"]] = await stack.enter_async_context(_closing(ws))
        if len(by_node) == 2:
            return by_node
    raise AssertionError(f"{index} sockets in 30 s all landed on {list(by_node)}")


@contextlib.asynccontextmanager
async def _closing(ws: Any) -> Any:
    try:
        yield ws
    finally:
        await ws.close()


async def cross_workers(port: int, supervisor_pid: int) -> None:
    async with contextlib.AsyncExitStack() as stack:
        by_node = await one_socket_per_worker(port, stack)
        pids = {int(node.rsplit("-", 1)[1]) for node in by_node}
        assert len(pids) == 2 and supervisor_pid not in pids
        (node_a, sender), (node_b, listener) = by_node.items()
        for ws in (sender, listener):
            for channel in ("typing:crossing", "room:crossing"):
                await ws.send(json.dumps({"type": "subscribe", "channel": channel, "id": channel}))
                reply = await receive(ws, "reply")
                assert reply["id"] == channel, reply

        ping = {"name": "probe", "client": node_a, "typing": True}
        await sender.send(
            json.dumps({"type": "publish", "channel": "typing:crossing", "data": ping, "id": 7})
        )
        crossed = await receive(listener, "pub", "typing:crossing")
        assert crossed["data"] == ping

        import httpx

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            said = await http.post(
                "/api/rooms/crossing/messages", json={"name": "Ada", "text": "to every worker"}
            )
        assert said.status_code == 200, said.text
        for ws in (sender, listener):
            pub = await receive(ws, "pub", "room:crossing")
            assert (pub["offset"], pub["data"]["text"]) == (
                said.json()["offset"],
                "to every worker",
            )
        assert node_b != node_a


def test_a_message_crosses_between_two_workers(demo_redis_broker: str) -> None:
    with demo_process("--workers", "2", "--broker", demo_redis_broker) as (port, proc, log):
        try:
            asyncio.run(cross_workers(port, proc.pid))
        except BaseException:
            log.seek(0)
            print(log.read().decode(errors="replace"))
            raise


def test_several_workers_on_the_memory_broker_are_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tether", "demo", "--workers", "2", "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "TETHER_BROKER": ""},
    )
    assert result.returncode == 2
    assert "each worker would reach only its own sockets" in result.stderr
