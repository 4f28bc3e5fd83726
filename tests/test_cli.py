"""The ``tether`` command line: argument handling and the route table."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from importlib import metadata

import pytest

from tether import cli


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # cli.main sets TETHER_BROKER and TETHER_WORKERS for its workers; later tests must not see them.
    for name in ("TETHER_BROKER", "TETHER_WORKERS"):
        monkeypatch.setenv(name, "")  # records the original value (or its absence) for undo
        monkeypatch.delenv(name)


def test_import_app_reports_missing_module() -> None:
    with pytest.raises(cli.CLIError, match="cannot import module 'no_such_module_xyz'"):
        cli.import_app("no_such_module_xyz:app")


def test_import_app_reports_missing_attribute() -> None:
    with pytest.raises(cli.CLIError, match="has no attribute 'nope'"):
        cli.import_app("tether.cli:nope")


def test_import_app_defaults_to_app_attribute() -> None:
    with pytest.raises(cli.CLIError, match="has no attribute 'app'"):
        cli.import_app("tether.cli")
    assert cli.import_app("tether.cli:main") is cli.main


def test_several_workers_on_the_memory_broker_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = cli.main(["run", "tether.demo.app:app", "--workers", "2"])
    err = capsys.readouterr().err
    assert status == 2
    # The advice names a Redis broker; its wording depends on whether the demo's hub follows
    # --broker or names its broker in code (an earlier import in this process may have decided).
    assert "redis://" in err
    assert "in-memory broker" in err


def test_several_workers_with_memory_url_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = cli.main(["demo", "--workers", "3", "--broker", "memory://"])
    assert status == 2
    assert "each worker would reach only its own sockets" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("broker", "message"),
    [
        ("foo://bar", "unknown channels broker scheme 'foo://'"),
        ("redis://127.0.0.1:notaport/0", "the port must be a number"),
        ("redis://127.0.0.1:6379/zero", "the database after the last '/' must be a number"),
        ("localhost:6379", "a broker URL starts with memory:// or redis://"),
    ],
)
def test_a_bad_broker_is_one_line(broker: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tether", "run", "tether.demo.app:app", "--broker", broker],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_out_of_range_is_refused(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "tether.demo.app:app", "--port", port])
    assert exited.value.code == 2
    assert "is not a port number (0 to 65535)" in capsys.readouterr().err


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tether", "--version"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"tether {metadata.version('tether')}"


def test_asyncapi_of_something_that_is_not_an_app_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["asyncapi", "tether.cli:main"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "tether.cli:main is not an app" in captured.err


def test_demo_announces_its_url_only_once_the_port_is_free() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tether", "demo", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert "open http" not in result.stdout
    assert result.stderr.strip() == (
        f"tether: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_demo_announces_its_url_only_once_its_broker_answered() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]  # bound, not listening: connections are refused
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tether", "demo", "--port", str(port)]
            + ["--broker", f"redis://127.0.0.1:{dead}/0"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert "open http" not in result.stdout, result.stdout
    assert f"127.0.0.1:{dead}" in result.stderr


def test_demo_announces_its_url_once_started() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo = subprocess.Popen(
        [sys.executable, "-m", "tether", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        line = demo.stdout.readline()  # blocks until the startup completed
        assert line.strip() == f"tether chat demo: open http://127.0.0.1:{port}/"
        # uvicorn binds right after the startup completes: the page answers within moments.
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the announced URL never answered"
                time.sleep(0.05)
    finally:
        demo.terminate()
        demo.wait(30)


def test_zero_workers_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "tether.cli:main", "--workers", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_python_dash_m_tether_shows_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tether", "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    for command in ("run", "routes", "demo", "asyncapi"):
        assert command in result.stdout


def test_routes_shows_response_models(capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    sys.path.insert(0, root)
    try:
        assert cli.main(["routes", "docs.examples.http_items:app"]) == 0
    finally:
        sys.path.remove(root)
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["METHODS", "PATH", "NAME", "RESPONSE"]
    assert ["GET,HEAD", "/items/{item_id}", "read_item", "ItemOut"] in rows
    assert ["POST", "/items/", "create_item", "201", "ItemOut"] in rows
    assert ["WS", "/ws/prices", "prices", "-"] in rows
    assert cli.response_of(object()) == "-"
