"""Fetch FastAPI's published tests from PyPI and run them against tether.

The sdist of ``fastapi`` on PyPI carries FastAPI's ``tests/`` and ``docs_src/``. This module
downloads it with pip at test time (nothing of the peer is committed), unpacks only those two
folders and FastAPI's pytest configuration into a git-ignored cache (``.venv/peers``, or
``$TETHER_PEER_CACHE``), installs the test-only packages those tests import into a folder of
their own (appended to ``sys.path`` of the run, so tether's environment wins every tie and
tether's runtime dependencies do not change), and runs the curated modules in a subprocess
pytest with the :mod:`fastapi_alias` plugin: ``fastapi`` and ``starlette`` are tether there.

Run it alone: ``.venv/bin/python tests/peers/peer_runner.py [pytest args]`` runs the curated
list and prints pytest's report (``-k``, ``-x``, a module path: any pytest argument).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FASTAPI_VERSION = "0.165.0"  # the version the benchmarks compare with
CACHE = Path(os.environ.get("TETHER_PEER_CACHE", ROOT / ".venv" / "peers"))
# What FastAPI's curated tests import beyond tether's dev environment (FastAPI's "tests" group).
TEST_REQUIREMENTS = (
    "dirty-equals>=0.9.0",
    "inline-snapshot>=0.21.1",
    "email-validator>=2.0",  # the tutorials with EmailStr (FastAPI's "all" extra)
    "pwdlib[argon2]>=0.2.1",  # the OAuth2/JWT security tutorials
)
# Parts of the sdist the run needs: never the ``fastapi/`` package itself.
SDIST_PARTS = ("tests/", "docs_src/", "pyproject.toml")


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args], check=True
    )


def fetch_sdist(version: str = FASTAPI_VERSION) -> Path:
    """Download and unpack FastAPI's sdist (tests and docs_src only); reused across runs."""
    tree = CACHE / f"fastapi-{version}"
    if (tree / ".unpacked").exists():
        return tree
    download = CACHE / "downloads"
    archive = download / f"fastapi-{version}.tar.gz"
    if not archive.exists():
        download.mkdir(parents=True, exist_ok=True)
        _pip(
            "download",
            f"fastapi=={version}",
            "--no-binary",
            ":all:",
            "--no-deps",
            "-d",
            str(download),
        )
    prefix = f"fastapi-{version}/"
    with tarfile.open(archive) as sdist:
        members = [
            m
            for m in sdist.getmembers()
            if m.name.startswith(prefix) and m.name[len(prefix) :].startswith(SDIST_PARTS)
        ]
        sdist.extractall(CACHE, members=members, filter="data")
    if (tree / "fastapi").exists():
        raise RuntimeError(f"{tree / 'fastapi'} must not exist: it would shadow the alias")
    (tree / ".unpacked").touch()
    return tree


def install_test_requirements() -> Path:
    """The folder holding the test-only packages (pip ``--target``); reused across runs."""
    key = hashlib.sha256("\n".join(TEST_REQUIREMENTS).encode()).hexdigest()[:12]
    target = CACHE / f"deps-{key}"
    if not (target / ".installed").exists():
        _pip("install", "--target", str(target), "--upgrade", *TEST_REQUIREMENTS)
        (target / ".installed").touch()
    for peer in ("fastapi", "starlette"):
        if (target / peer).exists():
            raise RuntimeError(f"a test requirement installed {peer} into {target}")
    return target


@dataclass(frozen=True)
class Outcome:
    """One test function's result: ``passed``, ``failed``, ``error`` or ``skipped``."""

    nodeid: str
    result: str
    message: str = ""


def _nodeid(case: ET.Element) -> str:
    path = case.get("classname", "").replace(".", "/")
    name = case.get("name", "")
    file_part, _, cls = path.rpartition("/")
    # junit classnames are dotted; recover "tests/x/test_y.py::Class::name" in the usual shape.
    if cls.startswith("Test"):
        return f"{file_part}.py::{cls}::{name}"
    return f"{path}.py::{name}"


def read_junit(report: Path) -> list[Outcome]:
    """The outcomes a ``--junitxml`` report lists, in run order."""
    outcomes = []
    for case in ET.parse(report).getroot().iter("testcase"):
        result, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                result = {"failure": "failed"}.get(child.tag, child.tag)
                message = (child.get("message") or "")[:300]
                break
        outcomes.append(Outcome(_nodeid(case), result, message))
    return outcomes


def command(modules: list[str], extra: list[str], deps: Path) -> list[str]:
    """The subprocess command line: pytest behind a ``sys.path`` that ends with ``deps``."""
    boot = (
        "import site, sys; site.addsitedir(sys.argv.pop(1)); import pytest; "
        "sys.exit(pytest.main(sys.argv[1:]))"
    )
    return [
        sys.executable,
        "-c",
        boot,
        str(deps),
        "-p",
        "fastapi_alias",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:asyncio",
        "-p",
        "no:hypothesispytest",
        "--tb=short",
        "-q",
        "-rN",
        *extra,
        *modules,
    ]


def run(
    modules: list[str],
    extra: list[str] | None = None,
    junit: Path | None = None,
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``modules`` (paths inside the sdist) against tether; returns the finished process."""
    tree = fetch_sdist()
    deps = install_test_requirements()
    args = list(extra or [])
    if junit is not None:
        args.append(f"--junitxml={junit}")
    env = {**os.environ, "PYTHONPATH": str(HERE), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        command(modules, args, deps),
        cwd=tree,
        env=env,
        text=True,
        capture_output=capture,
        timeout=900,
    )


def main(argv: list[str]) -> int:
    """Run the curated list (or the paths given) and print pytest's own report."""
    paths = [a for a in argv if not a.startswith("-")]
    options = [a for a in argv if a.startswith("-")]
    if not paths:
        from fastapi_tests import CURATED

        paths = list(CURATED)
    return run(paths, options, capture=False).returncode


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
