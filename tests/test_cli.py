"""The ``tether`` command line: argument handling and the route table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tether import cli


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
    status = cli.main(["run", "tether.cli:main", "--workers", "2"])
    err = capsys.readouterr().err
    assert status == 2
    assert "--broker redis://" in err
    assert "in-memory broker" in err


def test_several_workers_with_memory_url_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["demo", "--workers", "3", "--broker", "memory://"])
    assert status == 2
    assert "shared channels broker" in capsys.readouterr().err


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
