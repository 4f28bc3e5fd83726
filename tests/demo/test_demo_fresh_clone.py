"""The README's first command, ``bash scripts/demo``, from a fresh clone of the committed tree.

The clone has no virtual environment: the script creates ``.venv`` and installs tether into it
from the package index, which takes a while, hence the generous timeout. The test then loads
the page over HTTP, makes a WebSocket round trip, kills the process group and deletes the clone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers import ROOT, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]

INSTALL_TIMEOUT = 360.0


def clean_environment() -> dict[str, str]:
    """The environment of a fresh shell: no active virtualenv, no source paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.pop("TETHER_BROKER", None)
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


@contextlib.contextmanager
def fresh_clone() -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="tether-clone-"))
    try:
        subprocess.run(
            ["git", "clone", "--quiet", str(ROOT), str(parent / "tether")],
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield parent / "tether"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@contextlib.contextmanager
def running(cmd: list[str], cwd: Path, log: Any) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=clean_environment(), stdout=log, stderr=log, start_new_session=True
    )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_for_page(url: str, proc: subprocess.Popen[bytes], log: Any) -> Any:
    import httpx

    deadline = time.monotonic() + INSTALL_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"scripts/demo exited with {proc.returncode}:\n{log.read().decode()}")
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(url, timeout=2)
        time.sleep(0.5)
    log.seek(0)
    pytest.fail(f"the demo did not answer within {INSTALL_TIMEOUT} s:\n{log.read().decode()}")


async def round_trip(port: int) -> dict[str, Any]:
    import httpx
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/channels?name=Clone") as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "connected"
        await ws.send(json.dumps({"type": "subscribe", "channel": "room:fresh", "id": 1}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert reply["type"] == "reply", reply
        async with httpx.AsyncClient() as http:
            said = await http.post(
                f"http://127.0.0.1:{port}/api/rooms/fresh/messages",
                json={"name": "Clone", "text": "hello from a fresh clone"},
            )
        assert said.status_code == 200, said.text
        while True:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] == "pub":
                return frame


def test_scripts_demo_runs_from_a_fresh_clone() -> None:
    port = free_port()
    with (
        fresh_clone() as clone,
        tempfile.TemporaryFile() as log,
        running(["bash", "scripts/demo", "--port", str(port)], clone, log) as proc,
    ):
        page = wait_for_page(f"http://127.0.0.1:{port}/", proc, log)
        assert page.status_code == 200
        assert "tether chat" in page.text
        assert (clone / ".venv" / "bin" / "python").exists()
        script = wait_for_page(f"http://127.0.0.1:{port}/_tether/channels.js", proc, log)
        assert "TetherChannels" in script.text
        pub = asyncio.run(round_trip(port))
        assert pub["channel"] == "room:fresh"
        assert pub["data"]["text"] == "hello from a fresh clone"
