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

    def __init__(self, port: int | None = None, extra_args: Sequence[str] = ()) -> None:
        self.extra_args = list(extra_args)
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
                *self.extra_args,
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


def redis_cli(port: int, *args: str) -> str:
    """Run one ``redis-cli`` command against 127.0.0.1:``port``; its output, stripped."""
    return subprocess.run(
        ["redis-cli", "-p", str(port), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.strip()


class SentinelGroup:
    """A master, a replica and three Sentinels (quorum 2) on free ports, all private.

    ``url`` is the ``redis+sentinel://`` URL of the group. ``failover()`` asks a Sentinel to
    promote the replica; ``kill_master()`` kills the master with SIGKILL (the Sentinels then
    agree that it is down and fail over). Every process is killed on exit.
    """

    SERVICE = "tethermaster"

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="tether-sentinel-")
        self._sentinels: list[subprocess.Popen[bytes]] = []
        self._build()

    def _build(self) -> None:
        """The processes' ports, picked now."""
        # The replica writes the snapshot of its first sync to its directory: not the cwd.
        here = ["--dir", self._dir, "--dbfilename", "replica.rdb"]
        self.master = RedisServer(extra_args=["--dir", self._dir])
        self.replica = RedisServer(
            extra_args=[*here, "--replicaof", "127.0.0.1", str(self.master.port)]
        )
        self.sentinel_ports = [free_port() for _ in range(3)]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.SERVICE}/0"

    def start(self, attempts: int = 3) -> SentinelGroup:
        """Start every process and wait until the group is ready. An attempt that fails (a
        port picked free and taken before a server bound it, under a parallel load: the
        replica then never syncs) is tried again on new ports; nothing is left running."""
        for attempt in range(attempts):
            try:
                self._start_once()
                return self
            except (RuntimeError, OSError, TimeoutError, subprocess.SubprocessError):
                self.stop()
                if attempt == attempts - 1:
                    raise
                os.makedirs(self._dir, exist_ok=True)  # stop() removed it
                self._sentinels = []
                self._build()
            except BaseException:
                self.stop()
                raise
        return self

    def _start_once(self) -> None:
        self.master.start()
        self.replica.start()
        for port in self.sentinel_ports:
            config = Path(self._dir) / f"sentinel-{port}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self._dir}\n"
                f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {self.SERVICE} 1000\n"
                f"sentinel failover-timeout {self.SERVICE} 4000\n"
            )
            assert self.master.binary is not None
            self._sentinels.append(
                subprocess.Popen(
                    [self.master.binary, str(config), "--sentinel"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            wait_for_port(port)
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        """Until the replica is in sync and every Sentinel knows it and the two others (the
        Sentinels announce themselves every 2 s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready():
                return
            time.sleep(0.1)
        raise RuntimeError("the Sentinel group did not come up in time")

    def _ready(self) -> bool:
        if "master_link_status:up" not in redis_cli(self.replica.port, "INFO", "replication"):
            return False
        for port in self.sentinel_ports:
            replicas = redis_cli(port, "SENTINEL", "REPLICAS", self.SERVICE)
            others = redis_cli(port, "SENTINEL", "SENTINELS", self.SERVICE)
            if str(self.replica.port) not in replicas or others.count("127.0.0.1") < 2:
                return False
        return True

    def master_port(self) -> int:
        """The port of the master the first Sentinel names now."""
        answer = redis_cli(
            self.sentinel_ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.SERVICE
        )
        return int(answer.split()[-1])

    def failover(self) -> None:
        """``SENTINEL FAILOVER``: the replica becomes master, the master a replica."""
        redis_cli(self.sentinel_ports[0], "SENTINEL", "FAILOVER", self.SERVICE)

    def kill_master(self) -> None:
        """SIGKILL the current master; the Sentinels must notice and promote the replica."""
        for server in (self.master, self.replica):
            if server.proc is not None and server.port == self.master_port():
                server.stop()
                return

    def stop(self) -> None:
        """Kill every process of the group and remove its directory."""
        for proc in self._sentinels:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self.replica.stop()
        self.master.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> SentinelGroup:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisClusterGroup:
    """Six ``redis-server --cluster-enabled yes`` processes on free ports, made into a cluster
    of three masters with one replica each by ``redis-cli --cluster create``. All private.

    ``url`` is the ``redis+cluster://`` URL (every node as a seed). Every process is killed
    on exit, also when the start fails half way.

    ``masters=1, replicas=0`` makes a cluster of one node, which takes every slot itself
    (``redis-cli --cluster create`` wants three masters): the benchmarks compare it with three.
    """

    def __init__(self, masters: int = 3, replicas: int = 1) -> None:
        if masters < 3 and (masters, replicas) != (1, 0):
            raise ValueError("a cluster has three masters or more, or one node alone")
        self._dir = tempfile.mkdtemp(prefix="tether-cluster-")
        self._masters = masters
        self.replicas = replicas
        self.servers = self._build()

    def _build(self) -> list[RedisServer]:
        """The servers, on ports (and bus ports) picked now."""
        return [
            RedisServer(
                extra_args=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"{self._dir}/nodes-{index}.conf",
                    "--cluster-node-timeout",
                    "1000",
                    # the default bus port (port + 10000) may be taken, or past 65535
                    "--cluster-port",
                    str(free_port()),
                    "--dir",
                    self._dir,
                ]
            )
            for index in range(self._masters * (1 + self.replicas))
        ]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{server.port}" for server in self.servers)
        return f"redis+cluster://{hosts}/"

    def start(self, attempts: int = 3) -> RedisClusterGroup:
        """Start the servers and make the cluster; a failed attempt (a port picked free and
        taken before the server bound it, under a parallel load) is tried again on new ports."""
        for attempt in range(attempts):
            try:
                self._start_once()
                return self
            except subprocess.CalledProcessError:
                self.stop()
                if attempt == attempts - 1:
                    raise
                os.makedirs(self._dir, exist_ok=True)  # stop() removed it, and the nodes' files
                self.servers = self._build()
            except BaseException:
                self.stop()
                raise
        return self

    def _start_once(self) -> None:
        for server in self.servers:
            server.start()
        if len(self.servers) == 1:
            redis_cli(self.servers[0].port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        else:
            self._create()
        self.wait_until_ok()
        self._wait_for_replicas()

    def _create(self) -> None:
        """``redis-cli --cluster create`` over every node, ``replicas`` per master."""
        done = subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{server.port}" for server in self.servers),
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            ],
            capture_output=True,
            check=False,
            timeout=30,
            text=True,
        )
        if done.returncode != 0:  # what redis-cli said, not only its exit status
            raise subprocess.CalledProcessError(
                done.returncode, done.args, done.stdout[-2000:], done.stderr[-2000:]
            )

    def alive(self) -> list[RedisServer]:
        return [s for s in self.servers if s.proc is not None and s.proc.poll() is None]

    def wait_until_ok(self, timeout: float = 30.0) -> None:
        """Until every live node says ``cluster_state:ok`` and agrees on who owns each slot."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.SubprocessError):
                alive = self.alive()
                states = [redis_cli(s.port, "CLUSTER", "INFO") for s in alive]
                views = {self._masters_seen_by(s.port) for s in alive}
                if all("cluster_state:ok" in state for state in states) and len(views) == 1:
                    return
            time.sleep(0.1)
        raise RuntimeError("the Redis cluster did not become ok in time")

    def _wait_for_replicas(self, timeout: float = 30.0) -> None:
        """Until every replica finished its first sync: a replica that never had a link to
        its master counts its data as too old to take over, and no failover happens."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            roles = [redis_cli(s.port, "INFO", "replication") for s in self.alive()]
            replicas = [role for role in roles if "role:slave" in role]
            expected = len(self.servers) - len(self.servers) // (1 + self.replicas)
            if len(replicas) == expected and all(
                "master_link_status:up" in role for role in replicas
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("the replicas of the Redis cluster did not sync in time")

    def _masters_seen_by(self, port: int) -> str:
        """One node's view of the slot owners (to see when the nodes agree)."""
        lines = redis_cli(port, "CLUSTER", "NODES").splitlines()
        owners = sorted(
            " ".join([line.split()[1].split("@")[0], *line.split()[8:]])
            for line in lines
            if "master" in line.split()[2] and "fail" not in line.split()[2]
        )
        return "|".join(owners)

    def slot_of(self, key: str) -> int:
        return int(redis_cli(self.servers[0].port, "CLUSTER", "KEYSLOT", key))

    def owner_of(self, slot: int) -> RedisServer:
        """The live master serving ``slot`` (as the first live node sees it)."""
        for line in redis_cli(self.alive()[0].port, "CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" not in fields[2] or "fail" in fields[2]:
                continue
            for span in fields[8:]:
                low, _, high = span.partition("-")
                if not span.startswith("[") and int(low) <= slot <= int(high or low):
                    port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
                    return next(s for s in self.servers if s.port == port)
        raise LookupError(f"no master serves slot {slot}")

    def _server_at(self, address: str) -> RedisServer:
        port = int(address.split("@")[0].rsplit(":", 1)[1])
        return next(s for s in self.servers if s.port == port)

    def replica_of(self, master: RedisServer) -> RedisServer:
        """A live replica that follows ``master``."""
        master_id = redis_cli(master.port, "CLUSTER", "MYID")
        for line in redis_cli(master.port, "CLUSTER", "REPLICAS", master_id).splitlines():
            fields = line.split()
            if "fail" not in fields[2] and "connected" in fields:
                return self._server_at(fields[1])
        raise LookupError(f"no replica follows 127.0.0.1:{master.port}")

    def failover(self, slot: int) -> RedisServer:
        """``CLUSTER FAILOVER`` on the replica of ``slot``'s master; return the old master."""
        master = self.owner_of(slot)
        redis_cli(self.replica_of(master).port, "CLUSTER", "FAILOVER")
        return master

    def kill_master(self, slot: int) -> RedisServer:
        """SIGKILL the master of ``slot``; its replica must be elected in its place."""
        master = self.owner_of(slot)
        master.stop()
        return master

    def restart_shard(self, slot: int, down_for: float = 1.0) -> RedisServer:
        """SIGKILL the master of ``slot`` and its replica, then start both again: they rejoin
        with their cluster config but no data (nothing is saved). Return the master."""
        master = self.owner_of(slot)
        replica = self.replica_of(master)
        replica.stop()
        master.stop()
        time.sleep(down_for)
        master.start()
        replica.start()
        self.wait_until_ok()
        return master

    def migrate(self, slot: int, pause: float = 0.05) -> RedisServer:
        """Move ``slot`` to another master, key by key (``pause`` seconds between keys, so
        that traffic meets the half-moved slot), as ``redis-cli --cluster reshard`` does.
        Return the new owner."""
        source = self.owner_of(slot)
        masters = {self.owner_of(s).port: self.owner_of(s) for s in (0, 8000, 16383)}
        target = next(server for port, server in masters.items() if port != source.port)
        source_id = redis_cli(source.port, "CLUSTER", "MYID")
        target_id = redis_cli(target.port, "CLUSTER", "MYID")
        redis_cli(target.port, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id)
        redis_cli(source.port, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id)
        while keys := redis_cli(source.port, "CLUSTER", "GETKEYSINSLOT", str(slot), "1").split():
            redis_cli(source.port, "MIGRATE", "127.0.0.1", str(target.port), "", "0", "5000",
                      "KEYS", *keys)  # fmt: skip
            time.sleep(pause)
        for server in (target, source, *masters.values()):
            redis_cli(server.port, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)
        return target

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisClusterGroup:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
