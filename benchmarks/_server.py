"""Run an app of ``apps.py`` under uvicorn in a pinned subprocess, for the end-to-end measures.

The server runs ``--ws websockets-sansio --loop uvloop`` with access logs off, pinned to CPU 0
with ``taskset`` (when there are at least two CPUs); load generators pin themselves to CPU 1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_CPU = "0"
CLIENT_CPU = "1"


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: str, argv: list[str]) -> list[str]:
    """``argv`` prefixed with ``taskset -c cpu`` when pinning is possible here."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", cpu, *argv]
    return argv


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on port {port} within {timeout} s")


@contextlib.contextmanager
def uvicorn_server(
    target: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[int, int]]:
    """Start ``uvicorn apps:<target>`` pinned to CPU 0; yield ``(port, pid)``; stop it after."""
    port = free_port()
    argv = [
        sys.executable, "-m", "uvicorn", f"apps:{target}", "--app-dir", str(HERE),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--no-access-log",
        "--ws", "websockets-sansio", "--loop", "uvloop", "--backlog", "8192",
    ]  # fmt: skip
    env = {**os.environ, **(extra_env or {})}
    proc = subprocess.Popen(pinned(SERVER_CPU, argv), env=env, cwd=HERE)
    try:
        _wait_listening(port, proc)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by every thread of process ``pid`` (ns resolution, schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread may end while we read
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def run_client(argv: list[str], timeout: float = 300.0) -> str:
    """Run a load-generator command pinned to CPU 1; return its stdout; raise on failure."""
    done = subprocess.run(
        pinned(CLIENT_CPU, [sys.executable, *argv]),
        cwd=HERE, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout
