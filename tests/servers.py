"""Real servers for integration tests: uvicorn in a thread or a process, and private Redis servers.

Every helper here cleans up what it starts, also when the test fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED_REDIS_URL = os.environ.get("TETHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    """Block until something accepts TCP connections on ``port``, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout} s")


@contextlib.contextmanager
def uvicorn_thread(app: Any, **config: Any) -> Iterator[str]:
    """Run ``app`` under a real uvicorn server in a background thread; yield its base URL.

    The websockets-sansio implementation is used by default because it supports the ASGI
    WebSocket denial-response extension.
    """
    import uvicorn

    port = config.pop("port", None) or free_port()
    config.setdefault("ws", "websockets-sansio")
    config.setdefault("log_level", "warning")
    config.setdefault("lifespan", "auto")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    # uvicorn may only install signal handlers in the main thread; the test keeps its own.
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class ServerProcess:
    """A uvicorn subprocess started by :func:`uvicorn_process`."""

    target: str
    port: int
    env: dict[str, str]
    args: Sequence[str]
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            self.target,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ws",
            "websockets-sansio",
            "--log-level",
            "warning",
            *self.args,
        ]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            wait_for_port(self.port, timeout)
        except TimeoutError:
            self.kill()
            raise RuntimeError(f"server {self.target} did not start:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to shut down gracefully (SIGTERM) and wait for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crashed node would go."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@contextlib.contextmanager
def uvicorn_process(
    target: str,
    *,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> Iterator[ServerProcess]:
    """Start ``python -m uvicorn target`` in a subprocess on 127.0.0.1; stop it afterwards."""
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    full_env.update(env or {})
    server = ServerProcess(target, port or free_port(), full_env, args)
    server.start()
    try:
        yield server
    finally:
        server.kill() if server.proc and server.proc.poll() is None else None
        with contextlib.suppress(OSError):
            server.log_path.unlink()


def redis_url() -> str:
    """The URL of the shared Redis server (never stopped or flushed by tests)."""
    return SHARED_REDIS_URL


class RedisServer:
    """A private ``redis-server`` on a free port, for tests that stop, pause or restart Redis."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; scripts/test installs it")
        self.binary = binary
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill()
        self.proc.wait(10)

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        if down_for:
            time.sleep(down_for)
        self.start()

    def pause(self, seconds: float) -> None:
        """Freeze the server process (SIGSTOP) for ``seconds``, then let it go on."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
