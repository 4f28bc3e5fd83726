"""Channels knows how many processes serve the app, and a memory broker is never split.

Unit tests read the worker count off environments and command lines; the integration tests
start real servers (``tether run`` and ``python -m uvicorn`` with ``--workers 2``) on the apps of
``worker_apps.py`` and a private Redis.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers import ROOT, RedisServer, free_port
from tether.channels import Channels
from tether.channels.errors import ProcessSplit
from tether.channels.processes import serving_processes
from tether.exceptions import StartupRefused

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["/venv/bin/uvicorn", "app:app", "--workers", "4"], {}, 4),
        (["/venv/bin/uvicorn", "app:app", "--workers=3"], {}, 3),
        (["/usr/lib/python3/site-packages/uvicorn/__main__.py", "a:b", "--workers", "2"], {}, 2),
        (["/venv/bin/uvicorn", "app:app", "--ws", "wsproto"], {"WEB_CONCURRENCY": "5"}, 5),
        (["/venv/bin/uvicorn", "app:app"], {}, 1),
        (["/venv/bin/gunicorn", "-w", "3", "-k", "uvicorn.workers.UvicornWorker", "a:b"], {}, 3),
        (["/venv/bin/gunicorn", "-w6", "a:b"], {}, 6),
        (["/venv/bin/gunicorn", "a:b"], {"WEB_CONCURRENCY": "2"}, 2),
        (["/venv/bin/granian", "--interface", "asgi", "--workers", "2", "a:b"], {}, 2),
        (["/venv/bin/hypercorn", "-w", "2", "a:b"], {}, 2),
        (["/venv/bin/pytest", "-w", "9"], {"WEB_CONCURRENCY": "9"}, 1),  # not a server
        (["/venv/bin/uvicorn", "a:b", "--workers", "8"], {"TETHER_WORKERS": "1"}, 1),
        (["python"], {"TETHER_WORKERS": "2"}, 2),
    ],
)
def test_serving_processes(argv: list[str], environ: dict[str, str], expected: int) -> None:
    assert serving_processes(environ, argv) == expected


def test_a_bad_explicit_worker_count_is_an_error() -> None:
    with pytest.raises(ValueError, match="TETHER_WORKERS must be a positive integer"):
        serving_processes({"TETHER_WORKERS": "two"}, [])


async def test_a_memory_hub_refuses_to_start_in_one_of_several_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TETHER_WORKERS", "3")
    monkeypatch.delenv("TETHER_BROKER", raising=False)
    hub = Channels()
    with pytest.raises(ProcessSplit) as refused:
        await hub.start()
    assert isinstance(refused.value, StartupRefused)
    message = str(refused.value)
    assert "\n" not in message
    assert "3 worker processes" in message and "TETHER_BROKER" in message
    monkeypatch.setenv("TETHER_WORKERS", "1")
    async with hub:
        assert hub.health()["ok"]


# -- real servers ---------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TETHER_BROKER", "TETHER_WORKERS")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT / "src")])
    env.update(extra)
    return env


@contextlib.contextmanager
def started(cmd: list[str], env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Any]]:
    """Start ``cmd`` in its own process group; kill the whole group afterwards."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd, cwd=HERE, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            yield proc, log
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def output(log: Any) -> str:
    log.seek(0)
    return str(log.read().decode(errors="replace"))


def wait_serving(port: int, proc: subprocess.Popen[bytes], log: Any, pids: int = 1) -> set[int]:
    """Poll ``/health`` until ``pids`` distinct processes answered (or fail with the log)."""
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}):\n{output(log)}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                body = json.loads(answer.read())
            seen.add(body.get("pid") or body["node"])
            if len(seen) >= pids:
                return seen
        time.sleep(0.05)
    raise AssertionError(f"not serving on {port}:\n{output(log)}")


def tether_run(target: str, *args: str, port: int) -> list[str]:
    return [sys.executable, "-m", "tether", "run", target, "--port", str(port), *args]


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.mark.integration
@pytest.mark.redis
def test_tether_run_refuses_workers_for_an_app_with_a_memory_broker(redis: RedisServer) -> None:
    # The README's tour named Channels("memory://"); with --broker redis:// it used to start,
    # and each worker kept its own broker (4 of 6 sockets got a message).
    cmd = tether_run("worker_apps:memory_app", "--workers", "2", "--broker", redis.url, port=0)
    result = subprocess.run(cmd, cwd=HERE, env=_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "in-memory broker" in lines[0]
    assert "named in code wins over --broker" in lines[0]


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.parametrize(
    ("target", "extra"),
    [
        ("worker_apps:echo_app", []),  # no channels at all: nothing to split
        ("worker_apps:redis_app", []),  # its own redis:// broker, no --broker needed
        ("worker_apps:default_app", ["--broker"]),  # Channels() follows --broker
    ],
)
def test_tether_run_allows_workers_when_the_app_can_share(
    redis: RedisServer, target: str, extra: list[str]
) -> None:
    port = free_port()
    args = ["--workers", "2", *([extra[0], redis.url] if extra else [])]
    env = _env(WORKER_TEST_REDIS=redis.url)
    with started(tether_run(target, *args, port=port), env) as (proc, log):
        assert len(wait_serving(port, proc, log, pids=2)) == 2
        text = output(log)
        assert "Traceback" not in text, text


def _no_tether_frames(text: str) -> None:
    """The refusal is one line: gunicorn's arbiter may print its own HaltServer traceback when a
    worker fails to boot (it does so depending on timing), but no frame of tether's may appear."""
    frames = [line for line in text.splitlines() if line.strip().startswith('File "')]
    ours = [line for line in frames if "src/tether/" in line or "site-packages/tether/" in line]
    assert not ours, text


@pytest.mark.integration
def test_raw_uvicorn_workers_refuse_a_memory_broker_in_one_line() -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "worker_apps:memory_app", "--workers", "2"]
    cmd += ["--port", str(port), "--lifespan", "on"]
    with started(cmd, _env()) as (proc, log):
        proc.wait(60)
        text = output(log)
    # uvicorn's parent stops when a worker fails its startup (its own exit status is 0).
    refusals = [line for line in text.splitlines() if "ProcessSplit:" in line]
    assert refusals, text
    assert "2 worker processes serve this app" in refusals[0]
    _no_tether_frames(text)
    assert "stopping the parent process" in text


@pytest.mark.integration
def test_broker_for_an_app_without_channels_is_a_warning() -> None:
    port = free_port()
    cmd = tether_run("worker_apps:echo_app", "--broker", "redis://127.0.0.1:6379/0", port=port)
    with started(cmd, _env()) as (proc, log):
        wait_serving(port, proc, log)
        assert "--broker is ignored: worker_apps:echo_app builds no channels hub" in output(log)


def gunicorn(target: str, port: int) -> list[str]:
    # gunicorn forks its workers: they see the master's command line, "-w 2" included.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-k",
        "uvicorn.workers.UvicornWorker",
        "--bind",
        f"127.0.0.1:{port}",
        target,
    ]


@pytest.mark.integration
def test_gunicorn_workers_refuse_a_memory_broker_in_one_line() -> None:
    with started(gunicorn("worker_apps:memory_app", free_port()), _env()) as (proc, log):
        proc.wait(60)
        text = output(log)
    refusals = [line for line in text.splitlines() if "ProcessSplit:" in line]
    assert refusals, text
    assert "2 worker processes serve this app" in refusals[0]
    _no_tether_frames(text)


@pytest.mark.integration
@pytest.mark.redis
def test_gunicorn_workers_share_a_redis_broker(redis: RedisServer) -> None:
    port = free_port()
    env = _env(TETHER_BROKER=redis.url)
    with started(gunicorn("worker_apps:default_app", port), env) as (proc, log):
        assert len(wait_serving(port, proc, log, pids=2)) == 2


@pytest.mark.integration
def test_broker_for_an_app_that_names_its_own_is_a_warning() -> None:
    port = free_port()
    cmd = tether_run("worker_apps:memory_app", "--broker", "redis://127.0.0.1:6379/0", port=port)
    with started(cmd, _env()) as (proc, log):
        wait_serving(port, proc, log)
        assert (
            "--broker is ignored: worker_apps:memory_app names its broker in code (memory://)"
            in output(log)
        )
