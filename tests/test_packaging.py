"""What a plain ``pip install tether`` gets: the fast JSON codec, a license setuptools accepts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tether import _json

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def project() -> dict[str, object]:
    return dict(tomllib.loads(PYPROJECT.read_text(encoding="utf-8")))


def test_the_fast_codec_is_a_dependency_not_an_extra() -> None:
    dependencies = project()["project"]["dependencies"]  # type: ignore[index]
    assert any(str(dep).startswith("orjson") for dep in dependencies)
    assert _json.CODEC == "orjson"


def test_the_license_is_an_spdx_string() -> None:
    # A {text = ...} table makes setuptools >= 77 warn on every install (PEP 639).
    assert project()["project"]["license"] == "MIT"  # type: ignore[index]
    requires = project()["build-system"]["requires"]  # type: ignore[index]
    assert "setuptools>=77" in " ".join(str(item) for item in requires)


def test_importing_tether_does_not_need_the_fast_codec() -> None:
    # Installed without its dependencies (pip --no-deps), tether still runs on the stdlib codec.
    code = "import sys; sys.modules['orjson'] = None; import tether._json as j; print(j.CODEC)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "json", result.stderr
