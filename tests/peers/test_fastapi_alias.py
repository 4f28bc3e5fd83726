"""The import alias of the peer-test harness: ``fastapi`` and ``starlette`` are tether there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHECK = """
import fastapi_alias, sys
import fastapi, fastapi.testclient, fastapi.security, starlette.websockets
import tether, tether.testclient, tether.security, tether.websockets
assert fastapi.FastAPI is tether.Tether and fastapi.APIRouter is tether.Router
assert fastapi.Depends is tether.Depends and fastapi.WebSocket is tether.WebSocket
assert fastapi.testclient is tether.testclient and fastapi.security is tether.security
assert starlette.websockets is tether.websockets
assert tether.websockets.__spec__.name == "tether.websockets"
from fastapi.middleware.cors import CORSMiddleware
from tether.middleware.cors import CORSMiddleware as Ours
assert CORSMiddleware is Ours
try:
    import starlette.no_such_module
except ModuleNotFoundError as exc:
    assert "tether.no_such_module" in str(exc), exc
else:
    raise AssertionError("a missing module fell through")
print("ok")
"""


def test_peer_names_are_tether_modules() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=HERE,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(HERE), "PATH": ""},
        timeout=60,
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_alias_refuses_a_peer_imported_first() -> None:
    code = (
        "import sys, types; sys.modules['fastapi'] = types.ModuleType('fastapi'); "
        "import fastapi_alias"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(HERE), "PATH": ""},
        timeout=60,
    )
    assert done.returncode != 0
    assert "before the tether alias was installed" in done.stderr
