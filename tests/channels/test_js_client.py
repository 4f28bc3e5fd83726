"""tether-channels.js: reconnect with jitter, recovery from the last offset, dedupe, errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tether.channels.static import CLIENT_JS_PATH

HERE = Path(__file__).resolve().parent


def test_js_client_against_a_scripted_server() -> None:
    node = shutil.which("node") or shutil.which("nodejs")
    assert node is not None, "node is needed to test the JavaScript client"
    result = subprocess.run(
        [node, str(HERE / "js_client_check.js"), str(CLIENT_JS_PATH)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip() == "ok"
